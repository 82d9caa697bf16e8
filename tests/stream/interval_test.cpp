// Tests of eddy::interval(scheduler, period), in virtual time (no sleeping).
#include <eddy/stream/interval.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>

#include <support/stream_consumers.hpp>
#include <support/virtual_time_tasks.hpp>

using eddy::stream;
using eddy::task;
using eddy::virtual_time_scheduler;
using namespace std::chrono_literals;

using eddy::test::drain;
using eddy::test::is;

namespace {

using time_point = virtual_time_scheduler::time_point;

struct tick {
    std::size_t value;
    time_point at;
    bool operator==(const tick&) const = default;
};

// Pulls `n` values, recording each with the virtual time it arrived at; waits `pause` after
// the first one (a slow consumer).
task<std::vector<tick>> record(virtual_time_scheduler* vt, stream<std::size_t> s, int n,
                               virtual_time_scheduler::duration pause) {
    std::vector<tick> out;
    for (int i = 0; i < n; ++i) {
        std::optional<std::size_t> v = co_await s.next();
        out.push_back({*v, vt->now()});
        if (i == 0 && pause > pause.zero()) {
            co_await vt->schedule_after(pause);
        }
    }
    co_return out;
}

} // namespace

TEST_CASE("interval: 0, 1, 2, ... at exact virtual times", "[stream][interval]") {
    virtual_time_scheduler vt;
    const time_point t0 = vt.now();
    std::vector<tick> ticks = vt.run(record(&vt, eddy::interval(vt, 1s), 4, 0s));
    REQUIRE(ticks == std::vector<tick>{{0, t0 + 1s}, {1, t0 + 2s}, {2, t0 + 3s}, {3, t0 + 4s}});
}

TEST_CASE("interval: lazy, the clock starts at the first next()", "[stream][interval]") {
    virtual_time_scheduler vt;
    stream<std::size_t> s = eddy::interval(vt, 10ms);
    vt.advance(1h);
    REQUIRE(vt.pending_timers() == 0);
    const time_point t0 = vt.now();
    std::vector<tick> ticks = vt.run(record(&vt, std::move(s), 2, 0s));
    REQUIRE(ticks == std::vector<tick>{{0, t0 + 10ms}, {1, t0 + 20ms}});
}

TEST_CASE("interval: fixed rate, a late pull gets a due value at once", "[stream][interval]") {
    virtual_time_scheduler vt;
    const time_point t0 = vt.now();
    std::vector<tick> ticks = vt.run(record(&vt, eddy::interval(vt, 1s), 3, 1500ms));
    REQUIRE(ticks == std::vector<tick>{{0, t0 + 1s}, {1, t0 + 2500ms}, {2, t0 + 3s}});
}

TEST_CASE("interval: a stop request ends it with operation_cancelled", "[stream][interval]") {
    virtual_time_scheduler vt;
    std::stop_source source;
    auto [r, stopper] = vt.run(
        eddy::when_all(eddy::with_stop_token(drain(eddy::interval(vt, 1min)), source.get_token()),
                       eddy::test::virtual_time::request_stop_after(vt, 150s, source)));
    REQUIRE(r.values == std::vector<std::size_t>{0, 1});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(vt.now() == time_point{} + 150s);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("interval: a period that is not positive is bad input", "[stream][interval]") {
    virtual_time_scheduler vt;
    REQUIRE_THROWS_AS(eddy::interval(vt, 0s), eddy::error);
    REQUIRE_THROWS_AS(eddy::interval(vt, -1s), eddy::error);
}
