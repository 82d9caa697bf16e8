// Tests of eddy::offset_out_of_range: a group positioned before the earliest retained offset
// gets it (pull form: from next(); push form: from stop()), with exact fields and message.
#include <eddy/bus/offset_out_of_range.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

using eddy::record;
using eddy::task;
using eddy::virtual_time_scheduler;
using bus_t = eddy::event_bus<virtual_time_scheduler>;
using namespace std::chrono_literals;

namespace {

task<void> publish_n(bus_t* bus, int n) {
    for (int i = 0; i < n; ++i) {
        co_await bus->publish("t", "k", i);
    }
}

task<std::optional<record<int>>> pull(eddy::stream<record<int>>* s) {
    co_return co_await s->next();
}

// Group "g" joins at offset 0 and leaves without committing it; then retention keeps only
// offsets 3 and 4.
void fall_behind(bus_t& bus, virtual_time_scheduler& vt) {
    bus.create_topic<int>("t", {.retention_count = 2});
    vt.run(publish_n(&bus, 1));
    {
        auto s = bus.consume<int>("t", "g");
        REQUIRE(vt.run(pull(&s))->offset == 0); // never committed
    }
    vt.run(publish_n(&bus, 4));
    REQUIRE(bus.begin_offsets("t") == std::vector<std::uint64_t>{3});
}

task<void> noop() { co_return; }
struct ignore {
    task<void> operator()(const record<int>&) const { return noop(); }
};

task<void> push_member(bus_t* bus, virtual_time_scheduler* vt) {
    eddy::subscription sub = bus->subscribe<int>("t", "g", ignore{});
    co_await vt->schedule_after(1s);
    co_await sub.stop(); // rethrows what ended the member
}

} // namespace

TEST_CASE("offset_out_of_range is an eddy::error carrying where it happened",
          "[bus][offset_out_of_range]") {
    const eddy::offset_out_of_range e("orders", "billing", 2, 5, 9);
    const eddy::error& base = e;
    REQUIRE(std::string(base.what()) ==
            "eddy::event_bus: group 'billing' is at offset 5 of topic 'orders' partition 2, "
            "before the earliest retained offset 9 (records were dropped by retention; set "
            "consumer_options::on_out_of_range to reset)");
    REQUIRE(e.topic() == "orders");
    REQUIRE(e.group() == "billing");
    REQUIRE(e.partition() == 2);
    REQUIRE(e.position() == 5);
    REQUIRE(e.earliest() == 9);
}

TEST_CASE("a pull consumer behind retention gets offset_out_of_range from next()",
          "[bus][offset_out_of_range]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    fall_behind(bus, vt);
    auto s = bus.consume<int>("t", "g");
    try {
        vt.run(pull(&s));
        FAIL("no exception");
    } catch (const eddy::offset_out_of_range& e) {
        REQUIRE(e.topic() == "t");
        REQUIRE(e.group() == "g");
        REQUIRE(e.partition() == 0);
        REQUIRE(e.position() == 0);
        REQUIRE(e.earliest() == 3);
    }
    REQUIRE_FALSE(vt.run(pull(&s)).has_value());                 // the stream has ended
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{5}); // nothing moved
}

TEST_CASE("a push member behind retention stops; stop() rethrows offset_out_of_range",
          "[bus][offset_out_of_range]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    fall_behind(bus, vt);
    REQUIRE_THROWS_AS(vt.run(push_member(&bus, &vt)), eddy::offset_out_of_range);
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{5});
}
