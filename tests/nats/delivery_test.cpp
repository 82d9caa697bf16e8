// Tests of eddy::nats_bus delivery beyond the conformance suite: acknowledgement, redelivery on
// cancel, dead letters (non-retryable errors, undecodable payloads, shared between buses of a
// prefix), keys and header values with any bytes, members sharing a group. [concurrency]: the
// bus runs handlers on a thread pool and fetches on threads of its own.
#include <eddy/nats/nats_bus.hpp>

#include <catch2/catch.hpp>

#include <algorithm> // std::sort
#include <chrono>    // std::chrono
#include <map>       // std::map
#include <stdexcept> // std::invalid_argument
#include <string>    // std::string
#include <vector>    // std::vector

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/core/async_event.hpp>
#include <eddy/core/retry_policy.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <nats/nats_harness.hpp>

namespace {

using namespace std::chrono_literals;
using delivery_log = eddy::test::bus::log;
using eddy::test::bus::parcel;
using eddy::test::bus::parcel_n;
using eddy::test::bus::recorder;
using eddy::test::bus::values;
using eddy::test::nats::nats_harness;
using eddy::test::nats::test_bus;

// Signals `started`, then waits (for an hour: until cancelled).
struct stuck_handler {
    eddy::async_event* started;
    eddy::thread_pool* pool;
    eddy::task<void> operator()(const eddy::record<parcel>&) const { return hold(started, pool); }
    static eddy::task<void> hold(eddy::async_event* started, eddy::thread_pool* pool) {
        started->set();
        co_await pool->schedule_after(1h);
    }
};

eddy::task<void> publish_with(test_bus* bus, std::string topic, std::string key, parcel value,
                              eddy::headers h) {
    co_await bus->publish(std::move(topic), std::move(key), std::move(value), std::move(h));
}

eddy::task<void> wait_for(eddy::async_event* e) { co_await e->wait(); }

// Signals `started`, then returns once `go` is set.
struct gated_handler {
    eddy::async_event* started;
    eddy::async_event* go;
    eddy::task<void> operator()(const eddy::record<parcel>&) const { return pass(started, go); }
    static eddy::task<void> pass(eddy::async_event* started, eddy::async_event* go) {
        started->set();
        co_await go->wait();
    }
};

eddy::task<void> set_event(eddy::async_event* e) {
    e->set();
    co_return;
}

} // namespace

TEST_CASE("nats_bus: a non-retryable error is dead-lettered after one attempt",
          "[nats][delivery][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders");
    delivery_log l;
    l.expected = 2;
    l.fail_first[1] = 1000;
    eddy::consumer_options options{
        .retry = {.initial_interval = 1ms,
                  .max_interval = 1ms,
                  .max_attempts = 5,
                  .non_retryable =
                      eddy::retry_policy::error_types<eddy::test::bus::parcel_failure>()}};
    h.run(eddy::test::bus::push_until_done(&h, &l, "orders", "g", options, {"k"}, 3));
    REQUIRE(values(l.attempts) == std::vector<int>{0, 1, 2});
    const std::vector<eddy::dead_letter_entry> dead = bus.dead_letters({.topic = "orders"});
    REQUIRE(dead.size() == 1);
    REQUIRE(dead[0].attempts == 1);
    REQUIRE(dead[0].offset == 1);
    REQUIRE(dead[0].key == "k");
    REQUIRE(dead[0].group == "g");
    REQUIRE(dead[0].error_message == "parcel 1 failed");
    REQUIRE(dead[0].id == eddy::dead_letter_id{"orders.DLQ", 0, 0});
    REQUIRE(bus.lag("orders", "g") == std::vector<std::uint64_t>{0});
}

TEST_CASE("nats_bus: a record the codec cannot decode is dead-lettered without a handler call",
          "[nats][delivery][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders");
    delivery_log l;
    l.expected = 2;
    eddy::subscription sub =
        bus.subscribe<parcel>("orders", "g", recorder<>{&l, "g"}, {.retry = {.max_attempts = 3}});
    h.run(publish_with(&bus, "orders", "k", parcel_n(0), {}));
    h.run(publish_with(&bus, "orders", "k", parcel{1, "!garbled"}, {{"n", "1"}}));
    h.run(publish_with(&bus, "orders", "k", parcel_n(2), {}));
    h.run(eddy::test::bus::wait_then_stop(&l, {&sub}));
    REQUIRE(values(l.attempts) == std::vector<int>{0, 2});
    const std::vector<eddy::dead_letter_entry> dead = bus.dead_letters({.topic = "orders"});
    REQUIRE(dead.size() == 1);
    REQUIRE(dead[0].offset == 1);
    REQUIRE(dead[0].attempts == 1);
    REQUIRE(dead[0].error_message ==
            "eddy: cannot decode a value: test_codec: not a parcel: '1|!garbled'");
    REQUIRE(bus.lag("orders", "g") == std::vector<std::uint64_t>{0});
}

TEST_CASE("nats_bus: cancel() gives the record in hand back at once to the next member",
          "[nats][delivery][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders");
    eddy::async_event started;
    eddy::subscription stuck =
        bus.subscribe<parcel>("orders", "g", stuck_handler{&started, &h.pool}, {});
    h.run(publish_with(&bus, "orders", "k", parcel_n(7), {}));
    h.run(wait_for(&started));
    h.run(stuck.cancel());
    delivery_log l;
    l.expected = 1;
    eddy::subscription next = bus.subscribe<parcel>("orders", "g", recorder<>{&l, "g"}, {});
    h.run(eddy::test::bus::wait_then_stop(&l, {&next}));
    REQUIRE(values(l.handled) == std::vector<int>{7});
    REQUIRE(l.handled[0].offset == 0);
    REQUIRE(bus.lag("orders", "g") == std::vector<std::uint64_t>{0});
    REQUIRE(bus.dead_letters({.topic = "orders"}).empty());
}

