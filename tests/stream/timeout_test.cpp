// Tests of eddy::timeout(d, scheduler): values in time pass, a late one fails the next() with
// eddy::timeout_error at exactly pull time + d, and the pending upstream pull is stopped and
// freed. Virtual time throughout, plus a [concurrency] run on a thread_pool.
#include <eddy/stream/timeout.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/stream/map.hpp>

#include <support/counted.hpp>
#include <support/stream_consumers.hpp>
#include <support/stream_sources.hpp>
#include <support/timed_streams.hpp>

using eddy::stream;
using eddy::virtual_time_scheduler;
using eddy::test::arrivals;
using eddy::test::counted;
using eddy::test::drain;
using eddy::test::drained;
using eddy::test::is;
using eddy::test::pull_one;
using eddy::test::record;
using eddy::test::recorded;
using eddy::test::run_stopped_after;
using eddy::test::scripted;
using eddy::test::virtual_time::duration;
using eddy::test::virtual_time::epoch;
using namespace std::chrono_literals;

namespace {

// Yields 1, 2, 3, ..., each `delay` after it was pulled.
stream<int> each_after(virtual_time_scheduler* vt, duration delay, int n, int* pulls) {
    for (int i = 1; i <= n; ++i) {
        ++*pulls;
        co_await vt->schedule_after(delay);
        co_yield i;
    }
}

} // namespace

