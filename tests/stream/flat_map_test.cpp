// Tests of eddy::flat_map(f, n): inner streams and tasks, completion order, the concurrency
// bound (a counter of inner operations in flight), exact virtual times, pulling the upstream
// only for a free slot, errors, cancellation, destruction mid-way, and a thread_pool stress.
#include <eddy/stream/flat_map.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/count.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/take.hpp>
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
using eddy::test::arrivals;
using eddy::test::count_to;
using eddy::test::counted;
using eddy::test::drain;
using eddy::test::drained;
using eddy::test::frame_guard;
using eddy::test::inner_then_throw;
using eddy::test::is;
using eddy::test::record_to_end;
using eddy::test::repeat;
using eddy::test::run_stopped_after;
using eddy::test::square;
using eddy::test::take_n;
using eddy::test::ticks;
using eddy::test::twice_task;
using eddy::test::virtual_time::duration;
using eddy::test::virtual_time::epoch;
using eddy::test::virtual_time::fail_after;
using eddy::test::virtual_time::time_point;
using namespace std::chrono_literals;

namespace {

// Inner operations in flight (started and not finished), and the most seen at once.
struct flight {
    int now = 0;
    int most = 0;
    int started = 0;
    int destroyed = 0;
};

// An inner task: sleeps `d` of virtual time, counted in flight meanwhile; returns x.
task<int> sleepy(virtual_time_scheduler* vt, flight* f, int x, duration d, counted c) {
    const frame_guard guard{&f->destroyed};
    ++f->started;
    ++f->now;
    f->most = std::max(f->most, f->now);
    co_await eddy::sleep_for(*vt, d);
    --f->now;
    co_return x + 0 * c.id();
}

// f for flat_map: x sleeps durations[x - 1] (seconds).
struct sleep_by_table {
    virtual_time_scheduler* vt;
    flight* f;
    std::vector<int> seconds;
    task<int> operator()(int x) const {
        return sleepy(vt, f, x, std::chrono::seconds(seconds[static_cast<std::size_t>(x - 1)]),
                      counted{});
    }
};

// Samples `*value` at the given virtual times.
task<std::vector<int>> sample(virtual_time_scheduler* vt, const int* value,
                              std::vector<duration> at) {
    std::vector<int> out;
    for (duration d : at) {
        co_await vt->schedule_at(time_point{} + d);
        out.push_back(*value);
    }
    co_return out;
}

} // namespace

TEST_CASE("flat_map: inner streams, sequential when n == 1", "[stream][flat_map]") {
    REQUIRE(all(count_to(3) | eddy::flat_map([](int x) { return repeat(x, x); }, 1)) ==
            std::vector<int>{1, 2, 2, 3, 3, 3});
}

TEST_CASE("flat_map: inner tasks, one value each", "[stream][flat_map]") {
    REQUIRE(all(count_to(4) | eddy::flat_map(twice_task, 2)) == std::vector<int>{2, 4, 6, 8});
}

