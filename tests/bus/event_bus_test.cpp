// Tests of eddy::event_bus: topics (creation, errors, dead-letter topic), publish (partition by a
// stable hash, offsets per partition, timestamps in virtual time), the pull form `consume`
// (order per partition, commit on the next pull, redelivery of an uncommitted record, two
// groups), lag, begin/end offsets.
#include <eddy/bus/event_bus.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <eddy/bus/detail/fnv1a.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/stream.hpp>

using eddy::publish_result;
using eddy::record;
using eddy::task;
using eddy::virtual_time_scheduler;
using bus_t = eddy::event_bus<virtual_time_scheduler>;
using namespace std::chrono_literals;

namespace {

struct pulled {
    std::size_t partition;
    std::uint64_t offset;
    std::string key;
    int value;
    friend bool operator==(const pulled&, const pulled&) = default;
};

// Pulls `n` records from `s` (waiting for them as needed).
task<std::vector<pulled>> pull_n(eddy::stream<record<int>>* s, int n) {
    std::vector<pulled> out;
    for (int i = 0; i < n; ++i) {
        std::optional<record<int>> r = co_await s->next();
        out.push_back({r->partition, r->offset, r->key, r->value});
    }
    co_return out;
}

task<publish_result> publish_one(bus_t* bus, std::string topic, std::string key, int v) {
    co_return co_await bus->publish(std::move(topic), std::move(key), v);
}

task<void> publish_keys(bus_t* bus, std::string topic, std::vector<std::string> keys) {
    int v = 0;
    for (auto& k : keys) {
        co_await bus->publish(topic, k, v++);
    }
}

// Publishes `keys` after `d` of virtual time.
task<void> publish_later(bus_t* bus, virtual_time_scheduler* vt, std::chrono::seconds d,
                         std::string topic, std::vector<std::string> keys) {
    co_await vt->schedule_after(d);
    co_await publish_keys(bus, std::move(topic), std::move(keys));
}

} // namespace

TEST_CASE("fnv1a_64 matches the published test vectors", "[bus][event_bus]") {
    STATIC_REQUIRE(eddy::detail::fnv1a_64("") == 0xcbf29ce484222325ULL);
    STATIC_REQUIRE(eddy::detail::fnv1a_64("a") == 0xaf63dc4c8601ec8cULL);
    STATIC_REQUIRE(eddy::detail::fnv1a_64("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("create_topic validates and is idempotent only for the same type and config",
          "[bus][event_bus]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    REQUIRE_THROWS_WITH(bus.create_topic<int>("t", {.partitions = 0}),
                        Catch::Contains("partitions must be at least 1"));
    REQUIRE_FALSE(bus.has_topic("t"));

    bus.create_topic<int>("t", {.partitions = 2});
    REQUIRE(bus.has_topic("t"));
    REQUIRE(bus.has_topic("t.DLQ"));
    REQUIRE(bus.end_offsets("t.DLQ").size() == 2);
    REQUIRE_NOTHROW(bus.create_topic<int>("t", {.partitions = 2}));
    REQUIRE_THROWS_AS(bus.create_topic<double>("t", {.partitions = 2}), eddy::error);
    REQUIRE_THROWS_WITH(bus.create_topic<double>("t", {.partitions = 2}),
                        Catch::Contains("exists with values of type"));
    REQUIRE_THROWS_WITH(bus.create_topic<int>("t", {.partitions = 3}),
                        Catch::Contains("exists with another configuration"));
    REQUIRE_THROWS_WITH(bus.create_topic<int>("t", {.partitions = 2, .retention_count = 5}),
                        Catch::Contains("another configuration"));
    // The dead-letter topic's name is taken: another type for "t.DLQ" is refused.
    REQUIRE_THROWS_WITH(bus.create_topic<std::string>("t.DLQ"),
                        Catch::Contains("exists with values of type"));
}

TEST_CASE("publish to an unknown topic or with another type is an eddy::error",
          "[bus][event_bus]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    REQUIRE_THROWS_WITH(vt.run(publish_one(&bus, "nope", "k", 1)),
                        Catch::Contains("unknown topic 'nope'"));
    auto wrong_type = [](bus_t* b) -> task<publish_result> {
        co_return co_await b->publish("t", "k", std::string("x"));
    };
    REQUIRE_THROWS_WITH(vt.run(wrong_type(&bus)),
                        Catch::Contains("topic 't' holds values of type"));
    REQUIRE_THROWS_AS(bus.lag("nope", "g"), eddy::error);
    REQUIRE_THROWS_AS(bus.stats("nope"), eddy::error);
    REQUIRE_THROWS_AS((void)bus.partition_for("nope", "k"), eddy::error);
    REQUIRE_THROWS_WITH(bus.consume<double>("t", "g"), Catch::Contains("holds values of type"));
    REQUIRE_THROWS_WITH(bus.consume<int>("nope", "g"), Catch::Contains("unknown topic"));
}

