// Tests of eddy::record and eddy::publish_result: a handler sees every field of
// the record as published (topic, partition, offset, key, headers, virtual
// timestamp, value), and the aggregate's defaults; of eddy::producer_record
// with event_bus::publish_batch (order, offsets, one timestamp, all-or-nothing
// input errors); and of what event_bus::publish returns (a lazy awaitable
// without a coroutine frame that converts to a task).
#include <eddy/bus/record.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/bus/event_bus.hpp>
#include <eddy/bus/message_bus.hpp>
#include <eddy/bus/record_too_large.hpp>
#include <eddy/core/async_event.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/stream.hpp>

using eddy::record;
using eddy::task;
using eddy::virtual_time_scheduler;
using bus_t = eddy::event_bus<virtual_time_scheduler>;
using namespace std::chrono_literals;

namespace {

struct order {
    std::string id;
    int cents = 0;
    friend bool operator==(const order&, const order&) = default;
};

struct keep {
    std::vector<record<order>>* out;
    eddy::async_event* got;
    task<void> operator()(const record<order>& r) const { return store(out, got, r); }
    static task<void> store(std::vector<record<order>>* out, eddy::async_event* got,
                            record<order> r) {
        out->push_back(std::move(r));
        got->set();
        co_return;
    }
};

task<eddy::publish_result> scenario(bus_t* bus, virtual_time_scheduler* vt,
                                    std::vector<record<order>>* out) {
    eddy::async_event got;
    eddy::subscription sub = bus->subscribe<order>("orders", "g", keep{out, &got});
    co_await vt->schedule_after(90s);
    eddy::headers h{{"trace", "t-1"}};
    // g++ 12: a temporary holding a std::string inside a co_await expression can
    // be copied bitwise into the frame (a bad free later): build the value in a
    // local first.
    order o{"o-1", 1250};
    eddy::publish_result r =
        co_await bus->publish("orders", "customer-7", std::move(o), std::move(h));
    co_await got.wait();
    co_await sub.stop();
    co_return r;
}

} // namespace

TEST_CASE("a record carries topic, partition, offset, key, headers, timestamp "
          "and value",
          "[bus][record]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<order>("orders", {.partitions = 3});
    std::vector<record<order>> got;
    const eddy::publish_result r = vt.run(scenario(&bus, &vt, &got));
    REQUIRE(r == eddy::publish_result{bus.partition_for("orders", "customer-7"), 0});
    REQUIRE(got.size() == 1);
    const record<order>& rec = got.front();
    REQUIRE(rec.topic == "orders");
    REQUIRE(rec.partition == r.partition);
    REQUIRE(rec.offset == 0);
    REQUIRE(rec.key == "customer-7");
    REQUIRE(rec.headers == eddy::headers{{"trace", "t-1"}});
    REQUIRE(rec.timestamp == virtual_time_scheduler::time_point{} + 90s);
    REQUIRE(rec.value == order{"o-1", 1250});
}

TEST_CASE("record and publish_result are plain aggregates", "[bus][record]") {
    record<int> r;
    REQUIRE(r.topic.empty());
    REQUIRE(r.partition == 0);
    REQUIRE(r.offset == 0);
    REQUIRE(r.key.empty());
    REQUIRE(r.headers.empty());
    REQUIRE(r.timestamp == record<int>::time_point{});
    const record<int> full{"t", 1, 2, "k", {{"h", "v"}}, record<int>::time_point{} + 1s, 5};
    REQUIRE(full.headers.get("h") == std::string_view("v"));
    REQUIRE(full.value == 5);
    STATIC_REQUIRE(std::is_same_v<record<int>::value_type, int>);
    REQUIRE(eddy::publish_result{1, 2} == eddy::publish_result{.partition = 1, .offset = 2});
    REQUIRE_FALSE(eddy::publish_result{1, 2} == eddy::publish_result{1, 3});
}

namespace {

using eddy::producer_record;
using eddy::publish_result;

task<std::vector<publish_result>> publish_batch(bus_t* bus, std::string topic,
                                                std::vector<producer_record<int>> records) {
    co_return co_await bus->publish_batch(std::move(topic), std::move(records));
}

task<std::vector<publish_result>> publish_batch_s(bus_t* bus,
                                                  std::vector<producer_record<std::string>> rs) {
    co_return co_await bus->publish_batch("s", std::move(rs));
}

// Awaits `op` (a publish kept aside) and returns where it landed.
template <class Op>
task<publish_result> await_later(Op op) {
    co_return co_await op;
}

task<publish_result> as_task(bus_t* bus) {
    task<publish_result> t = bus->publish("t", "a", 7); // converts; publishes when awaited
    co_return co_await std::move(t);
}

task<std::vector<publish_result>> both(bus_t* bus) {
    auto [x, y] = co_await eddy::when_all(bus->publish("t", "a", 1), bus->publish("t", "a", 2));
    co_return std::vector<publish_result>{x, y};
}

} // namespace

