// Tests of the idempotent producer (eddy::producer_sequence with event_bus::publish): a retried
// publish lands once and yields the original's position, sequences count per partition and per
// producer, gaps and duplicates older than the window are errors that append nothing, and
// consumers see each record once.
#include <eddy/bus/producer_sequence.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

using eddy::producer_sequence;
using eddy::publish_result;
using eddy::task;
using eddy::virtual_time_scheduler;
using bus_t = eddy::event_bus<virtual_time_scheduler>;

namespace {

task<publish_result> send(bus_t* bus, std::string key, int v, std::string producer,
                          std::uint64_t sequence) {
    producer_sequence seq{std::move(producer), sequence};
    co_return co_await bus->publish("t", std::move(key), v, {}, std::move(seq));
}

task<std::vector<int>> pull_values(eddy::stream<eddy::record<int>>* s, int n) {
    std::vector<int> out;
    for (int i = 0; i < n; ++i) {
        std::optional<eddy::record<int>> r = co_await s->next();
        out.push_back(r->value);
    }
    co_return out;
}

} // namespace

TEST_CASE("a publish retried with the same producer sequence lands once",
          "[bus][producer_sequence]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    REQUIRE(vt.run(send(&bus, "k", 10, "p1", 0)) == publish_result{0, 0});
    REQUIRE(vt.run(send(&bus, "k", 11, "p1", 1)) == publish_result{0, 1});
    // Retries of both: nothing appended, the original positions come back.
    REQUIRE(vt.run(send(&bus, "k", 11, "p1", 1)) == publish_result{0, 1});
    REQUIRE(vt.run(send(&bus, "k", 10, "p1", 0)) == publish_result{0, 0});
    REQUIRE(vt.run(send(&bus, "k", 12, "p1", 2)) == publish_result{0, 2});
    REQUIRE(bus.end_offsets("t") == std::vector<std::uint64_t>{3});
    REQUIRE(bus.stats("t").published == 3);
    REQUIRE(bus.stats("t").deduplicated == 2);
    auto s = bus.consume<int>("t", "g");
    REQUIRE(vt.run(pull_values(&s, 3)) == std::vector<int>{10, 11, 12});
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{1}); // the last one in flight
}

TEST_CASE("sequences count per producer and per partition", "[bus][producer_sequence]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 2});
    std::string k0;
    std::string k1;
    for (int i = 0; k0.empty() || k1.empty(); ++i) {
        std::string k = "key-" + std::to_string(i);
        (bus.partition_for("t", k) == 0 ? k0 : k1) = k;
    }
    REQUIRE(vt.run(send(&bus, k0, 1, "p1", 5)) == publish_result{0, 0}); // any first sequence
    REQUIRE(vt.run(send(&bus, k1, 2, "p1", 5)) == publish_result{1, 0}); // another partition
    REQUIRE(vt.run(send(&bus, k0, 3, "p2", 5)) == publish_result{0, 1}); // another producer
    REQUIRE(vt.run(send(&bus, k0, 4, "p1", 6)) == publish_result{0, 2});
    REQUIRE(vt.run(send(&bus, k0, 1, "p1", 5)) == publish_result{0, 0}); // duplicate
    REQUIRE(bus.end_offsets("t") == std::vector<std::uint64_t>{3, 1});
}

TEST_CASE("a sequence gap or a duplicate older than the window is an error",
          "[bus][producer_sequence]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    for (std::uint64_t i = 0; i < producer_sequence::window + 1; ++i) {
        REQUIRE(vt.run(send(&bus, "k", 0, "p", i)).offset == i);
    }
    REQUIRE_THROWS_WITH(vt.run(send(&bus, "k", 0, "p", 20)),
                        Catch::Contains("sequence gap for producer 'p' on topic 't' partition 0: "
                                        "sequence 20, last accepted 16"));
    REQUIRE(vt.run(send(&bus, "k", 0, "p", 1)).offset == 1); // still remembered
    REQUIRE_THROWS_WITH(vt.run(send(&bus, "k", 0, "p", 0)),
                        Catch::Contains("duplicate older than the remembered window"));
    REQUIRE(bus.end_offsets("t") == std::vector<std::uint64_t>{producer_sequence::window + 1});
    REQUIRE(vt.run(send(&bus, "k", 0, "p", 17)).offset == 17); // the next one is fine
}
