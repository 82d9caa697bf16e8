// Tests of eddy::nats_bus's async publish: with a bound of 2 publishes awaiting the servers'
// acknowledgement, many concurrent publishers wait their turn (backpressure) and every record
// lands once, at distinct, gap-free offsets per partition. [concurrency]: publishers run on a
// thread pool, acknowledgements arrive on libnats' threads.
#include <eddy/nats/nats_bus.hpp>

#include <catch2/catch.hpp>

#include <map>    // std::map
#include <set>    // std::set
#include <string> // std::string
#include <vector> // std::vector

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <nats/nats_harness.hpp>

namespace {

using eddy::publish_result;
using eddy::test::bus::parcel;
using eddy::test::nats::test_bus;

// Publishes records first..first+n-1 from a pool thread, each awaited before the next.
eddy::task<std::vector<publish_result>> publisher(test_bus* bus, eddy::thread_pool* pool, int first,
                                                  int n) {
    co_await pool->schedule();
    // A named vector: g++ 12 miscompiles braced temporaries inside a co_await expression.
    std::vector<std::string> keys{"a", "b", "c", "d", "e"};
    co_return co_await eddy::test::bus::publish_all(bus, "orders", std::move(keys), n, first);
}

} // namespace

TEST_CASE("nats_bus: concurrent publishers beyond the pending bound all land, once each",
          "[nats][publish][concurrency]") {
    eddy::thread_pool pool(2);
    eddy::nats_bus_options o = eddy::test::nats::test_options();
    o.max_pending_publishes = 2;
    test_bus bus(pool, {}, o);
    bus.create_topic<parcel>("orders", {.partitions = 3});
    auto [a, b, c, d] = eddy::sync_wait(
        eddy::when_all(publisher(&bus, &pool, 0, 50), publisher(&bus, &pool, 50, 50),
                       publisher(&bus, &pool, 100, 50), publisher(&bus, &pool, 150, 50)));
    std::map<std::size_t, std::set<std::uint64_t>> offsets;
    std::size_t count = 0;
    for (const std::vector<publish_result>* v : {&a, &b, &c, &d}) {
        for (const publish_result& r : *v) {
            REQUIRE(offsets[r.partition].insert(r.offset).second); // never twice
            ++count;
        }
    }
    REQUIRE(count == 200);
    std::vector<std::uint64_t> ends(3, 0);
    for (const auto& [p, set] : offsets) {
        REQUIRE(*set.rbegin() + 1 == set.size()); // 0..n-1: no gap
        ends[p] = set.size();
    }
    eddy::stream<eddy::record<parcel>> s = bus.consume<parcel>("orders", "g", {});
    REQUIRE(bus.lag("orders", "g") == ends);
}