TEST_CASE("nats_bus: a record handled after stop() began is still acknowledged",
          "[nats][delivery][concurrency]") {
    // stop() marks the member as leaving before the handler returns, so the fetch loop ends
    // with the record's acknowledgement still to send (acknowledgements otherwise travel with
    // the next fetch): it must be sent before the member ends.
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders");
    eddy::async_event started;
    eddy::async_event go;
    eddy::subscription sub = bus.subscribe<parcel>("orders", "g", gated_handler{&started, &go}, {});
    h.run(publish_with(&bus, "orders", "k", parcel_n(3), {}));
    h.run(wait_for(&started));
    h.run(eddy::when_all(sub.stop(), set_event(&go)));
    REQUIRE(bus.lag("orders", "g") == std::vector<std::uint64_t>{0});
}

TEST_CASE("nats_bus: members of one group share the partitions; each record is handled once",
          "[nats][delivery][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders", {.partitions = 4});
    delivery_log l;
    l.expected = 60;
    eddy::subscription a = bus.subscribe<parcel>("orders", "g", recorder<>{&l, "a"}, {});
    eddy::subscription b = bus.subscribe<parcel>("orders", "g", recorder<>{&l, "b"}, {});
    const std::vector<std::string> keys{"p", "q", "r", "s", "t", "u"};
    h.run(eddy::test::bus::publish_all(&bus, "orders", keys, 60));
    h.run(eddy::test::bus::wait_then_stop(&l, {&a, &b}));
    std::vector<int> got = values(l.handled);
    REQUIRE(values(l.attempts).size() == 60);
    std::sort(got.begin(), got.end());
    std::vector<int> all;
    for (int i = 0; i < 60; ++i) {
        all.push_back(i);
    }
    REQUIRE(got == all);
    std::map<std::string, int> last;
    for (const eddy::test::bus::seen& s : l.handled) {
        auto [it, fresh] = last.try_emplace(s.key, s.value.n);
        if (!fresh) {
            REQUIRE(s.value.n > it->second); // per key: publish order, across members
            it->second = s.value.n;
        }
    }
    REQUIRE(bus.lag("orders", "g") == std::vector<std::uint64_t>(4, 0));
}

TEST_CASE("nats_bus: keys and header values with any bytes arrive as published",
          "[nats][delivery][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("odd topic.name*>");
    const std::string key = "a.b c*>/\xC3\xBC_%41";
    eddy::headers sent{{"trace", " padded\r\nline %20 "}, {"empty", ""}, {"n", "1"}};
    h.run(publish_with(&bus, "odd topic.name*>", key, parcel_n(1), sent));
    eddy::stream<eddy::record<parcel>> s = bus.consume<parcel>("odd topic.name*>", "g", {});
    const std::vector<eddy::record<parcel>> got = h.run(eddy::test::bus::pull_n(&s, 1));
    REQUIRE(got.size() == 1);
    REQUIRE(got[0].key == key);
    REQUIRE(got[0].headers == sent);
    REQUIRE(got[0].topic == "odd topic.name*>");
    REQUIRE(got[0].value == parcel_n(1));
}

TEST_CASE("nats_bus: dead letters and their marks are shared by every bus of a prefix",
          "[nats][delivery][concurrency]") {
    eddy::thread_pool pool(2);
    eddy::nats_bus_options o = eddy::test::nats::test_options();
    test_bus first(pool, {}, o);
    test_bus second(pool, {}, o); // another connection: as another process would
    first.create_topic<parcel>("orders");
    REQUIRE(second.has_topic("orders"));
    delivery_log l;
    l.expected = 1;
    l.fail_first[0] = 1;
    {
        eddy::subscription sub = first.subscribe<parcel>("orders", "g", recorder<>{&l, "g"},
                                                         {.retry = {.max_attempts = 1}});
        eddy::sync_wait(publish_with(&first, "orders", "k", parcel_n(0), {}));
        eddy::sync_wait(publish_with(&first, "orders", "k", parcel_n(1), {}));
        eddy::sync_wait(eddy::test::bus::wait_then_stop(&l, {&sub}));
    }
    const std::vector<eddy::dead_letter_entry> seen_by_second = second.dead_letters({});
    REQUIRE(seen_by_second.size() == 1);
    REQUIRE(seen_by_second[0].topic == "orders");
    second.discard(seen_by_second[0].id, "ops");
    REQUIRE(first.dead_letters({}).empty());
    REQUIRE_THROWS_AS(first.discard(seen_by_second[0].id, "ops"), eddy::error);
    const auto discarded = first.dead_letters({.status = eddy::dead_letter_status::discarded});
    REQUIRE(discarded.size() == 1);
    REQUIRE(discarded[0].id == seen_by_second[0].id);
}

TEST_CASE("nats_bus: ordered dead letters are refused", "[nats][delivery][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders");
    delivery_log l;
    REQUIRE_THROWS_WITH(
        bus.subscribe<parcel>("orders", "g", recorder<>{&l, "g"}, {.ordered_dead_letters = true}),
        Catch::Contains("ordered_dead_letters is not supported"));
    REQUIRE_THROWS_AS(bus.consume<parcel>("orders", "g", {.ordered_dead_letters = true}),
                      eddy::error);
}