TEST_CASE("publish: partition is fnv1a(key) % partitions, offsets count per partition",
          "[bus][event_bus]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 8});
    // Stable across runs and platforms: the hash is FNV-1a 64 of the key's bytes.
    REQUIRE(bus.partition_for("t", "") == 0xcbf29ce484222325ULL % 8); // 5
    REQUIRE(bus.partition_for("t", "") == 5);
    REQUIRE(bus.partition_for("t", "a") == 4);

    std::vector<publish_result> results;
    for (const char* key : {"a", "", "a", "a", ""}) {
        results.push_back(vt.run(publish_one(&bus, "t", key, 0)));
    }
    REQUIRE(results == std::vector<publish_result>{{4, 0}, {5, 0}, {4, 1}, {4, 2}, {5, 1}});
    std::vector<std::uint64_t> ends = bus.end_offsets("t");
    REQUIRE(ends == std::vector<std::uint64_t>{0, 0, 0, 0, 3, 2, 0, 0});
}

TEST_CASE("consume yields records in order per partition, with key, value and timestamp",
          "[bus][event_bus]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 8});
    vt.run(publish_keys(&bus, "t", {"a", "", "a"}));
    vt.advance(5s);
    vt.run(publish_keys(&bus, "t", {"a"}));

    auto s = bus.consume<int>("t", "g");
    auto first = [](eddy::stream<record<int>>* st) -> task<std::vector<record<int>>> {
        std::vector<record<int>> out;
        for (int i = 0; i < 4; ++i) {
            std::optional<record<int>> r = co_await st->next();
            out.push_back(std::move(*r));
        }
        co_return out;
    };
    std::vector<record<int>> got = vt.run(first(&s));
    // Partitions are served round robin; within a partition, offsets in order.
    std::vector<std::string> a_order;
    std::vector<int> a_values;
    for (const auto& r : got) {
        REQUIRE(r.topic == "t");
        if (r.key == "a") {
            REQUIRE(r.partition == 4);
            a_values.push_back(r.value);
        } else {
            REQUIRE(r.partition == 5);
            REQUIRE(r.offset == 0);
            REQUIRE(r.value == 1);
            REQUIRE(r.timestamp == virtual_time_scheduler::time_point{});
        }
    }
    REQUIRE(a_values == std::vector<int>{0, 2, 0});
    REQUIRE(got.back().key == "a"); // partition 4's last record (offset 2), published at 5s
    REQUIRE(got.back().offset == 2);
    REQUIRE(got.back().timestamp == virtual_time_scheduler::time_point{} + 5s);
}

TEST_CASE("consume commits a record when the next one is pulled; lag is exact",
          "[bus][event_bus]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 1});
    vt.run(publish_keys(&bus, "t", {"k", "k", "k"}));
    {
        auto s = bus.consume<int>("t", "g");
        REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{3}); // joined, nothing pulled
        auto got = vt.run(pull_n(&s, 1));
        REQUIRE(got.front().offset == 0);
        REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{3}); // record 0 in flight
        got = vt.run(pull_n(&s, 1));
        REQUIRE(got.front().offset == 1);
        REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{2}); // 0 committed
    } // destroyed holding record 1: not committed
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{2});
    auto again = bus.consume<int>("t", "g");
    auto got = vt.run(pull_n(&again, 2));
    REQUIRE(got == std::vector<pulled>{{0, 1, "k", 1}, {0, 2, "k", 2}}); // 1 redelivered
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{1});
    REQUIRE_THROWS_WITH(bus.lag("t", "other"), Catch::Contains("no consumer group 'other'"));
}

TEST_CASE("consume waits for records and resumes when one is published", "[bus][event_bus]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 2});
    auto s = bus.consume<int>("t", "g");
    auto scenario = [](bus_t* b, virtual_time_scheduler* v,
                       eddy::stream<record<int>>* st) -> task<std::vector<pulled>> {
        // g++ 12 in a coroutine: no braced list inside a co_await expression ("array used as
        // initializer"), no structured binding of its result.
        std::vector<std::string> keys{"x", "y"};
        auto both =
            co_await eddy::when_all(publish_later(b, v, 3s, "t", std::move(keys)), pull_n(st, 2));
        co_return std::move(std::get<1>(both));
    };
    std::vector<pulled> got = vt.run(scenario(&bus, &vt, &s));
    REQUIRE(got.size() == 2);
    REQUIRE(vt.now() == virtual_time_scheduler::time_point{} + 3s);
    REQUIRE(got[0].key != got[1].key);
}

