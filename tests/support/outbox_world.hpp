// tests/support/outbox_world.hpp - what the outbox tests share: a memory storage whose clock is
// a virtual-time scheduler's (so leases, created times and retention are exact), an event type
// for the aggregates, and messages for one aggregate.
#pragma once

#include <chrono>  // std::chrono::system_clock, std::chrono::duration_cast
#include <string>  // std::string, std::to_string
#include <variant> // std::variant

#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/outbox/outbox_message.hpp>

namespace eddy::test::outbox {

struct order_placed {
    static constexpr std::string_view event_name = "order_placed";
    int amount = 0;
    friend bool operator==(const order_placed&, const order_placed&) = default;
};
using order_events = std::variant<order_placed>;

/// The payload the outbox carries: which order, and a sequence number per order.
struct notice {
    std::string order;
    int n = 0;
    friend bool operator==(const notice&, const notice&) = default;
};

/// The storage clock reads the scheduler's virtual clock.
inline eddy::memory_storage storage_on(eddy::virtual_time_scheduler& vt) {
    return eddy::memory_storage([&vt] {
        return std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                vt.now().time_since_epoch()));
    });
}

/// Message `n` about order `order`, to topic "notices".
inline eddy::outbox_message<notice> message(const std::string& order, int n) {
    eddy::outbox_message<notice> m;
    m.topic = "notices";
    m.aggregate_type = "order";
    m.aggregate_id = order;
    m.event_type = "notice";
    m.payload = notice{order, n};
    return m;
}

/// The virtual time point `d` after the clock's epoch, as the storage clock shows it.
inline std::chrono::system_clock::time_point at(std::chrono::steady_clock::duration d) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(d));
}

} // namespace eddy::test::outbox