TEST_CASE("timeout: values within the limit pass, in order and at their times, then the end",
          "[stream][timeout]") {
    virtual_time_scheduler vt;
    counted::reset();
    recorded<int> r =
        vt.run(record(&vt,
                      scripted(&vt, {{1s, 1}, {2s, 2}, {3s, 3}}, 4s, false, counted{}) |
                          eddy::timeout(1500ms, vt),
                      0s));
    REQUIRE(r.values == arrivals<int>{{1, 1s}, {2, 2s}, {3, 3s}});
    REQUIRE_FALSE(r.error);
    REQUIRE(r.ended_at == 4s);
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("timeout: a late upstream fails the next() at exactly pull time + d with timeout_error",
          "[stream][timeout]") {
    virtual_time_scheduler vt;
    counted::reset();
    recorded<int> r = vt.run(record(
        &vt, scripted(&vt, {{1s, 1}, {5s, 2}}, 6s, false, counted{}) | eddy::timeout(2s, vt), 0s));
    REQUIRE(r.values == arrivals<int>{{1, 1s}});
    REQUIRE(is<eddy::timeout_error>(r.error));
    REQUIRE(r.ended_at == 3s); // pulled at 1 s, limit 2 s
    // The pending pull was stopped: its timer is gone and its frame freed, long before 5 s.
    vt.run_until_idle();
    REQUIRE(vt.now() == epoch + 3s);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("timeout: the limit counts from each pull, not from the stream's start",
          "[stream][timeout]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    // Each value comes 1 s after its pull; the consumer waits 10 s between pulls.
    recorded<int> r =
        vt.run(record(&vt, each_after(&vt, 1s, 3, &pulls) | eddy::timeout(1500ms, vt), 10s));
    REQUIRE(r.values == arrivals<int>{{1, 1s}, {2, 12s}, {3, 23s}});
    REQUIRE_FALSE(r.error);
    REQUIRE(r.ended_at == 33s);
    REQUIRE(pulls == 3);
}

TEST_CASE("timeout: no look-ahead, the upstream is pulled only inside next()",
          "[stream][timeout]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    stream<int> s = each_after(&vt, 1s, 5, &pulls) | eddy::timeout(2s, vt);
    REQUIRE(pulls == 0); // lazy
    REQUIRE(vt.run(pull_one(&s)) == 1);
    vt.advance(1h);
    REQUIRE(pulls == 1);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(vt.run(pull_one(&s)) == 2);
    REQUIRE(pulls == 2);
}

TEST_CASE("timeout: an upstream error in time reaches the consumer", "[stream][timeout]") {
    virtual_time_scheduler vt;
    recorded<int> r = vt.run(
        record(&vt, scripted(&vt, {{1s, 1}}, 2s, true, counted{}) | eddy::timeout(5s, vt), 0s));
    REQUIRE(r.values == arrivals<int>{{1, 1s}});
    REQUIRE(is<std::runtime_error>(r.error));
    REQUIRE_FALSE(is<eddy::timeout_error>(r.error));
    REQUIRE(r.ended_at == 2s);
}

TEST_CASE("timeout: a synchronous upstream and a pipeline pass through", "[stream][timeout]") {
    virtual_time_scheduler vt;
    recorded<int> r = vt.run(record(&vt, eddy::test::count_to(3) | eddy::map([](int x) {
                                             return x * 10;
                                         }) | eddy::timeout(1s, vt),
                                    0s));
    REQUIRE(r.values == arrivals<int>{{10, 0s}, {20, 0s}, {30, 0s}});
    REQUIRE_FALSE(r.error);
}

TEST_CASE("timeout: the consumer's stop request cancels the waiting next() and the upstream",
          "[stream][timeout]") {
    virtual_time_scheduler vt;
    counted::reset();
    recorded<int> r = run_stopped_after(
        vt, 7s,
        record(&vt,
               scripted(&vt, {{1s, 1}, {50s, 2}}, 60s, false, counted{}) | eddy::timeout(1h, vt),
               0s));
    REQUIRE(r.values == arrivals<int>{{1, 1s}});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(r.ended_at == 7s);
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("timeout: destroying the stream mid-way frees the upstream", "[stream][timeout]") {
    virtual_time_scheduler vt;
    counted::reset();
    {
        stream<int> s =
            scripted(&vt, {{1s, 1}, {2s, 2}}, 3s, false, counted{}) | eddy::timeout(10s, vt);
        REQUIRE(vt.run(pull_one(&s)) == 1);
        REQUIRE(counted::alive() == 1);
    }
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("timeout: a limit that is not positive is bad input, thrown eagerly",
          "[stream][timeout]") {
    virtual_time_scheduler vt;
    REQUIRE_THROWS_AS(eddy::timeout(0s, vt), eddy::error);
    REQUIRE_THROWS_AS(eddy::timeout(-1ms, vt), eddy::error);
}

namespace {

stream<int> hops(eddy::thread_pool* pool, int n) {
    for (int i = 0; i < n; ++i) {
        co_await pool->schedule();
        co_yield i;
    }
}

// Yields `n` values at once (so no real-time limit can catch them), then waits on a pool timer
// far longer than the test.
stream<int> then_hangs(eddy::thread_pool* pool, int n, counted guard) {
    static_cast<void>(guard);
    for (int i = 0; i < n; ++i) {
        co_yield i;
    }
    co_await pool->schedule_after(1h);
    co_yield -1;
}

} // namespace

TEST_CASE("timeout on a thread_pool: every value of a fast upstream, in order; a hung one times "
          "out and is freed",
          "[stream][timeout][concurrency]") {
    counted::reset();
    {
        eddy::thread_pool pool(2);
        constexpr int n = 2'000;
        drained<int> fast = eddy::sync_wait(drain(hops(&pool, n) | eddy::timeout(1h, pool)));
        REQUIRE_FALSE(fast.error);
        REQUIRE(fast.values.size() == static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            REQUIRE(fast.values[static_cast<std::size_t>(i)] == i);
        }

        drained<int> hung =
            eddy::sync_wait(drain(then_hangs(&pool, 100, counted{}) | eddy::timeout(1ms, pool)));
        REQUIRE(hung.values.size() == 100);
        REQUIRE(hung.values.back() == 99);
        REQUIRE(is<eddy::timeout_error>(hung.error));
    } // the pool drains its queue: the stopped pull has finished
    REQUIRE(counted::alive() == 0);
}
