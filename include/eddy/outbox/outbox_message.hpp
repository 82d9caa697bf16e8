// eddy/outbox/outbox_message.hpp - eddy::outbox_message<Payload>, a message written in the same
// unit of work as the state change it announces, to be published by a relay.
#pragma once

#include <chrono>  // std::chrono::system_clock
#include <cstdint> // std::uint32_t, std::uint64_t
#include <string>  // std::string

#include <eddy/bus/headers.hpp>
#include <eddy/es/uuid.hpp>

namespace eddy {

/// Where an outbox message stands: waiting for a relay (possibly claimed by one) or published.
enum class outbox_status { pending, published };

/// One message of a transactional outbox. The caller sets what to publish: `topic`, the
/// aggregate it is about (`aggregate_type`, `aggregate_id`: the relay publishes with the
/// aggregate id as key, so one aggregate's messages stay in one partition, in order),
/// `event_type`, `payload` and `headers`; a nil `id` is given a UUID v7 by the store. The store
/// sets `sequence` (enqueue order, the relay's publishing order), `created`, `status`,
/// `attempts` (failed publishes) and `last_error`.
/// The relay adds the header `message-id` (the id) to what it publishes: consumers deduplicate
/// with it (`eddy::idempotent`).
///
///     eddy::outbox_message<order_event> m{.topic = "orders", .aggregate_type = "order",
///                                         .aggregate_id = "order-7", .event_type = "placed",
///                                         .payload = placed};
template <class Payload>
struct outbox_message {
    uuid id{};
    std::string topic;
    std::string aggregate_type;
    std::string aggregate_id;
    std::string event_type;
    Payload payload{};
    eddy::headers headers{};
    std::uint64_t sequence = 0;
    std::chrono::system_clock::time_point created{};
    outbox_status status = outbox_status::pending;
    std::uint32_t attempts = 0;
    std::string last_error{};
};

/// What an outbox store reports about itself (`stats()`): messages waiting, when the oldest of
/// them was created (empty when none wait), and how many were published since it was created.
struct outbox_stats {
    std::uint64_t pending = 0;
    std::chrono::system_clock::time_point oldest_pending{};
    std::uint64_t published = 0;

    friend bool operator==(const outbox_stats&, const outbox_stats&) = default;
};

/// The header carrying an outbox message's id on the bus.
inline constexpr const char* message_id_header = "message-id";

} // namespace eddy
