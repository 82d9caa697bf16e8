// Tests of eddy::throttle(d, scheduler): leading edge, at most one value per d, values arriving
// sooner dropped (by design), exact pass times, end, error, cancellation. Virtual time.
#include <eddy/stream/throttle.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/stream/interval.hpp>
#include <eddy/stream/map.hpp>

#include <support/counted.hpp>
#include <support/stream_consumers.hpp>
#include <support/stream_sources.hpp>
#include <support/timed_streams.hpp>

using eddy::stream;
using eddy::virtual_time_scheduler;
using eddy::test::arrivals;
using eddy::test::counted;
using eddy::test::is;
using eddy::test::record;
using eddy::test::recorded;
using eddy::test::run_stopped_after;
using eddy::test::scripted;
using namespace std::chrono_literals;

TEST_CASE("throttle: the first value passes at once, then at most one per d; sooner ones drop",
          "[stream][throttle]") {
    virtual_time_scheduler vt;
    counted::reset();
    // d = 1 s: 1 passes at 0 s; 2 (0.5 s) drops; 3 passes at exactly 1 s; 4 (1.2 s) drops; 5
    // passes at 2.5 s; 6 (3 s) drops, 7 passes at 3.5 s.
    recorded<int> r = vt.run(record(
        &vt,
        scripted(&vt,
                 {{0s, 1}, {500ms, 2}, {1s, 3}, {1200ms, 4}, {2500ms, 5}, {3s, 6}, {3500ms, 7}}, 4s,
                 false, counted{}) |
            eddy::throttle(1s, vt)));
    REQUIRE(r.values == arrivals<int>{{1, 0s}, {3, 1s}, {5, 2500ms}, {7, 3500ms}});
    REQUIRE_FALSE(r.error);
    REQUIRE(r.ended_at == 4s);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("throttle: a synchronous upstream passes only its first value", "[stream][throttle]") {
    virtual_time_scheduler vt;
    recorded<int> r = vt.run(record(&vt, eddy::test::count_to(5) | eddy::throttle(1ms, vt)));
    REQUIRE(r.values == arrivals<int>{{1, 0s}});
}

TEST_CASE("throttle: pull-based, a consumer slower than d drops nothing", "[stream][throttle]") {
    virtual_time_scheduler vt;
    // interval ticks at 1, 2, 3, ... s when pulled on time; throttled to one per 1.5 s with a
    // consumer that pauses 2 s after each value: each pull takes the tick then due.
    recorded<int> r = vt.run(record(&vt, eddy::interval(vt, 1s) | eddy::map([](std::size_t i) {
                                             return static_cast<int>(i);
                                         }) | eddy::throttle(1500ms, vt),
                                    2s, 4));
    REQUIRE(r.values == arrivals<int>{{0, 1s}, {1, 3s}, {2, 5s}, {3, 7s}});
    // On time, the same upstream loses every other tick.
    virtual_time_scheduler vt2;
    recorded<int> fast =
        vt2.run(record(&vt2, eddy::interval(vt2, 1s) | eddy::map([](std::size_t i) {
                                 return static_cast<int>(i);
                             }) | eddy::throttle(1500ms, vt2),
                       0s, 3));
    REQUIRE(fast.values == arrivals<int>{{0, 1s}, {2, 3s}, {4, 5s}});
}

TEST_CASE("throttle: an upstream error reaches the consumer, after the values that passed",
          "[stream][throttle]") {
    virtual_time_scheduler vt;
    recorded<int> r = vt.run(record(
        &vt, scripted(&vt, {{1s, 1}, {1100ms, 2}}, 2s, true, counted{}) | eddy::throttle(1s, vt)));
    REQUIRE(r.values == arrivals<int>{{1, 1s}});
    REQUIRE(is<std::runtime_error>(r.error));
    REQUIRE(r.ended_at == 2s);
}

TEST_CASE("throttle: the consumer's stop token reaches the upstream's wait", "[stream][throttle]") {
    virtual_time_scheduler vt;
    counted::reset();
    recorded<int> r =
        run_stopped_after(vt, 7s,
                          record(&vt, scripted(&vt, {{1s, 1}, {50s, 2}}, 60s, false, counted{}) |
                                          eddy::throttle(1s, vt)));
    REQUIRE(r.values == arrivals<int>{{1, 1s}});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(r.ended_at == 7s);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("throttle: a period that is not positive is bad input, thrown eagerly",
          "[stream][throttle]") {
    virtual_time_scheduler vt;
    REQUIRE_THROWS_AS(eddy::throttle(0s, vt), eddy::error);
    REQUIRE_THROWS_AS(eddy::throttle(-1s, vt), eddy::error);
}
