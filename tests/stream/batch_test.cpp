// Tests of eddy::batch(n, max_wait, scheduler): full batches at once, due batches at exactly
// first arrival + max_wait, never an empty batch, the partial batch at the end and before an
// error, one value of look-ahead, cancellation and teardown. Virtual time throughout, plus a
// [concurrency] run on a thread_pool that counts every value.
#include <eddy/stream/batch.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/stream/filter.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/counted.hpp>
#include <support/stream_consumers.hpp>
#include <support/stream_sources.hpp>
#include <support/timed_streams.hpp>

using eddy::stream;
using eddy::virtual_time_scheduler;
using eddy::test::all;
using eddy::test::arrivals;
using eddy::test::counted;
using eddy::test::is;
using eddy::test::pull_one;
using eddy::test::record;
using eddy::test::recorded;
using eddy::test::run_stopped_after;
using eddy::test::scripted;
using eddy::test::virtual_time::duration;
using eddy::test::virtual_time::epoch;
using namespace std::chrono_literals;
using ints = std::vector<int>;

TEST_CASE("batch: a synchronous upstream fills batches of n, then the partial one at the end",
          "[stream][batch]") {
    virtual_time_scheduler vt;
    recorded<ints> r = vt.run(record(&vt, eddy::test::count_to(7) | eddy::batch(3, 1s, vt)));
    REQUIRE(r.values == arrivals<ints>{{{1, 2, 3}, 0s}, {{4, 5, 6}, 0s}, {{7}, 0s}});
    REQUIRE_FALSE(r.error);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("batch: emitted when full or max_wait after its first value, at exact times, never "
          "empty",
          "[stream][batch]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    counted::reset();
    // max_wait 2 s: {1, 2} is due at 1 s + 2 s; {3, 4} is due at 7 s, when 5 arrives (it opens
    // the next batch: the window is [first, first + max_wait)); {5} is due at 9 s; nothing
    // arrives from 9 s to 20 s, so nothing is emitted; {6, 7, 8} is full at 21 s; {9} is
    // flushed by the end at 23 s.
    recorded<ints> r = vt.run(record(&vt, scripted(&vt,
                                                   {{1s, 1},
                                                    {2s, 2},
                                                    {5s, 3},
                                                    {6s, 4},
                                                    {7s, 5},
                                                    {20s, 6},
                                                    {20500ms, 7},
                                                    {21s, 8},
                                                    {22s, 9}},
                                                   23s, false, counted{}, &pulls) |
                                              eddy::batch(3, 2s, vt)));
    REQUIRE(r.values ==
            arrivals<ints>{{{1, 2}, 3s}, {{3, 4}, 7s}, {{5}, 9s}, {{6, 7, 8}, 21s}, {{9}, 23s}});
    REQUIRE_FALSE(r.error);
    REQUIRE(r.ended_at == 23s);
    REQUIRE(pulls == 10);
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("batch: an upstream error comes after the partial batch, on the following next()",
          "[stream][batch]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    stream<ints> s = scripted(&vt, {{1s, 1}, {2s, 2}}, 2500ms, true, counted{}, &pulls) |
                     eddy::batch(5, 10s, vt);
    REQUIRE(vt.run(pull_one(&s)) == ints{1, 2});
    REQUIRE(vt.now() == epoch + 2500ms);
    REQUIRE_THROWS_AS(vt.run(pull_one(&s)), std::runtime_error);
    REQUIRE(vt.now() == epoch + 2500ms);
    REQUIRE(vt.run(pull_one(&s)) == std::nullopt); // then the stream has ended
}

TEST_CASE("batch: an upstream error with no batch open comes at once", "[stream][batch]") {
    virtual_time_scheduler vt;
    recorded<ints> r = vt.run(record(&vt, eddy::test::two_then_throw() | eddy::batch(2, 1s, vt)));
    REQUIRE(r.values == arrivals<ints>{{{1, 2}, 0s}});
    REQUIRE(is<std::runtime_error>(r.error));
}

TEST_CASE("batch: lazy, and one value of look-ahead while the consumer holds a due batch",
          "[stream][batch]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    stream<ints> s =
        scripted(&vt, {{1s, 1}, {10s, 2}, {11s, 3}, {12s, 4}}, 13s, false, counted{}, &pulls) |
        eddy::batch(10, 2s, vt);
    vt.advance(1s);
    REQUIRE(pulls == 0);
    // {1} is due at 3 s; the pull for 2 is pending then, and stays pending.
    REQUIRE(vt.run(pull_one(&s)) == ints{1});
    REQUIRE(vt.now() == epoch + 3s);
    vt.advance_to(epoch + 100s); // a slow consumer: 2 arrives at 10 s and waits, alone
    REQUIRE(pulls == 2);
    // 2 arrived at 10 s: its batch was due at 12 s, so it is emitted as soon as it is pulled.
    REQUIRE(vt.run(pull_one(&s)) == ints{2});
    REQUIRE(vt.now() == epoch + 100s);
    REQUIRE(pulls == 3);
}

TEST_CASE("batch: move-only values, and a pipeline upstream", "[stream][batch]") {
    virtual_time_scheduler vt;
    std::vector<std::vector<std::unique_ptr<int>>> boxes =
        vt.run(eddy::to_vector(eddy::test::boxes(3) | eddy::batch(2, 1s, vt)));
    REQUIRE(boxes.size() == 2);
    REQUIRE(*boxes[0][0] == 1);
    REQUIRE(*boxes[0][1] == 2);
    REQUIRE(*boxes[1][0] == 3);

    recorded<ints> r = vt.run(record(
        &vt, eddy::test::count_to(6) | eddy::filter(eddy::test::is_even) | eddy::batch(2, 1s, vt)));
    REQUIRE(r.values == arrivals<ints>{{{2, 4}, 0s}, {{6}, 0s}});
}

TEST_CASE("batch: the consumer's stop request cancels the waiting next() and the upstream",
          "[stream][batch]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    counted::reset();
    recorded<ints> r = run_stopped_after(
        vt, 7s,
        record(&vt, scripted(&vt, {{1s, 1}, {2s, 2}, {50s, 3}}, 60s, false, counted{}, &pulls) |
                        eddy::batch(2, 1h, vt)));
    REQUIRE(r.values == arrivals<ints>{{{1, 2}, 2s}});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(r.ended_at == 7s);
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("batch: destroying the stream with a pull pending stops and frees the upstream",
          "[stream][batch]") {
    virtual_time_scheduler vt;
    int pulls = 0;
    counted::reset();
    {
        stream<ints> s = scripted(&vt, {{1s, 1}, {1h, 2}}, 2h, false, counted{}, &pulls) |
                         eddy::batch(5, 1s, vt);
        REQUIRE(vt.run(pull_one(&s)) == ints{1}); // due at 2 s; the pull for 2 stays pending
        REQUIRE(vt.pending_timers() == 1);        // the upstream's, until 1 h
        REQUIRE(counted::alive() == 1);
    }
    vt.run_until_idle(); // the stopped upstream's cancelled wait resumes here
    REQUIRE(vt.now() == epoch + 2s);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
    REQUIRE(pulls == 2);
}

TEST_CASE("batch: n == 0 or a max_wait that is not positive is bad input, thrown eagerly",
          "[stream][batch]") {
    virtual_time_scheduler vt;
    REQUIRE_THROWS_AS(eddy::batch(0, 1s, vt), eddy::error);
    REQUIRE_THROWS_AS(eddy::batch(1, 0s, vt), eddy::error);
    REQUIRE_THROWS_AS(eddy::batch(1, -1s, vt), eddy::error);
}

namespace {

// Yields 0..n-1 from the pool; every `pause_every` values it waits `pause` on a pool timer, so
// batches fall due while a pull is pending (the race the operator must not lose a value in).
stream<int> from_pool(eddy::thread_pool* pool, int n, int pause_every, duration pause) {
    for (int i = 0; i < n; ++i) {
        if (i % pause_every == 0) {
            co_await pool->schedule_after(pause);
        } else {
            co_await pool->schedule();
        }
        co_yield i;
    }
}

} // namespace

TEST_CASE("batch on a thread_pool: every value exactly once, in order, no empty batch",
          "[stream][batch][concurrency]") {
    eddy::thread_pool pool(2);
    constexpr int n = 3'000;
    for (duration max_wait : {duration(20us), duration(200us), duration(1h)}) {
        std::vector<ints> batches =
            all(from_pool(&pool, n, 50, 100us) | eddy::batch(7, max_wait, pool));
        ints flat;
        for (const ints& b : batches) {
            REQUIRE_FALSE(b.empty());
            REQUIRE(b.size() <= 7);
            flat.insert(flat.end(), b.begin(), b.end());
        }
        REQUIRE(flat.size() == static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            REQUIRE(flat[static_cast<std::size_t>(i)] == i);
        }
    }
}