TEST_CASE("two groups each see every record; members of one group share partitions",
          "[bus][event_bus]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 2});
    std::vector<std::string> keys;
    for (int i = 0; i < 10; ++i) {
        keys.push_back("key-" + std::to_string(i));
    }
    vt.run(publish_keys(&bus, "t", keys));
    const std::vector<std::uint64_t> ends = bus.end_offsets("t");
    REQUIRE(ends[0] + ends[1] == 10);
    REQUIRE(ends[0] > 0);
    REQUIRE(ends[1] > 0);

    auto solo = bus.consume<int>("t", "one");
    auto m1 = bus.consume<int>("t", "two");
    auto m2 = bus.consume<int>("t", "two");
    // Group "one" sees all 10.
    std::vector<pulled> all = vt.run(pull_n(&solo, 10));
    std::vector<int> values;
    for (auto& p : all) {
        values.push_back(p.value);
    }
    std::sort(values.begin(), values.end());
    REQUIRE(values == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    // Group "two": m1 owns partition 0, m2 partition 1 (join order).
    std::vector<pulled> a = vt.run(pull_n(&m1, static_cast<int>(ends[0])));
    std::vector<pulled> b = vt.run(pull_n(&m2, static_cast<int>(ends[1])));
    for (std::size_t i = 0; i < a.size(); ++i) {
        REQUIRE(a[i].partition == 0);
        REQUIRE(a[i].offset == i);
    }
    for (std::size_t i = 0; i < b.size(); ++i) {
        REQUIRE(b[i].partition == 1);
        REQUIRE(b[i].offset == i);
    }
    // Only the record pulled last is uncommitted in group "one"; in "two" each member holds
    // the last record of its partition.
    std::vector<std::uint64_t> one_lag{0, 0};
    one_lag[all.back().partition] = 1;
    REQUIRE(bus.lag("t", "one") == one_lag);
    REQUIRE(bus.lag("t", "two") == std::vector<std::uint64_t>{1, 1});
}

TEST_CASE("a member leaving rebalances its partitions to the remaining member",
          "[bus][event_bus]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 2});
    std::vector<std::string> keys;
    for (int i = 0; i < 6; ++i) {
        keys.push_back("key-" + std::to_string(i));
    }
    vt.run(publish_keys(&bus, "t", keys));
    const std::vector<std::uint64_t> ends = bus.end_offsets("t");
    auto m1 = bus.consume<int>("t", "g");
    std::optional<eddy::stream<record<int>>> m2(bus.consume<int>("t", "g"));
    std::vector<pulled> b = vt.run(pull_n(&*m2, 1)); // m2 holds partition 1's offset 0
    REQUIRE(b.front().partition == 1);
    m2.reset(); // leaves without committing it
    std::vector<pulled> a = vt.run(pull_n(&m1, static_cast<int>(ends[0] + ends[1])));
    std::vector<std::uint64_t> next(2, 0);
    for (auto& p : a) { // every record of both partitions, in order per partition
        REQUIRE(p.offset == next[p.partition]);
        ++next[p.partition];
    }
    REQUIRE(next == ends);
}

TEST_CASE("a new group starts at the earliest retained offset or at the end", "[bus][event_bus]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 1});
    vt.run(publish_keys(&bus, "t", {"k", "k"}));
    auto early = bus.consume<int>("t", "early");
    auto late = bus.consume<int>("t", "late", {.start = eddy::offset_reset::latest});
    REQUIRE(bus.lag("t", "early") == std::vector<std::uint64_t>{2});
    REQUIRE(bus.lag("t", "late") == std::vector<std::uint64_t>{0});
    vt.run(publish_keys(&bus, "t", {"k"}));
    REQUIRE(vt.run(pull_n(&early, 1)).front().offset == 0);
    REQUIRE(vt.run(pull_n(&late, 1)).front().offset == 2);
}

namespace {

task<bool> pull_cancelled(eddy::stream<record<int>>* s) {
    bool cancelled = false;
    try {
        (void)co_await s->next();
    } catch (const eddy::operation_cancelled&) {
        cancelled = true;
    }
    co_return cancelled;
}

task<void> stop_after(virtual_time_scheduler* vt, std::chrono::seconds d, std::stop_source stop) {
    co_await vt->schedule_after(d);
    stop.request_stop();
}

task<bool> cancel_scenario(virtual_time_scheduler* vt, eddy::stream<record<int>>* s,
                           std::stop_source stop) {
    auto both = co_await eddy::when_all(pull_cancelled(s), stop_after(vt, 2s, stop));
    co_return std::get<0>(both);
}

} // namespace

TEST_CASE("a stop request ends a waiting next() and the consumer leaves its group at once",
          "[bus][event_bus]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    std::stop_source stop;
    auto s = eddy::with_stop_token(bus.consume<int>("t", "g"), stop.get_token());
    auto other = bus.consume<int>("t", "g"); // idle: the only partition belongs to `s`
    REQUIRE(vt.run(cancel_scenario(&vt, &s, stop)));
    REQUIRE(vt.now() == virtual_time_scheduler::time_point{} + 2s);
    vt.run(publish_keys(&bus, "t", {"k"}));
    // `s` is not destroyed, but it has left: `other` owns the partition now.
    REQUIRE(vt.run(pull_n(&other, 1)) == std::vector<pulled>{{0, 0, "k", 0}});
}
