// Tests of eddy::buffer(n) and eddy::buffer(n, scheduler): order, end, errors, laziness, the
// exact look-ahead (backpressure) in virtual time, cancellation, destruction mid-way, and a
// producer on a thread_pool.
#include <eddy/stream/buffer.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/stream/count.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/counted.hpp>
#include <support/mappers.hpp>
#include <support/stream_consumers.hpp>
#include <support/stream_sources.hpp>
#include <support/timed_streams.hpp>

using eddy::stream;
using eddy::task;
using eddy::virtual_time_scheduler;
using eddy::test::all;
using eddy::test::count_to;
using eddy::test::counted;
using eddy::test::counted_source;
using eddy::test::drain;
using eddy::test::drained;
using eddy::test::is;
using eddy::test::run_stopped_after;
using eddy::test::square;
using eddy::test::take_n;
using eddy::test::timed;
using eddy::test::unbounded;
using namespace std::chrono_literals;

namespace {

using time_point = virtual_time_scheduler::time_point;

struct lead_record {
    std::vector<int> leads; // produced - consumed, right after each value was taken
    std::vector<int> values;
};

// Takes `n` values, sleeping 1 s of virtual time after each (a slow consumer); records the
// producer's lead when `produced` is given.
task<lead_record> consume_slowly(virtual_time_scheduler* vt, stream<int> s, const int* produced,
                                 int n) {
    lead_record out;
    for (int consumed = 1; consumed <= n; ++consumed) {
        std::optional<int> v = co_await s.next();
        out.values.push_back(*v);
        if (produced != nullptr) {
            out.leads.push_back(*produced - consumed);
        }
        co_await eddy::sleep_for(*vt, 1s);
        if (produced != nullptr) {
            out.leads.push_back(*produced - consumed); // the producer did not run meanwhile
        }
    }
    co_return out;
}

// Yields 1, 2, ... each after `period` of virtual time, holding a frame_guard and a counted.
stream<int> slow_source(virtual_time_scheduler* vt, virtual_time_scheduler::duration period,
                        int* destroyed, counted c) {
    return timed(vt, period, period, 1, 1, unbounded, destroyed, std::move(c));
}

stream<int> on_pool_flags(eddy::thread_pool* pool, int n, std::vector<bool>* on_pool) {
    for (int i = 0; i < n; ++i) {
        on_pool->push_back(pool->on_pool_thread());
        co_yield i;
    }
}

struct atomic_guard {
    explicit atomic_guard(std::atomic<int>* d) : destroyed(d) {}
    std::atomic<int>* destroyed;
    atomic_guard(const atomic_guard&) = delete;
    atomic_guard& operator=(const atomic_guard&) = delete;
    ~atomic_guard() {
        destroyed->fetch_add(1);
        destroyed->notify_all();
    }
};

stream<int> endless_on_pool(std::atomic<int>* destroyed) {
    const atomic_guard guard{destroyed};
    for (int i = 0;; ++i) {
        co_yield i;
    }
}

} // namespace

TEST_CASE("buffer: values in order, then the end", "[stream][buffer]") {
    REQUIRE(all(count_to(5) | eddy::buffer(2)) == std::vector<int>{1, 2, 3, 4, 5});
    REQUIRE(all(count_to(5) | eddy::buffer(1)) == std::vector<int>{1, 2, 3, 4, 5});
    REQUIRE(all(count_to(3) | eddy::buffer(100)) == std::vector<int>{1, 2, 3});
    REQUIRE(all(count_to(0) | eddy::buffer(3)).empty());
}

TEST_CASE("buffer: a pipeline in, a pipeline out", "[stream][buffer]") {
    REQUIRE(all(stream<int>(count_to(4) | eddy::map(square) | eddy::buffer(2) |
                            eddy::map(square))) == std::vector<int>{1, 16, 81, 256});
}

