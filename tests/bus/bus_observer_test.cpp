// Tests of eddy::bus_observer and eddy::topic_stats: exact counters per topic (published,
// delivered, retried, dead-lettered) with two groups, the dead-letter alert's content, an alert
// that throws, and no state shared between buses.
#include <eddy/bus/bus_observer.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

using eddy::record;
using eddy::task;
using eddy::topic_stats;
using eddy::virtual_time_scheduler;
using bus_t = eddy::event_bus<virtual_time_scheduler>;
using namespace std::chrono_literals;

namespace {

task<void> judge(int v) {
    if (v < 0) {
        throw std::runtime_error("negative " + std::to_string(v));
    }
    co_return;
}

struct judge_handler {
    task<void> operator()(const record<int>& r) const { return judge(r.value); }
};

// Two groups (2 and 3 attempts, 1s apart) handle 1, -1, 2, -2 on one partition.
task<void> scenario(bus_t* bus, virtual_time_scheduler* vt) {
    eddy::subscription a = bus->subscribe<int>(
        "t", "a", judge_handler{}, {.retry = {.initial_interval = 1s, .max_attempts = 2}});
    eddy::subscription b = bus->subscribe<int>(
        "t", "b", judge_handler{}, {.retry = {.initial_interval = 1s, .max_attempts = 3}});
    for (int v : {1, -1, 2, -2}) {
        co_await bus->publish("t", "k", v);
    }
    co_await vt->schedule_after(1h);
    co_await a.stop();
    co_await b.stop();
}

} // namespace

TEST_CASE("stats count published, delivered, retried and dead-lettered per topic",
          "[bus][bus_observer]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    bus.create_topic<int>("other");
    REQUIRE(bus.stats("t") == topic_stats{});
    vt.run(scenario(&bus, &vt));
    // 4 records x 2 groups delivered; retries: group a 1 per poison (2), group b 2 per poison (4).
    REQUIRE(bus.stats("t") ==
            topic_stats{.published = 4, .delivered = 8, .retried = 6, .dead_lettered = 4});
    REQUIRE(bus.stats("t.DLQ") == topic_stats{.published = 4});
    REQUIRE(bus.stats("other") == topic_stats{});
    // Another bus counts its own topics only.
    bus_t fresh(vt);
    fresh.create_topic<int>("t");
    REQUIRE(fresh.stats("t") == topic_stats{});
}

TEST_CASE("on_dead_letter alerts once per dead letter with where and why", "[bus][bus_observer]") {
    virtual_time_scheduler vt;
    std::vector<eddy::dead_letter_alert> alerts;
    bus_t bus(vt, eddy::bus_observer{.on_dead_letter = [&](const eddy::dead_letter_alert& a) {
                  alerts.push_back(a);
              }});
    bus.create_topic<int>("t");
    vt.run(scenario(&bus, &vt));
    REQUIRE(alerts.size() == 4);
    const auto& first = alerts.front();
    REQUIRE(first.topic == "t");
    REQUIRE(first.group == "a");
    REQUIRE(first.partition == 0);
    REQUIRE(first.offset == 1);
    REQUIRE(first.dlq_offset == 0);
    REQUIRE(first.error_type == typeid(std::runtime_error).name());
    REQUIRE(first.error_message == "negative -1");
    REQUIRE(first.attempts == 2);
    std::vector<std::string> who;
    for (const auto& a : alerts) {
        who.push_back(a.group + ":" + std::to_string(a.offset) + ":" + std::to_string(a.attempts));
    }
    std::sort(who.begin(), who.end());
    REQUIRE(who == std::vector<std::string>{"a:1:2", "a:3:2", "b:1:3", "b:3:3"});
}

TEST_CASE("an alert that throws does not block the partition", "[bus][bus_observer]") {
    virtual_time_scheduler vt;
    int calls = 0;
    bus_t bus(vt, eddy::bus_observer{.on_dead_letter = [&](const eddy::dead_letter_alert&) {
                  ++calls;
                  throw std::runtime_error("pager down");
              }});
    bus.create_topic<int>("t");
    vt.run(scenario(&bus, &vt));
    REQUIRE(calls == 4);
    REQUIRE(bus.lag("t", "a") == std::vector<std::uint64_t>{0});
    REQUIRE(bus.lag("t", "b") == std::vector<std::uint64_t>{0});
}
