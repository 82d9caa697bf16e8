// Tests of eddy::record and eddy::publish_result: a handler sees every field of the record as
// published (topic, partition, offset, key, headers, virtual timestamp, value), and the
// aggregate's defaults.
#include <eddy/bus/record.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/async_event.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

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
    // g++ 12: a temporary holding a std::string inside a co_await expression can be copied
    // bitwise into the frame (a bad free later): build the value in a local first.
    order o{"o-1", 1250};
    eddy::publish_result r =
        co_await bus->publish("orders", "customer-7", std::move(o), std::move(h));
    co_await got.wait();
    co_await sub.stop();
    co_return r;
}

} // namespace

TEST_CASE("a record carries topic, partition, offset, key, headers, timestamp and value",
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