TEST_CASE("buffer: a long synchronous stream runs in constant stack", "[stream][buffer]") {
    // Producer and consumer resume each other inline; neither nests deeper per value.
    REQUIRE(eddy::sync_wait(eddy::count(count_to(300'000) | eddy::buffer(1))) == 300'000);
    REQUIRE(eddy::sync_wait(eddy::count(count_to(300'000) | eddy::buffer(7))) == 300'000);
}

TEST_CASE("buffer: lazy, nothing is pulled before the first next()", "[stream][buffer]") {
    int pulls = 0;
    {
        stream<int> s = eddy::test::counted_source(10, &pulls) | eddy::buffer(3);
        REQUIRE(pulls == 0);
    }
    REQUIRE(pulls == 0);
}

TEST_CASE("buffer: move-only values", "[stream][buffer]") {
    std::vector<std::unique_ptr<int>> v = all(eddy::test::boxes(3) | eddy::buffer(2));
    REQUIRE(v.size() == 3);
    REQUIRE(*v[0] == 1);
    REQUIRE(*v[2] == 3);
}

TEST_CASE("buffer: an upstream error arrives after the values before it", "[stream][buffer]") {
    drained<int> r = eddy::sync_wait(drain(eddy::test::two_then_throw() | eddy::buffer(4)));
    REQUIRE(r.values == std::vector<int>{1, 2});
    REQUIRE(is<std::runtime_error>(r.error));
}

TEST_CASE("buffer: size 0 is bad input, thrown eagerly", "[stream][buffer]") {
    virtual_time_scheduler vt;
    REQUIRE_THROWS_AS(eddy::buffer(0), eddy::error);
    REQUIRE_THROWS_AS(eddy::buffer(0, vt), eddy::error);
    REQUIRE_THROWS_WITH(eddy::buffer(0), Catch::Contains("eddy::buffer"));
}

TEST_CASE("buffer: backpressure, an endless fast producer runs exactly n values ahead of a slow "
          "consumer",
          "[stream][buffer]") {
    for (int n : {1, 3, 8}) {
        virtual_time_scheduler vt;
        int produced = 0;
        lead_record r = vt.run(consume_slowly(
            &vt, counted_source(unbounded, &produced) | eddy::buffer(static_cast<std::size_t>(n)),
            &produced, 20));
        std::vector<int> expected_values;
        for (int i = 1; i <= 20; ++i) {
            expected_values.push_back(i);
        }
        REQUIRE(r.values == expected_values);
        // Each value taken frees one slot, which the producer refills at once: exactly n ahead
        // at every step, never more (the buffer is bounded however slow the consumer is).
        REQUIRE(r.leads == std::vector<int>(40, n));
        REQUIRE(vt.now() == time_point{} + 20s);
        REQUIRE(produced == 20 + n); // the stream was destroyed: nothing more was pulled
    }
}

TEST_CASE("buffer: a slow producer and a slow consumer overlap in virtual time",
          "[stream][buffer]") {
    // Producer: a value every 1 s; consumer: 1 s per value. Unbuffered that takes 2 s per value;
    // buffered, the producer works while the consumer sleeps: 1 s per value, plus the first.
    virtual_time_scheduler vt;
    int destroyed = 0;
    counted::reset();
    lead_record r = vt.run(consume_slowly(
        &vt, slow_source(&vt, 1s, &destroyed, counted{}) | eddy::buffer(2), nullptr, 5));
    REQUIRE(r.values == std::vector<int>{1, 2, 3, 4, 5});
    REQUIRE(vt.now() == time_point{} + 6s);
    vt.run_until_idle();
    REQUIRE(destroyed == 1);
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("buffer: destroyed mid-way while the upstream waits on a timer: everything ends",
          "[stream][buffer]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    counted::reset();
    std::vector<int> got =
        vt.run(take_n(slow_source(&vt, 1h, &destroyed, counted{}) | eddy::buffer(3), 2));
    REQUIRE(got == std::vector<int>{1, 2});
    REQUIRE(vt.now() == time_point{} + 2h);
    // The producer is waiting on its next 1 h timer; the stream is gone.
    vt.run_until_idle();
    REQUIRE(destroyed == 1);
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(vt.now() == time_point{} + 2h);
}

TEST_CASE("buffer: destroyed before the producer finished its first value", "[stream][buffer]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    counted::reset();
    {
        stream<int> s = slow_source(&vt, 1h, &destroyed, counted{}) | eddy::buffer(3);
        drained<int> r = run_stopped_after(vt, 30min, drain(&s));
        REQUIRE(r.values.empty());
        REQUIRE(is<eddy::operation_cancelled>(r.error));
    }
    vt.run_until_idle();
    REQUIRE(destroyed == 1);
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("buffer: the consumer's stop request cancels a waiting next() and the upstream",
          "[stream][buffer]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    counted::reset();
    stream<int> s = slow_source(&vt, 1min, &destroyed, counted{}) | eddy::buffer(2);
    drained<int> r = run_stopped_after(vt, 150s, drain(&s));
    REQUIRE(r.values == std::vector<int>{1, 2});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(vt.now() == time_point{} + 150s);
    vt.run_until_idle();
    // The upstream was stopped (its timer cancelled) without waiting for the stream's end.
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(destroyed == 1);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("buffer(n, pool): the producer runs on the pool, the values arrive in order",
          "[stream][buffer][concurrency]") {
    std::vector<bool> on_pool;
    std::vector<int> got;
    {
        eddy::thread_pool pool(2);
        got = all(on_pool_flags(&pool, 5000, &on_pool) | eddy::buffer(16, pool));
    }
    REQUIRE(got.size() == 5000);
    bool ordered = true;
    for (int i = 0; i < 5000; ++i) {
        ordered = ordered && got[static_cast<std::size_t>(i)] == i;
    }
    REQUIRE(ordered);
    REQUIRE(on_pool == std::vector<bool>(5000, true));
}

TEST_CASE("buffer(n, pool): destroyed mid-way, the producer ends on the pool",
          "[stream][buffer][concurrency]") {
    std::atomic<int> destroyed{0};
    eddy::thread_pool pool(2);
    for (int round = 1; round <= 50; ++round) {
        std::vector<int> got =
            eddy::sync_wait(take_n(endless_on_pool(&destroyed) | eddy::buffer(4, pool), 3));
        REQUIRE(got == std::vector<int>{0, 1, 2});
        // The stopped producer destroys its upstream on its own, soon; wait for it.
        for (int seen = destroyed.load(); seen < round; seen = destroyed.load()) {
            destroyed.wait(seen);
        }
        REQUIRE(destroyed.load() == round);
    }
}
