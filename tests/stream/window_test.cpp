// Tests of eddy::window(d, scheduler): tumbling windows aligned to the first pull, emitted at
// their exact end times, empty windows skipped, the open window at the end and before an
// error, cancellation and teardown. Virtual time throughout.
#include <eddy/stream/window.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

#include <support/counted.hpp>
#include <support/stream_consumers.hpp>
#include <support/stream_sources.hpp>
#include <support/timed_streams.hpp>

using eddy::stream;
using eddy::virtual_time_scheduler;
using eddy::test::arrivals;
using eddy::test::counted;
using eddy::test::is;
using eddy::test::pull_one;
using eddy::test::record;
using eddy::test::recorded;
using eddy::test::run_stopped_after;
using eddy::test::scripted;
using eddy::test::virtual_time::epoch;
using namespace std::chrono_literals;
using ints = std::vector<int>;

TEST_CASE("window: values grouped by the window they arrived in, each emitted at its end",
          "[stream][window]") {
    virtual_time_scheduler vt;
    counted::reset();
    // Windows of 10 s from 0: [0, 10) holds 1 and 2; [10, 20) holds 3 (20 s is a boundary: 4
    // opens [20, 30)); [30, 40) and [50, 60) are empty and not emitted; [40, 50) holds 5 and 6,
    // and is flushed by the end at 47 s.
    recorded<ints> r =
        vt.run(record(&vt, scripted(&vt, {{1s, 1}, {5s, 2}, {12s, 3}, {20s, 4}, {41s, 5}, {45s, 6}},
                                    47s, false, counted{}) |
                               eddy::window(10s, vt)));
    REQUIRE(r.values == arrivals<ints>{{{1, 2}, 10s}, {{3}, 20s}, {{4}, 30s}, {{5, 6}, 47s}});
    REQUIRE_FALSE(r.error);
    REQUIRE(r.ended_at == 47s);
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("window: windows are aligned to the first pull, not to the stream's creation",
          "[stream][window]") {
    virtual_time_scheduler vt;
    stream<ints> s = scripted(&vt, {{4s, 1}, {12s, 2}, {13s, 3}, {14s, 4}}, 30s, false, counted{}) |
                     eddy::window(10s, vt);
    vt.advance(3s); // windows are [3, 13), [13, 23), ...
    recorded<ints> r = vt.run(record(&vt, std::move(s)));
    REQUIRE(r.values == arrivals<ints>{{{1, 2}, 13s}, {{3, 4}, 23s}});
    REQUIRE(r.ended_at == 30s);
}

TEST_CASE("window: a synchronous upstream makes one window, flushed at its end",
          "[stream][window]") {
    virtual_time_scheduler vt;
    recorded<ints> r = vt.run(record(&vt, eddy::test::count_to(4) | eddy::window(1s, vt)));
    REQUIRE(r.values == arrivals<ints>{{{1, 2, 3, 4}, 0s}});
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("window: an upstream error comes after the open window, on the following next()",
          "[stream][window]") {
    virtual_time_scheduler vt;
    stream<ints> s = scripted(&vt, {{1s, 1}, {2s, 2}}, 3s, true, counted{}) | eddy::window(10s, vt);
    REQUIRE(vt.run(pull_one(&s)) == ints{1, 2});
    REQUIRE(vt.now() == epoch + 3s);
    REQUIRE_THROWS_AS(vt.run(pull_one(&s)), std::runtime_error);
    REQUIRE(vt.run(pull_one(&s)) == std::nullopt);

    recorded<ints> sync = vt.run(record(&vt, eddy::test::two_then_throw() | eddy::window(1s, vt)));
    REQUIRE(sync.values == arrivals<ints>{{{1, 2}, 3s}});
    REQUIRE(is<std::runtime_error>(sync.error));
}

TEST_CASE("window: a consumer that pulls late gets the window that ended meanwhile at once",
          "[stream][window]") {
    virtual_time_scheduler vt;
    stream<ints> s =
        scripted(&vt, {{1s, 1}, {2s, 2}, {15s, 3}}, 16s, false, counted{}) | eddy::window(10s, vt);
    REQUIRE(vt.run(pull_one(&s)) == ints{1, 2});
    REQUIRE(vt.now() == epoch + 10s);
    vt.advance_to(epoch + 100s); // 3 arrives at 15 s, in [10, 20), while nobody pulls
    REQUIRE(vt.run(pull_one(&s)) == ints{3});
    REQUIRE(vt.now() == epoch + 100s);
    REQUIRE(vt.run(pull_one(&s)) == std::nullopt);
}

TEST_CASE("window: the consumer's stop request cancels the waiting next() and the upstream",
          "[stream][window]") {
    virtual_time_scheduler vt;
    counted::reset();
    recorded<ints> r =
        run_stopped_after(vt, 7s,
                          record(&vt, scripted(&vt, {{1s, 1}, {50s, 2}}, 60s, false, counted{}) |
                                          eddy::window(2s, vt)));
    REQUIRE(r.values == arrivals<ints>{{{1}, 2s}});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(r.ended_at == 7s);
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("window: destroying the stream with a pull pending stops and frees the upstream",
          "[stream][window]") {
    virtual_time_scheduler vt;
    counted::reset();
    {
        stream<ints> s =
            scripted(&vt, {{1s, 1}, {1h, 2}}, 2h, false, counted{}) | eddy::window(5s, vt);
        REQUIRE(vt.run(pull_one(&s)) == ints{1});
        REQUIRE(vt.now() == epoch + 5s);
        REQUIRE(counted::alive() == 1);
    }
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("window: a length that is not positive is bad input, thrown eagerly",
          "[stream][window]") {
    virtual_time_scheduler vt;
    REQUIRE_THROWS_AS(eddy::window(0s, vt), eddy::error);
    REQUIRE_THROWS_AS(eddy::window(-5s, vt), eddy::error);
}
