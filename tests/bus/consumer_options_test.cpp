// Tests of eddy::consumer_options: validation, where a new group starts (earliest, latest), and
// the resets of a member behind retention (earliest, latest) in the push form.
#include <eddy/bus/consumer_options.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/async_event.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

using eddy::consumer_options;
using eddy::offset_reset;
using eddy::record;
using eddy::task;
using eddy::virtual_time_scheduler;
using bus_t = eddy::event_bus<virtual_time_scheduler>;
using namespace std::chrono_literals;

namespace {

task<void> publish_n(bus_t* bus, int from, int n) {
    for (int i = from; i < from + n; ++i) {
        co_await bus->publish("t", "k", i);
    }
}

task<void> note(std::vector<std::uint64_t>* seen, std::uint64_t offset) {
    seen->push_back(offset);
    co_return;
}

struct offsets_seen {
    std::vector<std::uint64_t>* seen;
    task<void> operator()(const record<int>& r) const { return note(seen, r.offset); }
};

// Subscribes to group "g" with `options`, publishes `more` records after 1s, lets the member
// run for 10s of virtual time, and stops it.
task<void> run_member(bus_t* bus, virtual_time_scheduler* vt, consumer_options options, int more,
                      std::vector<std::uint64_t>* seen) {
    eddy::subscription sub = bus->subscribe<int>("t", "g", offsets_seen{seen}, std::move(options));
    co_await vt->schedule_after(1s);
    co_await publish_n(bus, 100, more);
    co_await vt->schedule_after(10s);
    co_await sub.stop();
}

// Leaves group "g" at offset 1 of a topic that then keeps only offsets 4 and 5.
void fall_behind(bus_t& bus, virtual_time_scheduler& vt) {
    bus.create_topic<int>("t", {.retention_count = 2});
    std::vector<std::uint64_t> seen;
    vt.run(publish_n(&bus, 0, 1));
    vt.run(run_member(&bus, &vt, {}, 0, &seen)); // handles offset 0
    REQUIRE(seen == std::vector<std::uint64_t>{0});
    vt.run(publish_n(&bus, 1, 5)); // offsets 1..5; retained: 4, 5
    REQUIRE(bus.begin_offsets("t") == std::vector<std::uint64_t>{4});
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{5});
}

} // namespace

TEST_CASE("consumer_options::validate names the bad field", "[bus][consumer_options]") {
    REQUIRE_NOTHROW(consumer_options{}.validate());
    REQUIRE(consumer_options{}.max_in_flight == 1);
    REQUIRE(consumer_options{}.start == offset_reset::earliest);
    REQUIRE(consumer_options{}.on_out_of_range == offset_reset::none);
    REQUIRE_THROWS_WITH(consumer_options{.max_in_flight = 0}.validate(),
                        Catch::Contains("max_in_flight must be at least 1"));
    REQUIRE_THROWS_WITH(consumer_options{.start = offset_reset::none}.validate(),
                        Catch::Contains("start must be offset_reset::earliest"));
    REQUIRE_THROWS_WITH(consumer_options{.retry = {.multiplier = 0.5}}.validate(),
                        Catch::Contains("multiplier"));
    REQUIRE_THROWS_AS(consumer_options{.retry = {.jitter = 2.0}}.validate(), eddy::error);
}

TEST_CASE("start: a new group starts at the earliest retained offset or at the end",
          "[bus][consumer_options]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    vt.run(publish_n(&bus, 0, 3));
    std::vector<std::uint64_t> seen;
    SECTION("earliest") {
        vt.run(run_member(&bus, &vt, {.start = offset_reset::earliest}, 1, &seen));
        REQUIRE(seen == std::vector<std::uint64_t>{0, 1, 2, 3});
    }
    SECTION("latest") {
        vt.run(run_member(&bus, &vt, {.start = offset_reset::latest}, 1, &seen));
        REQUIRE(seen == std::vector<std::uint64_t>{3});
    }
    SECTION("start only matters for a new group") {
        vt.run(run_member(&bus, &vt, {}, 0, &seen)); // commits 0..2
        seen.clear();
        vt.run(run_member(&bus, &vt, {.start = offset_reset::earliest}, 1, &seen));
        REQUIRE(seen == std::vector<std::uint64_t>{3});
    }
}

TEST_CASE("on_out_of_range: earliest or latest moves a member behind retention",
          "[bus][consumer_options]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    fall_behind(bus, vt);
    std::vector<std::uint64_t> seen;
    SECTION("earliest: the retained records, then new ones") {
        vt.run(run_member(&bus, &vt, {.on_out_of_range = offset_reset::earliest}, 1, &seen));
        REQUIRE(seen == std::vector<std::uint64_t>{4, 5, 6});
    }
    SECTION("latest: only records published afterwards") {
        vt.run(run_member(&bus, &vt, {.on_out_of_range = offset_reset::latest}, 1, &seen));
        REQUIRE(seen == std::vector<std::uint64_t>{6});
    }
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0});
}
