// The fault test of eddy::nats_bus: on a 3-node JetStream cluster of its own (R3 file streams,
// the documented production setting), the node the bus is connected to is SIGKILLed while
// records flow and restarted later; publishers (retrying with the same message-id) and a
// consumer group go on; no acknowledged record is lost, the stream holds each record once, and
// an inbox-protected handler applies each once. [concurrency]: handlers on a thread pool,
// fetches and libnats on threads of their own.
#include <eddy/nats/nats_bus.hpp>

#include <catch2/catch.hpp>

#include <chrono>  // std::chrono
#include <mutex>   // std::mutex, std::lock_guard
#include <set>     // std::set
#include <string>  // std::string, std::to_string
#include <thread>  // std::this_thread::sleep_for
#include <variant> // std::variant
#include <vector>  // std::vector

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/core/async_event.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_any.hpp>
#include <nats/local_cluster.hpp>
#include <nats/nats_harness.hpp>

namespace {

using namespace std::chrono_literals;
using eddy::test::bus::parcel;
using eddy::test::bus::parcel_n;
using eddy::test::nats::local_cluster;
using eddy::test::nats::test_bus;

// What the inbox let through (applied once per message-id) and what it absorbed.
struct inbox {
    std::mutex mutex;
    std::set<int> applied;
    int duplicates = 0;
    std::size_t expected = 0;
    eddy::async_event done;
};

eddy::task<void> receive(inbox* box, int n) {
    bool finished = false;
    {
        std::lock_guard lock(box->mutex);
        if (!box->applied.insert(n).second) {
            ++box->duplicates; // a redelivery: the inbox absorbs it
        } else {
            finished = box->applied.size() == box->expected;
        }
    }
    if (finished) {
        box->done.set();
    }
    co_return;
}

struct inbox_handler {
    inbox* box;
    eddy::task<void> operator()(const eddy::record<parcel>& r) const {
        return receive(box, r.value.n);
    }
};

// Publishes 0..n-1 (message-id "m-<i>"), retrying each until the servers acknowledge it;
// SIGKILLs node 0 (the bus's server) at n/3 and restarts it at 2n/3. Yields the retries.
eddy::task<int> publish_through_faults(test_bus* bus, eddy::thread_pool* pool,
                                       local_cluster* cluster, int n) {
    int retries = 0;
    for (int i = 0; i < n; ++i) {
        if (i == n / 3) {
            cluster->kill(0);
        }
        if (i == 2 * n / 3) {
            cluster->start(0);
        }
        for (;;) {
            bool stored = false;
            try {
                eddy::headers h;
                h.set("message-id", "m-" + std::to_string(i));
                std::string key = "customer-" + std::to_string(i % 7);
                co_await bus->publish(std::string("payments"), std::move(key), parcel_n(i),
                                      std::move(h));
                stored = true;
            } catch (const eddy::nats_error&) {
                // the servers are failing over: try again with the same message-id
            }
            if (stored) {
                break;
            }
            if (++retries > 600) {
                throw eddy::error("publish_through_faults: the cluster did not recover");
            }
            co_await pool->schedule_after(50ms);
        }
    }
    co_return retries;
}

eddy::task<int> wait_event(eddy::async_event* e) {
    co_await e->wait();
    co_return 0;
}

eddy::task<int> wait_for(eddy::thread_pool* pool, std::chrono::seconds d) {
    co_await pool->schedule_after(d);
    co_return 1;
}

eddy::task<bool> done_within(inbox* box, eddy::thread_pool* pool, std::chrono::seconds limit) {
    const std::variant<int, int> first =
        co_await eddy::when_any(wait_event(&box->done), wait_for(pool, limit));
    co_return first.index() == 0;
}

// JetStream answers administration requests only with a meta leader (at start, and for a while
// after a node restarts): retry `f` on nats_error (at most 20 s).
template <class F>
auto when_ready(F f) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
        try {
            return f();
        } catch (const eddy::nats_error&) {
            if (std::chrono::steady_clock::now() > deadline) {
                throw;
            }
        }
        std::this_thread::sleep_for(200ms); // polling servers we started: no event to await
    }
}

} // namespace

TEST_CASE("nats_bus: a node SIGKILLed mid-stream and restarted loses nothing acknowledged",
          "[nats][fault][concurrency]") {
    local_cluster cluster;
    eddy::thread_pool pool(2);
    eddy::nats_bus_options o;
    o.urls = cluster.urls();
    o.prefix = eddy::test::nats::fresh_prefix();
    o.storage = eddy::nats_storage::file;
    o.replicas = 3;
    o.request_timeout = 2s;
    o.fetch_wait = 50ms;
    o.ack_wait = 2s;
    test_bus bus(pool, eddy::test::nats::test_codec{}, o);
    when_ready([&bus] {
        bus.create_topic<parcel>("payments", {.partitions = 2});
        return true;
    });
    constexpr int n = 300;
    inbox box;
    box.expected = n;
    eddy::subscription sub =
        bus.subscribe<parcel>("payments", "ledger", inbox_handler{&box},
                              {.retry = {.initial_interval = 10ms, .max_interval = 100ms}});
    const int retries = eddy::sync_wait(publish_through_faults(&bus, &pool, &cluster, n));
    const bool done = eddy::sync_wait(done_within(&box, &pool, 60s));
    eddy::sync_wait(sub.stop());
    INFO("publish retries " << retries << ", redeliveries absorbed " << box.duplicates);
    REQUIRE(done);
    std::set<int> all;
    for (int i = 0; i < n; ++i) {
        all.insert(i);
    }
    REQUIRE(box.applied == all); // every acknowledged record, applied once
    // The stream holds each record once (retried publishes were de-duplicated): a new group
    // has exactly n records to read.
    eddy::stream<eddy::record<parcel>> audit =
        when_ready([&bus] { return bus.consume<parcel>("payments", "audit", {}); });
    // A consumer made soon after a node's restart may be answered for by a replica still
    // catching up on the stream: its count converges (at most 20 s); more than n at any time
    // would be a record stored twice.
    std::uint64_t pending = 0;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
        const std::vector<std::uint64_t> lag =
            when_ready([&bus] { return bus.lag("payments", "audit"); });
        pending = lag[0] + lag[1];
        REQUIRE(pending <= static_cast<std::uint64_t>(n));
        if (pending == static_cast<std::uint64_t>(n) ||
            std::chrono::steady_clock::now() > deadline) {
            break;
        }
        std::this_thread::sleep_for(200ms); // polling the servers: no event to await
    }
    REQUIRE(pending == static_cast<std::uint64_t>(n));
}
