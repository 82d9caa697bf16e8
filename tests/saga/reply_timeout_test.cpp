// Tests of eddy::reply_timeout: a flow whose reply never arrives gets its timeout event at
// exactly trigger time + within; a reply in time (or one processed before its trigger)
// prevents it; triggers the predicate rejects are not watched; stop() cancels what is pending;
// bad options are eddy::errors.
#include <eddy/saga/reply_timeout.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/saga/correlation.hpp>

namespace {

using namespace std::chrono_literals;
using bus_type = eddy::event_bus<eddy::virtual_time_scheduler>;
using time_point = eddy::virtual_time_scheduler::time_point;

struct order_placed {};
struct order_timed_out {
    std::string what;
};
using order_event = std::variant<order_placed, order_timed_out>;
struct payment_done {};

using watcher = eddy::reply_timeout<order_event, payment_done, order_event, bus_type>;

struct seen {
    std::string key;
    time_point at;
    std::string cause;
};

eddy::task<void> keep(std::vector<seen>* out, const eddy::record<order_event>* r) {
    if (std::holds_alternative<order_timed_out>(r->value)) {
        out->push_back({r->key, r->timestamp,
                        std::string(r->headers.get(eddy::causation_header).value_or(""))});
    }
    co_return;
}

struct fixture {
    eddy::virtual_time_scheduler vt;
    bus_type bus{vt};
    std::vector<seen> timeouts;
    eddy::subscription audit;
    watcher watch;

    fixture()
        : audit(make_audit(bus, timeouts)),
          watch(
              bus,
              {.trigger_topic = "orders",
               .reply_topic = "payments",
               .timeout_topic = "orders",
               .group = "order-timeouts",
               .within = 30s},
              [](const eddy::record<order_event>& r) {
                  return std::holds_alternative<order_placed>(r.value);
              },
              [](const eddy::record<payment_done>&) { return true; },
              [](const eddy::record<order_event>& r) {
                  return order_event{order_timed_out{"no payment for " + r.key}};
              }) {}

    static eddy::subscription make_audit(bus_type& bus, std::vector<seen>& out) {
        bus.create_topic<order_event>("orders", {.partitions = 2});
        bus.create_topic<payment_done>("payments", {.partitions = 2});
        return bus.subscribe<order_event>(
            "orders", "audit",
            [&out](const eddy::record<order_event>& r) { return keep(&out, &r); });
    }

    eddy::task<void> stop_all() {
        co_await watch.stop();
        co_await audit.stop();
    }
};

eddy::task<void> place(fixture* f, std::string id) {
    co_await f->bus.publish<order_event>("orders", id, order_placed{});
}
eddy::task<void> pay(fixture* f, std::string id) {
    co_await f->bus.publish<payment_done>("payments", id, payment_done{});
}

eddy::task<void> scenario(fixture* f) {
    co_await place(f, "late"); // t = 0, never paid
    co_await place(f, "paid"); // t = 0, paid at 10 s
    co_await pay(f, "early");  // the reply is processed before its trigger
    co_await place(f, "early");
    co_await eddy::sleep_for(f->vt, 10s);
    co_await pay(f, "paid");
    co_await eddy::sleep_for(f->vt, 5s);
    co_await place(f, "later"); // t = 15 s, never paid
    co_await eddy::sleep_for(f->vt, 1h);
    co_await f->stop_all();
}

} // namespace

TEST_CASE("a missing reply is announced at exactly trigger time + within",
          "[saga][reply_timeout]") {
    fixture f;
    f.vt.run(scenario(&f));
    REQUIRE(f.timeouts.size() == 2);
    CHECK(f.timeouts[0].key == "late");
    CHECK(f.timeouts[0].at == time_point{} + 30s);
    CHECK(f.timeouts[0].cause ==
          "orders/" + std::to_string(f.bus.partition_for("orders", "late")) + "/0");
    CHECK(f.timeouts[1].key == "later");
    CHECK(f.timeouts[1].at == time_point{} + 45s);
    CHECK(f.watch.pending() == 0);
    CHECK(f.watch.failures() == 0);
}

namespace {
eddy::task<void> place_then_stop(fixture* f) {
    co_await place(f, "a");
    co_await eddy::sleep_for(f->vt, 5s);
    CHECK(f->watch.pending() == 1);
    co_await f->watch.stop();
    co_await eddy::sleep_for(f->vt, 1h);
    co_await f->audit.stop();
}
} // namespace

TEST_CASE("stop cancels pending deadlines", "[saga][reply_timeout]") {
    fixture f;
    f.vt.run(place_then_stop(&f));
    CHECK(f.timeouts.empty());
    CHECK(f.watch.failures() == 0);
}

TEST_CASE("bad options are eddy::errors", "[saga][reply_timeout]") {
    eddy::virtual_time_scheduler vt;
    bus_type bus(vt);
    bus.create_topic<order_event>("orders");
    bus.create_topic<payment_done>("payments");
    const auto yes = [](const eddy::record<order_event>&) { return true; };
    const auto reply = [](const eddy::record<payment_done>&) { return true; };
    const auto make = [](const eddy::record<order_event>&) { return order_event{}; };
    CHECK_THROWS_WITH(watcher(bus, {"orders", "payments", "orders", "g", 0s}, yes, reply, make),
                      Catch::Contains("`within` must be positive"));
    CHECK_THROWS_WITH(watcher(bus, {"orders", "payments", "orders", "g", 1s}, {}, reply, make),
                      Catch::Contains("every callable must be set"));
    CHECK_THROWS_WITH(watcher(bus, {"nope", "payments", "orders", "g", 1s}, yes, reply, make),
                      Catch::Contains("no topic 'nope'"));
    CHECK_THROWS_WITH(watcher(bus, {"orders", "nope", "orders", "g", 1s}, yes, reply, make),
                      Catch::Contains("no topic 'nope'"));
    CHECK_THROWS_WITH(watcher(bus, {"orders", "payments", "nope", "g", 1s}, yes, reply, make),
                      Catch::Contains("no topic 'nope'"));
}
