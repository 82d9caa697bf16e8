// Tests of eddy::topic_config: validation, retention by count (offsets keep growing), retention
// by age in virtual time (exact boundary), and what a new group sees after retention.
#include <eddy/bus/topic_config.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

using eddy::task;
using eddy::topic_config;
using eddy::virtual_time_scheduler;
using bus_t = eddy::event_bus<virtual_time_scheduler>;
using offsets = std::vector<std::uint64_t>;
using namespace std::chrono_literals;

namespace {
task<void> publish_n(bus_t* bus, int n) {
    for (int i = 0; i < n; ++i) {
        co_await bus->publish("t", "k", i);
    }
}
task<std::optional<eddy::record<int>>> pull(eddy::stream<eddy::record<int>>* s) {
    co_return co_await s->next();
}
} // namespace

TEST_CASE("topic_config::validate names the bad field", "[bus][topic_config]") {
    REQUIRE_NOTHROW(topic_config{}.validate());
    REQUIRE(topic_config{}.partitions == 1);
    REQUIRE_THROWS_AS(topic_config{.partitions = 0}.validate(), eddy::error);
    REQUIRE_THROWS_WITH(topic_config{.partitions = 0}.validate(),
                        Catch::Contains("partitions must be at least 1"));
    REQUIRE_THROWS_WITH(topic_config{.retention_age = -1s}.validate(),
                        Catch::Contains("retention_age must not be negative"));
    REQUIRE(topic_config{.partitions = 2} == topic_config{.partitions = 2});
    REQUIRE_FALSE(topic_config{.partitions = 2} == topic_config{.partitions = 3});
}

TEST_CASE("retention by count drops the oldest records; offsets keep growing",
          "[bus][topic_config]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.retention_count = 3});
    vt.run(publish_n(&bus, 5));
    REQUIRE(bus.begin_offsets("t") == offsets{2});
    REQUIRE(bus.end_offsets("t") == offsets{5});
    auto s = bus.consume<int>("t", "new"); // a new group starts at the earliest retained
    auto r = vt.run(pull(&s));
    REQUIRE(r->offset == 2);
    REQUIRE(r->value == 2);
    REQUIRE(bus.lag("t", "new") == offsets{3});
}

TEST_CASE("retention by age follows virtual time exactly", "[bus][topic_config]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.retention_age = 10s});
    vt.run(publish_n(&bus, 1)); // offset 0 at 0s
    vt.advance(4s);
    vt.run(publish_n(&bus, 1)); // offset 1 at 4s
    vt.advance(10s - 4s - 1ns);
    REQUIRE(bus.begin_offsets("t") == offsets{0}); // 9.999999999s: both retained
    vt.advance(1ns);
    REQUIRE(bus.begin_offsets("t") == offsets{1}); // 10s: offset 0 is gone
    vt.advance(4s);
    REQUIRE(bus.begin_offsets("t") == offsets{2}); // 14s: both gone
    REQUIRE(bus.end_offsets("t") == offsets{2});
    vt.run(publish_n(&bus, 1));
    auto s = bus.consume<int>("t", "g");
    REQUIRE(vt.run(pull(&s))->offset == 2);
}

TEST_CASE("retention by count and age together", "[bus][topic_config]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 1, .retention_count = 2, .retention_age = 5s});
    vt.run(publish_n(&bus, 3));
    REQUIRE(bus.begin_offsets("t") == offsets{1}); // count
    vt.advance(5s);
    REQUIRE(bus.begin_offsets("t") == offsets{3}); // age
}
