// Tests of eddy::rate_limit(n, per, scheduler): lossless, at most n values in any interval of
// length per, pulls delayed until a token is back (backpressure), exact times, end, error,
// cancellation. Virtual time.
#include <eddy/stream/rate_limit.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/stream/filter.hpp>

#include <support/counted.hpp>
#include <support/stream_consumers.hpp>
#include <support/stream_sources.hpp>
#include <support/timed_streams.hpp>

using eddy::stream;
using eddy::virtual_time_scheduler;
using eddy::test::arrivals;
using eddy::test::counted;
using eddy::test::counted_source;
using eddy::test::is;
using eddy::test::pull_one;
using eddy::test::record;
using eddy::test::recorded;
using eddy::test::run_stopped_after;
using eddy::test::scripted;
using eddy::test::unbounded;
using eddy::test::virtual_time::epoch;
using namespace std::chrono_literals;

TEST_CASE("rate_limit: a burst of n at once, then each value when the oldest token is back",
          "[stream][rate_limit]") {
    virtual_time_scheduler vt;
    recorded<int> r = vt.run(record(&vt, eddy::test::count_to(7) | eddy::rate_limit(3, 1s, vt)));
    REQUIRE(r.values ==
            arrivals<int>{{1, 0s}, {2, 0s}, {3, 0s}, {4, 1s}, {5, 1s}, {6, 1s}, {7, 2s}});
    REQUIRE_FALSE(r.error);
    REQUIRE(r.ended_at == 2s);
}

TEST_CASE("rate_limit: a sliding window, never more than n values in any interval of length per",
          "[stream][rate_limit]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    counted::reset();
    // n = 2 per 1 s. 1 at 0 s, 2 at 0.5 s; 3 (due at 0.7 s) is pulled when 1's token is back,
    // at 1 s; 4 (0.8 s) when 2's is, at 1.5 s; 5 comes at 5 s by itself; 6 at 5.2 s (4's token
    // came back at 2.5 s); 7 (5.3 s) waits for 5's token: 6 s.
    recorded<int> r = vt.run(record(
        &vt,
        scripted(&vt,
                 {{0s, 1}, {500ms, 2}, {700ms, 3}, {800ms, 4}, {5s, 5}, {5200ms, 6}, {5300ms, 7}},
                 10s, false, counted{}, &pulls) |
            eddy::rate_limit(2, 1s, vt)));
    REQUIRE(
        r.values ==
        arrivals<int>{{1, 0s}, {2, 500ms}, {3, 1s}, {4, 1500ms}, {5, 5s}, {6, 5200ms}, {7, 6s}});
    REQUIRE_FALSE(r.error);
    REQUIRE(r.ended_at == 10s);
    REQUIRE(pulls == 8);
    for (std::size_t i = 2; i < r.values.size(); ++i) {
        REQUIRE(r.values[i].at - r.values[i - 2].at >= 1s);
    }
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("rate_limit: the wait delays the pull itself (backpressure reaches the upstream)",
          "[stream][rate_limit]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    stream<int> s = counted_source(unbounded, &pulls) | eddy::rate_limit(2, 1s, vt);
    REQUIRE(pulls == 0); // lazy
    REQUIRE(vt.run(pull_one(&s)) == 1);
    REQUIRE(vt.run(pull_one(&s)) == 2);
    REQUIRE(pulls == 2);
    REQUIRE(vt.run(pull_one(&s)) == 3); // waited for a token, and only then pulled
    REQUIRE(vt.now() == epoch + 1s);
    REQUIRE(pulls == 3);
}

TEST_CASE("rate_limit: lossless, every value of a pipeline upstream passes, in order",
          "[stream][rate_limit]") {
    virtual_time_scheduler vt;
    recorded<int> r =
        vt.run(record(&vt, eddy::test::count_to(10) | eddy::filter(eddy::test::is_even) |
                               eddy::rate_limit(1, 1min, vt)));
    REQUIRE(r.values == arrivals<int>{{2, 0min}, {4, 1min}, {6, 2min}, {8, 3min}, {10, 4min}});
}

TEST_CASE("rate_limit: an upstream error reaches the consumer", "[stream][rate_limit]") {
    virtual_time_scheduler vt;
    recorded<int> r =
        vt.run(record(&vt, eddy::test::two_then_throw() | eddy::rate_limit(1, 1s, vt)));
    REQUIRE(r.values == arrivals<int>{{1, 0s}, {2, 1s}});
    REQUIRE(is<std::runtime_error>(r.error));
    REQUIRE(r.ended_at == 2s); // the third pull waited for a token, then the upstream threw
}

TEST_CASE("rate_limit: the consumer's stop request cancels the wait for a token",
          "[stream][rate_limit]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    recorded<int> r = run_stopped_after(
        vt, 7s, record(&vt, counted_source(unbounded, &pulls) | eddy::rate_limit(2, 1h, vt)));
    REQUIRE(r.values == arrivals<int>{{1, 0s}, {2, 0s}});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(r.ended_at == 7s);
    REQUIRE(pulls == 2);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("rate_limit: the consumer's stop token reaches the upstream's wait",
          "[stream][rate_limit]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    counted::reset();
    recorded<int> r = run_stopped_after(
        vt, 7s,
        record(&vt, scripted(&vt, {{1s, 1}, {50s, 2}}, 60s, false, counted{}, &pulls) |
                        eddy::rate_limit(5, 1s, vt)));
    REQUIRE(r.values == arrivals<int>{{1, 1s}});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(r.ended_at == 7s);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("rate_limit: destroying the stream while it holds a value frees the upstream",
          "[stream][rate_limit]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    counted::reset();
    {
        stream<int> s = scripted(&vt, {{1s, 1}, {2s, 2}}, 3s, false, counted{}, &pulls) |
                        eddy::rate_limit(1, 1s, vt);
        REQUIRE(vt.run(pull_one(&s)) == 1);
        REQUIRE(counted::alive() == 1);
    }
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("rate_limit: n == 0 or an interval that is not positive is bad input, thrown eagerly",
          "[stream][rate_limit]") {
    virtual_time_scheduler vt;
    REQUIRE_THROWS_AS(eddy::rate_limit(0, 1s, vt), eddy::error);
    REQUIRE_THROWS_AS(eddy::rate_limit(1, 0s, vt), eddy::error);
    REQUIRE_THROWS_AS(eddy::rate_limit(1, -1s, vt), eddy::error);
}
