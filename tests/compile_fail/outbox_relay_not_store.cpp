// expect: eddy::outbox_store: the store needs `task<void> mark_published
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/es/memory_unit_of_work.hpp>
#include <eddy/outbox/outbox_relay.hpp>

struct payload {};

// Everything an outbox store needs, except mark_published in the failing build.
struct half_store {
    using payload_type = payload;
    using unit_type = eddy::memory_unit_of_work;
    void enqueue(unit_type&, std::vector<eddy::outbox_message<payload>>) {}
    eddy::task<std::vector<eddy::outbox_message<payload>>>
    claim(std::string, std::size_t, std::chrono::steady_clock::duration) {
        co_return std::vector<eddy::outbox_message<payload>>{};
    }
#ifndef EDDY_COMPILE_FAIL
    eddy::task<void> mark_published(std::string, std::vector<eddy::uuid>) { co_return; }
#endif
    eddy::task<void> release(std::string, eddy::uuid, std::string) { co_return; }
    eddy::task<eddy::outbox_stats> stats() { co_return eddy::outbox_stats{}; }
    eddy::task<std::size_t> purge_published(std::chrono::steady_clock::duration) { co_return 0; }
};

struct null_bus {};

int main() {
    eddy::inline_scheduler s;
    half_store store;
    null_bus bus;
    eddy::outbox_relay<half_store, null_bus, eddy::inline_scheduler> relay(store, bus, s);
    (void)relay;
}