TEST_CASE("publish_batch appends in order, per partition by key, with one timestamp",
          "[bus][record]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 8});
    vt.advance(3s);
    std::vector<producer_record<int>> batch;
    batch.push_back({"a", 10, {}});
    batch.push_back({"", 11, {{"h", "v"}}});
    batch.push_back({"a", 12, {}});
    const std::vector<publish_result> r = vt.run(publish_batch(&bus, "t", std::move(batch)));
    // partition_for("t", "a") == 4, ("t", "") == 5 (see event_bus_test).
    REQUIRE(r == std::vector<publish_result>{{4, 0}, {5, 0}, {4, 1}});
    REQUIRE(bus.end_offsets("t") == std::vector<std::uint64_t>{0, 0, 0, 0, 2, 1, 0, 0});
    REQUIRE(bus.stats("t").published == 3);

    auto s = bus.consume<int>("t", "g");
    std::vector<record<int>> got = vt.run(eddy::test::bus::pull_n(&s, 3));
    std::vector<int> values;
    for (const record<int>& rec : got) {
        REQUIRE(rec.topic == "t");
        REQUIRE(rec.timestamp == virtual_time_scheduler::time_point{} + 3s);
        values.push_back(rec.value);
        if (rec.key.empty()) {
            REQUIRE(rec.headers.get("h") == std::optional<std::string_view>("v"));
        } else {
            REQUIRE(rec.headers.empty());
        }
    }
    std::sort(values.begin(), values.end());
    REQUIRE(values == std::vector<int>{10, 11, 12});
}

TEST_CASE("publish_batch of nothing appends nothing and still checks the topic", "[bus][record]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    REQUIRE(vt.run(publish_batch(&bus, "t", {})).empty());
    REQUIRE_THROWS_WITH(vt.run(publish_batch(&bus, "nope", {})),
                        Catch::Contains("unknown topic 'nope'"));
    REQUIRE(bus.end_offsets("t") == std::vector<std::uint64_t>{0});
}

TEST_CASE("publish_batch with one bad record appends none of the batch", "[bus][record]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<std::string>("s", {.max_record_bytes = 10});
    std::vector<producer_record<std::string>> batch;
    batch.push_back({"k", "ok", {}});
    batch.push_back({"k", "far too large", {}});
    REQUIRE_THROWS_AS(vt.run(publish_batch_s(&bus, std::move(batch))), eddy::record_too_large);
    REQUIRE(bus.end_offsets("s") == std::vector<std::uint64_t>{0});
    std::vector<producer_record<std::string>> fine;
    fine.push_back({"k", "ok", {}});
    REQUIRE(vt.run(publish_batch_s(&bus, std::move(fine))) == std::vector<publish_result>{{0, 0}});
    REQUIRE_THROWS_WITH(vt.run(publish_batch(&bus, "s", {})),
                        Catch::Contains("holds values of type"));
}

TEST_CASE("publish returns a lazy awaitable: nothing lands before it is awaited", "[bus][record]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    STATIC_REQUIRE(eddy::detail::publish_awaitable_of<decltype(bus.publish("t", "a", 1))>);
    STATIC_REQUIRE(eddy::detail::publish_awaitable_of<task<publish_result>>);
    STATIC_REQUIRE_FALSE(eddy::detail::publish_awaitable_of<publish_result>);
    auto op = bus.publish("t", "a", 1);
    vt.advance(2s);
    REQUIRE(bus.end_offsets("t") == std::vector<std::uint64_t>{0});
    REQUIRE(vt.run(await_later(std::move(op))) == publish_result{0, 0});
    REQUIRE(vt.run(as_task(&bus)) == publish_result{0, 1});
    REQUIRE(vt.run(both(&bus)) == std::vector<publish_result>{{0, 2}, {0, 3}});
    auto s = bus.consume<int>("t", "g");
    std::vector<record<int>> got = vt.run(eddy::test::bus::pull_n(&s, 4));
    REQUIRE(got[0].timestamp == virtual_time_scheduler::time_point{} + 2s); // when awaited
    REQUIRE(got[0].value == 1);
    REQUIRE(got[1].value == 7);
    REQUIRE(got[2].value == 1);
    REQUIRE(got[3].value == 2);
}