TEST_CASE("flat_map: many synchronous inner operations run in constant stack",
          "[stream][flat_map]") {
    REQUIRE(eddy::sync_wait(eddy::count(count_to(200'000) | eddy::flat_map(twice_task, 1))) ==
            200'000);
    REQUIRE(eddy::sync_wait(eddy::count(count_to(200'000) | eddy::flat_map(twice_task, 16))) ==
            200'000);
}

TEST_CASE("flat_map: inner pipelines, and a pipeline upstream", "[stream][flat_map]") {
    auto f = [](int x) { return repeat(x, 2) | eddy::map(square); };
    REQUIRE(all(count_to(2) | eddy::map(square) | eddy::flat_map(f, 1)) ==
            std::vector<int>{1, 1, 16, 16});
}

TEST_CASE("flat_map: at most n inner tasks in flight, completion order, exact virtual time",
          "[stream][flat_map]") {
    virtual_time_scheduler vt;
    flight f;
    counted::reset();
    // Element 1 takes 4 s, the others 1 s: 2, 3, 4 finish at 1 s and free their slots for
    // 5, 6, 7 (done at 2 s), then 8 (3 s); 1 comes last, at 4 s. Sequentially: 11 s.
    arrivals<int> got = vt.run(record_to_end(
        &vt, count_to(8) | eddy::flat_map(sleep_by_table{&vt, &f, {4, 1, 1, 1, 1, 1, 1, 1}}, 4)));
    REQUIRE(got ==
            arrivals<int>{{2, 1s}, {3, 1s}, {4, 1s}, {5, 2s}, {6, 2s}, {7, 2s}, {8, 3s}, {1, 4s}});
    REQUIRE(vt.now() == epoch + 4s);
    REQUIRE(f.most == 4);
    REQUIRE(f.now == 0);
    REQUIRE(f.started == 8);
    REQUIRE(f.destroyed == 8);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("flat_map(f, 4): never more than 4 in flight; the upstream is pulled only for a free "
          "slot",
          "[stream][flat_map]") {
    virtual_time_scheduler vt;
    flight f;
    int pulls = 0;
    // 10 elements of 1 s each: waves of 4, 4, 2 -> 3 s in all.
    auto [got, pulled] = vt.run(eddy::when_all(
        eddy::to_vector(eddy::test::counted_source(10, &pulls) |
                        eddy::flat_map(sleep_by_table{&vt, &f, std::vector<int>(10, 1)}, 4)),
        sample(&vt, &pulls, {0s, 500ms, 1500ms, 2500ms})));
    REQUIRE(got == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    REQUIRE(pulled == std::vector<int>{4, 4, 8, 10});
    REQUIRE(vt.now() == time_point{} + 3s);
    REQUIRE(f.most == 4);
    REQUIRE(f.started == 10);
}

TEST_CASE("flat_map: inner streams interleave, each keeps its order", "[stream][flat_map]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    // Inner x yields x*10+1, x*10+2 every x seconds; two at a time.
    struct f_t {
        virtual_time_scheduler* vt;
        int* destroyed;
        stream<int> operator()(int x) const {
            return ticks(vt, x, 2, std::chrono::seconds(x), destroyed);
        }
    };
    arrivals<int> got =
        vt.run(record_to_end(&vt, count_to(3) | eddy::flat_map(f_t{&vt, &destroyed}, 2)));
    // 1: 11 at 1 s, 12 at 2 s (slot free at 2 s: 3 starts); 2: 21 at 2 s (its timer was armed
    // before 12's), 22 at 4 s; 3: 31 at 5 s, 32 at 8 s.
    REQUIRE(got == arrivals<int>{{11, 1s}, {21, 2s}, {12, 2s}, {22, 4s}, {31, 5s}, {32, 8s}});
    REQUIRE(destroyed == 3);
}

TEST_CASE("flat_map: max_concurrency 0 is bad input, thrown eagerly", "[stream][flat_map]") {
    REQUIRE_THROWS_AS(eddy::flat_map(twice_task, 0), eddy::error);
    REQUIRE_THROWS_WITH(eddy::flat_map(twice_task, 0), Catch::Contains("eddy::flat_map"));
}

TEST_CASE("flat_map: lazy, nothing is pulled or called before the first next()",
          "[stream][flat_map]") {
    int pulls = 0;
    int calls = 0;
    {
        auto f = [&calls](int x) {
            ++calls;
            return twice_task(x);
        };
        stream<int> s = eddy::test::counted_source(3, &pulls) | eddy::flat_map(f, 2);
        REQUIRE(pulls == 0);
    }
    REQUIRE(pulls == 0);
    REQUIRE(calls == 0);
}

TEST_CASE("flat_map: errors of the upstream, of f and of an inner stream reach the consumer",
          "[stream][flat_map]") {
    drained<int> r =
        eddy::sync_wait(drain(eddy::test::two_then_throw() | eddy::flat_map(twice_task, 1)));
    REQUIRE(r.values == std::vector<int>{2, 4});
    REQUIRE(is<std::runtime_error>(r.error));

    auto bad_f = [](int x) {
        if (x == 3) {
            throw std::runtime_error("f failed");
        }
        return twice_task(x);
    };
    r = eddy::sync_wait(drain(count_to(5) | eddy::flat_map(bad_f, 1)));
    REQUIRE(r.values == std::vector<int>{2, 4});
    REQUIRE(is<std::runtime_error>(r.error));

    r = eddy::sync_wait(drain(count_to(5) | eddy::flat_map(inner_then_throw, 1)));
    REQUIRE(r.values == std::vector<int>{1});
    REQUIRE(is<std::runtime_error>(r.error));
}

TEST_CASE("flat_map: the first inner error stops the other inner operations",
          "[stream][flat_map]") {
    virtual_time_scheduler vt;
    flight f;
    counted::reset();
    struct f_t {
        virtual_time_scheduler* vt;
        flight* f;
        task<int> operator()(int x) const {
            if (x == 2) {
                return fail_after(*vt, 1500ms, "inner failed");
            }
            return sleepy(vt, f, x, std::chrono::seconds(x), counted{});
        }
    };
    drained<int> r = vt.run(drain(count_to(5) | eddy::flat_map(f_t{&vt, &f}, 3)));
    REQUIRE(is<std::runtime_error>(r.error));
    REQUIRE(r.values == std::vector<int>{1}); // 1 at 1 s; 2 failed at 1.5 s while 3 and 4 slept
    REQUIRE(vt.now() == time_point{} + 1500ms);
    vt.run_until_idle();
    REQUIRE(f.started == 3); // 1, 3, then 4 in the slot 1 freed
    REQUIRE(f.destroyed == 3);
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("flat_map: destroyed mid-way while inner tasks wait on timers: everything ends",
          "[stream][flat_map]") {
    virtual_time_scheduler vt;
    flight f;
    counted::reset();
    int pulls = 0;
    std::vector<int> got = vt.run(
        take_n(eddy::test::counted_source(100, &pulls) |
                   eddy::flat_map(sleep_by_table{&vt, &f, {1, 5, 5, 5, 5, 5, 5, 5, 5, 5}}, 4),
               1));
    REQUIRE(got == std::vector<int>{1});
    REQUIRE(vt.now() == time_point{} + 1s);
    // 1's slot went to 5 before vt.run destroyed the consumer's frame: 2, 3, 4, 5 sleep.
    REQUIRE(f.now == 4);
    vt.run_until_idle();
    REQUIRE(f.destroyed == 5);
    REQUIRE(f.started == 5);
    REQUIRE(pulls == 5);
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(vt.now() == time_point{} + 1s);
}

TEST_CASE("flat_map: the consumer's stop request cancels a waiting next() and every inner",
          "[stream][flat_map]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    struct f_t {
        virtual_time_scheduler* vt;
        int* destroyed;
        stream<int> operator()(int x) const { return ticks(vt, x, 100, 1min, destroyed); }
    };
    stream<int> s = count_to(5) | eddy::flat_map(f_t{&vt, &destroyed}, 2);
    drained<int> r = run_stopped_after(vt, 150s, drain(&s));
    REQUIRE(r.values == std::vector<int>{11, 21, 12, 22});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    vt.run_until_idle();
    REQUIRE(destroyed == 2);
    REQUIRE(vt.pending_timers() == 0);
}

namespace {

struct pool_flight {
    std::atomic<int> now{0};
    std::atomic<int> most{0};
};

task<long> pool_inner(eddy::thread_pool* pool, pool_flight* f, long x) {
    const int in_flight = f->now.fetch_add(1) + 1;
    int seen = f->most.load();
    while (in_flight > seen && !f->most.compare_exchange_weak(seen, in_flight)) {
    }
    co_await pool->schedule();
    const long result = x * 3;
    f->now.fetch_sub(1);
    co_return result;
}

stream<long> pool_inner_stream(eddy::thread_pool* pool, long x) {
    co_await pool->schedule();
    co_yield x;
    co_await pool->schedule();
    co_yield -x;
}

stream<long> naturals(long n) {
    for (long i = 1; i <= n; ++i) {
        co_yield i;
    }
}

} // namespace

TEST_CASE("flat_map on a thread_pool: exact values, never more than n in flight",
          "[stream][flat_map][concurrency]") {
    constexpr long n = 3000;
    pool_flight f;
    eddy::thread_pool pool(3);
    for (int round = 0; round < 3; ++round) {
        auto fn = [&pool, &f](long x) { return pool_inner(&pool, &f, x); };
        std::vector<long> got = all(naturals(n) | eddy::flat_map(fn, 4));
        std::sort(got.begin(), got.end());
        std::vector<long> expected;
        for (long i = 1; i <= n; ++i) {
            expected.push_back(i * 3);
        }
        REQUIRE(got == expected);
        REQUIRE(f.most.load() <= 4);
        REQUIRE(f.now.load() == 0);

        auto gn = [&pool](long x) { return pool_inner_stream(&pool, x); };
        std::vector<long> pairs = all(naturals(n) | eddy::flat_map(gn, 8));
        REQUIRE(pairs.size() == static_cast<std::size_t>(2 * n));
        std::vector<std::size_t> first_at(n + 1, 0);
        bool in_order = true;
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            const long v = pairs[i];
            if (v > 0) {
                first_at[static_cast<std::size_t>(v)] = i + 1;
            } else {
                in_order = in_order && first_at[static_cast<std::size_t>(-v)] != 0;
            }
        }
        REQUIRE(in_order);
    }
}

TEST_CASE("flat_map on a thread_pool: destroyed mid-way", "[stream][flat_map][concurrency]") {
    // One counter per stream: inner tasks of a destroyed stream may still be finishing on the
    // pool while the next stream runs.
    std::vector<std::unique_ptr<pool_flight>> flights;
    {
        eddy::thread_pool pool(2);
        for (int round = 0; round < 20; ++round) {
            pool_flight* f = flights.emplace_back(std::make_unique<pool_flight>()).get();
            auto fn = [&pool, f](long x) { return pool_inner(&pool, f, x); };
            stream<long> s = naturals(1'000'000) | eddy::flat_map(fn, 4);
            std::vector<long> got = eddy::sync_wait(eddy::to_vector(
                stream<long>(std::move(s) | eddy::map([](long v) { return v; }) | eddy::take(50))));
            REQUIRE(got.size() == 50);
            auto gn = [&pool](long x) { return pool_inner_stream(&pool, x); };
            got = eddy::sync_wait(eddy::to_vector(
                stream<long>(naturals(1'000'000) | eddy::flat_map(gn, 4) | eddy::take(50))));
            REQUIRE(got.size() == 50);
        }
    } // the pool runs out what the stopped inner operations still had queued
    for (const auto& f : flights) {
        REQUIRE(f->most.load() <= 4);
        REQUIRE(f->now.load() == 0);
    }
}
