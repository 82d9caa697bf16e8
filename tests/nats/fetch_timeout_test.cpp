// Tests of the fetch-timeout paths of eddy::nats_bus (libnats before 3.6.1 had bugs there,
// nats.c #631, #637, #632): members that wait through many empty fetches, records that arrive
// as a fetch request expires, a stop while a fetch waits. [concurrency]: fetches run on
// threads of their own, handlers on a thread pool.
#include <eddy/nats/nats_bus.hpp>

#include <catch2/catch.hpp>

#include <algorithm> // std::sort
#include <chrono>    // std::chrono
#include <string>    // std::string
#include <vector>    // std::vector

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <nats/nats_harness.hpp>

namespace {

using eddy::test::bus::parcel;
using eddy::test::bus::parcel_n;
using eddy::test::nats::nats_harness;
using eddy::test::nats::test_bus;
using fetch_log = eddy::test::bus::log;

// Waits `delay` (so the consumer's fetches expire meanwhile), then publishes records
// first..first+n-1 with keys of `keys`.
eddy::task<int> publish_later(test_bus* bus, eddy::thread_pool* pool,
                              std::chrono::milliseconds delay, std::vector<std::string> keys, int n,
                              int first) {
    co_await pool->schedule_after(delay);
    co_await eddy::test::bus::publish_all(bus, "orders", std::move(keys), n, first);
    co_return n;
}

eddy::task<void> idle(eddy::thread_pool* pool, std::chrono::milliseconds d) {
    co_await pool->schedule_after(d);
}

} // namespace

TEST_CASE("nats_bus: a pull member waits through empty fetches, then gets what comes",
          "[nats][fetch][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders", {.partitions = 3});
    eddy::stream<eddy::record<parcel>> s = bus.consume<parcel>("orders", "g", {});
    // Ten fetch waits pass on every partition before anything is published.
    const auto delay = 10 * bus.options().fetch_wait;
    auto [got, published] = h.run(
        eddy::when_all(eddy::test::bus::pull_n(&s, 6),
                       publish_later(&bus, &h.pool, delay, {"a", "b", "c", "d", "e", "f"}, 6, 0)));
    REQUIRE(published == 6);
    std::vector<int> values;
    for (const eddy::record<parcel>& r : got) {
        values.push_back(r.value.n);
    }
    std::sort(values.begin(), values.end());
    REQUIRE(values == std::vector<int>{0, 1, 2, 3, 4, 5});
    std::uint64_t lag = 0;
    for (const std::uint64_t l : bus.lag("orders", "g")) {
        lag += l;
    }
    REQUIRE(lag == 1); // the last record pulled is not acknowledged yet
}

TEST_CASE("nats_bus: records arriving as fetch requests expire are each delivered once, in order",
          "[nats][fetch][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders");
    eddy::stream<eddy::record<parcel>> s = bus.consume<parcel>("orders", "g", {});
    const auto wait = bus.options().fetch_wait;
    std::vector<int> values;
    // Publish delays spread over one fetch wait and a bit beyond, in 5 ms steps: some land
    // while a request waits, some just as it expires, some between two requests.
    int n = 0;
    for (auto delay = std::chrono::milliseconds(0); delay <= wait + std::chrono::milliseconds(10);
         delay += std::chrono::milliseconds(5)) {
        auto [got, published] = h.run(eddy::when_all(
            eddy::test::bus::pull_n(&s, 1), publish_later(&bus, &h.pool, delay, {"k"}, 1, n)));
        REQUIRE(published == 1);
        REQUIRE(got.size() == 1);
        values.push_back(got[0].value.n);
        ++n;
    }
    std::vector<int> expected;
    for (int i = 0; i < n; ++i) {
        expected.push_back(i);
    }
    REQUIRE(values == expected);
    REQUIRE(bus.lag("orders", "g") == std::vector<std::uint64_t>{1});
}

TEST_CASE("nats_bus: stop() ends a member waiting in a fetch; what comes later goes to the next",
          "[nats][fetch][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders", {.partitions = 2});
    fetch_log first;
    eddy::subscription sub =
        bus.subscribe<parcel>("orders", "g", eddy::test::bus::recorder<>{&first, "first"}, {});
    h.run(idle(&h.pool, 5 * bus.options().fetch_wait)); // its fetches expire meanwhile
    h.run(sub.stop());
    h.run(eddy::test::bus::publish_all(&bus, "orders", {"x", "y"}, 4));
    fetch_log next;
    next.expected = 4;
    eddy::subscription later =
        bus.subscribe<parcel>("orders", "g", eddy::test::bus::recorder<>{&next, "next"}, {});
    h.run(eddy::test::bus::wait_then_stop(&next, {&later}));
    REQUIRE(first.attempts.empty());
    std::vector<int> values = eddy::test::bus::values(next.attempts);
    std::sort(values.begin(), values.end());
    REQUIRE(values == std::vector<int>{0, 1, 2, 3});
    REQUIRE(bus.lag("orders", "g") == std::vector<std::uint64_t>(2, 0));
}
