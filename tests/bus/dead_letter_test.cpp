// Tests of dead-lettering: the `<topic>.DLQ` name, the exact headers and placement (same
// partition, key, value, original headers) of a dead letter, errors that are not
// std::exceptions, the partition continuing after a poison record, two groups each
// dead-lettering, and a dead-letter topic's own exhausted record stopping its member.
#include <eddy/bus/dead_letter.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/bus/event_bus.hpp>
#include <eddy/core/async_event.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

using eddy::record;
using eddy::task;
using eddy::virtual_time_scheduler;
using bus_t = eddy::event_bus<virtual_time_scheduler>;
using namespace std::chrono_literals;
namespace dlh = eddy::dead_letter_header;

namespace {

// Succeeds for values >= 0; -1 throws std::runtime_error("boom"), -2 throws an int.
task<void> judge(std::vector<int>* ok, int v) {
    if (v == -1) {
        throw std::runtime_error("boom");
    }
    if (v == -2) {
        throw 42;
    }
    ok->push_back(v);
    co_return;
}

struct judge_handler {
    std::vector<int>* ok;
    task<void> operator()(const record<int>& r) const { return judge(ok, r.value); }
};

// Starts at 100s; publishes ok(1), poison(value), ok(2) with key "k" and a trace header; one
// member of group "g" with 3 attempts (waits 1s, 2s) handles them; stops once 2 is handled.
task<void> poison_scenario(bus_t* bus, virtual_time_scheduler* vt, int poison,
                           std::vector<int>* ok) {
    co_await vt->schedule_after(100s);
    eddy::subscription sub = bus->subscribe<int>(
        "t", "g", judge_handler{ok}, {.retry = {.initial_interval = 1s, .max_attempts = 3}});
    for (int v : {1, poison, 2}) {
        eddy::headers h{{"trace", "t-" + std::to_string(v)}};
        co_await bus->publish("t", "k", v, std::move(h));
    }
    co_await vt->schedule_after(1h);
    co_await sub.stop();
}

} // namespace

TEST_CASE("dead_letter_topic appends .DLQ", "[bus][dead_letter]") {
    REQUIRE(eddy::dead_letter_topic("orders") == "orders.DLQ");
    REQUIRE(eddy::dead_letter_topic("") == ".DLQ");
}

TEST_CASE("a dead letter keeps partition, key, value and headers, and adds exact DLQ headers",
          "[bus][dead_letter]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 3});
    std::vector<int> ok;
    vt.run(poison_scenario(&bus, &vt, -1, &ok));
    REQUIRE(ok == std::vector<int>{1, 2}); // the partition went on after the poison record
    const std::size_t p = bus.partition_for("t", "k");
    std::vector<std::uint64_t> dlq_end(3, 0);
    dlq_end[p] = 1;
    REQUIRE(bus.end_offsets("t.DLQ") == dlq_end);

    auto s = bus.consume<int>("t.DLQ", "inspect");
    const record<int> dead = vt.run(eddy::test::bus::pull_n(&s, 1)).front();
    REQUIRE(dead.topic == "t.DLQ");
    REQUIRE(dead.partition == p);
    REQUIRE(dead.offset == 0);
    REQUIRE(dead.key == "k");
    REQUIRE(dead.value == -1);
    REQUIRE(dead.timestamp == virtual_time_scheduler::time_point{} + 103s);
    const eddy::headers expected{
        {"trace", "t--1"},
        {std::string(dlh::topic), "t"},
        {std::string(dlh::partition), std::to_string(p)},
        {std::string(dlh::offset), "1"},
        {std::string(dlh::group), "g"},
        {std::string(dlh::error_type), typeid(std::runtime_error).name()},
        {std::string(dlh::error_message), "boom"},
        {std::string(dlh::attempts), "3"},
        {std::string(dlh::first_failure), "100000000000"}, // 100s in ns
        {std::string(dlh::last_failure), "103000000000"},  // after waits of 1s and 2s
        {std::string(dlh::history),
         std::string("3x ") + typeid(std::runtime_error).name() + " @103000000000"},
    };
    REQUIRE(dead.headers == expected);
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0, 0, 0});
}

TEST_CASE("an error that is not a std::exception is dead-lettered as 'unknown'",
          "[bus][dead_letter]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    std::vector<int> ok;
    vt.run(poison_scenario(&bus, &vt, -2, &ok));
    auto s = bus.consume<int>("t.DLQ", "inspect");
    const record<int> dead = vt.run(eddy::test::bus::pull_n(&s, 1)).front();
    REQUIRE(dead.headers.get(dlh::error_type) == std::string_view("unknown"));
    REQUIRE(dead.headers.get(dlh::error_message) == std::string_view(""));
}

namespace {
task<void> two_groups(bus_t* bus, virtual_time_scheduler* vt, std::vector<int>* ok) {
    eddy::subscription a =
        bus->subscribe<int>("t", "a", judge_handler{ok}, {.retry = {.max_attempts = 1}});
    eddy::subscription b =
        bus->subscribe<int>("t", "b", judge_handler{ok}, {.retry = {.max_attempts = 2}});
    co_await bus->publish("t", "k", -1);
    co_await vt->schedule_after(1h);
    co_await a.stop();
    co_await b.stop();
}
} // namespace

TEST_CASE("each group that gives up on a record dead-letters it", "[bus][dead_letter]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    std::vector<int> ok;
    vt.run(two_groups(&bus, &vt, &ok));
    auto s = bus.consume<int>("t.DLQ", "inspect");
    const std::vector<record<int>> dead = vt.run(eddy::test::bus::pull_n(&s, 2));
    REQUIRE(dead[0].headers.get(dlh::group) == std::string_view("a"));
    REQUIRE(dead[0].headers.get(dlh::attempts) == std::string_view("1"));
    REQUIRE(dead[1].headers.get(dlh::group) == std::string_view("b"));
    REQUIRE(dead[1].headers.get(dlh::attempts) == std::string_view("2"));
}

namespace {
task<void> drain_dead_letters(bus_t* bus, virtual_time_scheduler* vt, std::vector<int>* ok) {
    eddy::subscription sub =
        bus->subscribe<int>("t.DLQ", "ops", judge_handler{ok}, {.retry = {.max_attempts = 1}});
    co_await vt->schedule_after(1s);
    co_await sub.stop(); // rethrows the dead letter's error
}
} // namespace

TEST_CASE("a dead-letter topic has no dead-letter topic: an exhausted record stops its member",
          "[bus][dead_letter]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    REQUIRE_FALSE(bus.has_topic("t.DLQ.DLQ"));
    std::vector<int> ok;
    vt.run(poison_scenario(&bus, &vt, -1, &ok));
    REQUIRE_THROWS_WITH(vt.run(drain_dead_letters(&bus, &vt, &ok)), "boom");
    REQUIRE(bus.lag("t.DLQ", "ops") == std::vector<std::uint64_t>{1}); // not committed
}
