// Tests of eddy::thread_pool: bad input, schedule() moving work onto pool threads, many
// coroutines hopping across 8 threads, real timers in deadline order (never asserting an upper
// bound on time), cancellation of a long timer, shutdown (cancels armed timers, runs queued
// work, rejects later work, refuses to run on a pool thread, may be called from two threads at
// once) and the destructor.
#include <eddy/core/thread_pool.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <latch>
#include <stop_token>
#include <thread>
#include <vector>

#include <eddy/core/async_scope.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/when_all.hpp>

#include <support/counted.hpp>

using namespace std::chrono_literals;
using eddy::task;
using eddy::thread_pool;
using eddy::test::counted;

namespace {

using clock = std::chrono::steady_clock;

// Where a coroutine found itself after a hop.
struct placement {
    bool on_pool = false;
    std::thread::id thread;
};

task<placement> hop(thread_pool& pool) {
    co_await pool.schedule();
    co_return placement{pool.on_pool_thread(), std::this_thread::get_id()};
}

// Hops onto `theirs`; tells whether the thread belongs to `mine`.
task<bool> on_pool_thread_of(thread_pool& mine, thread_pool& theirs) {
    co_await theirs.schedule();
    co_return mine.on_pool_thread();
}

// Hops `hops` times, counting each in a shared atomic and in a plain local that travels with
// the frame from thread to thread.
task<int> hop_many(thread_pool& pool, int hops, std::atomic<long>* total) {
    int local = 0;
    for (int i = 0; i < hops; ++i) {
        co_await pool.schedule();
        ++local;
        total->fetch_add(1, std::memory_order_relaxed);
    }
    co_return local;
}

// A resumption of a timer wait: which waiter, whether it was on a pool thread, and whether at
// least its deadline had passed.
struct firing {
    int id;
    bool on_pool;
    bool not_early;
};

task<void> wait_until_and_record(thread_pool& pool, clock::time_point deadline, int id,
                                 std::vector<firing>* log) {
    co_await pool.schedule_at(deadline);
    log->push_back({id, pool.on_pool_thread(), clock::now() >= deadline});
}

// The outcome of a timed wait.
struct outcome {
    bool finished = false;
    bool cancelled = false;
    bool on_pool = false;
};

task<void> wait_observed(thread_pool& pool, clock::duration d, outcome* out) {
    co_await pool.schedule(); // start on the pool, so the wait is armed from a pool thread
    bool cancelled = false;
    try {
        co_await pool.schedule_after(d);
    } catch (const eddy::operation_cancelled&) {
        cancelled = true;
    }
    out->cancelled = cancelled;
    out->on_pool = pool.on_pool_thread();
    out->finished = true;
}

task<void> request_stop_on(thread_pool& pool, std::stop_source source) {
    co_await pool.schedule();
    source.request_stop();
}

task<void> just_hop(thread_pool& pool) { co_await pool.schedule(); }

task<bool> shutdown_from_inside(thread_pool& pool) {
    co_await pool.schedule();
    bool threw = false;
    try {
        pool.shutdown();
    } catch (const eddy::error&) {
        threw = true;
    }
    co_return threw;
}

task<void> sleep_on(thread_pool& pool, clock::duration d) { co_await pool.schedule_after(d); }

// Hops `hops` times, then counts itself; holds a counted object in its frame.
task<void> chain(thread_pool& pool, int hops, counted c, std::atomic<int>* done) {
    for (int i = 0; i < hops; ++i) {
        co_await pool.schedule();
    }
    if (c.id() >= 0) {
        done->fetch_add(1, std::memory_order_relaxed);
    }
}

} // namespace

TEST_CASE("thread_pool: zero threads is bad input", "[core][thread_pool]") {
    REQUIRE_THROWS_AS(thread_pool(0), eddy::error);
    REQUIRE_THROWS_WITH(thread_pool(0), Catch::Contains("at least one thread"));
}

TEST_CASE("thread_pool: schedule() resumes the caller on a pool thread",
          "[core][thread_pool][concurrency]") {
    thread_pool pool(3);
    REQUIRE(pool.thread_count() == 3);
    REQUIRE_FALSE(pool.on_pool_thread());

    const placement p = eddy::sync_wait(hop(pool));
    REQUIRE(p.on_pool);
    REQUIRE(p.thread != std::this_thread::get_id());

    // Another pool's thread is not this pool's thread.
    thread_pool other(1);
    REQUIRE_FALSE(eddy::sync_wait(on_pool_thread_of(pool, other)));
}

TEST_CASE("thread_pool: 8 threads, many coroutines hopping, exact counts",
          "[core][thread_pool][concurrency]") {
    thread_pool pool(8);
    constexpr int coroutines = 64;
    constexpr int hops = 300;
    std::atomic<long> total{0};
    std::vector<task<int>> work;
    for (int i = 0; i < coroutines; ++i) {
        work.push_back(hop_many(pool, hops, &total));
    }
    const std::vector<int> locals = eddy::sync_wait(eddy::when_all(std::move(work)));
    REQUIRE(total.load() == long{coroutines} * hops);
    REQUIRE(locals == std::vector<int>(coroutines, hops));
}

TEST_CASE("thread_pool: timers fire in deadline order, never early, on a pool thread",
          "[core][thread_pool][concurrency]") {
    // One worker: resumption order is the order the timer thread made them ready.
    thread_pool pool(1);
    std::vector<firing> log;
    const clock::time_point base = clock::now() + 50ms; // every timer is armed before any is due
    eddy::sync_wait(eddy::when_all(wait_until_and_record(pool, base + 15ms, 0, &log),
                                   wait_until_and_record(pool, base + 1ms, 1, &log),
                                   wait_until_and_record(pool, base + 8ms, 2, &log),
                                   wait_until_and_record(pool, base + 8ms, 3, &log),
                                   wait_until_and_record(pool, base, 4, &log)));
    REQUIRE(log.size() == 5);
    const std::vector<int> expected{4, 1, 2, 3, 0}; // equal deadlines in arming order
    for (std::size_t i = 0; i < log.size(); ++i) {
        REQUIRE(log[i].id == expected[i]);
        REQUIRE(log[i].on_pool);
        REQUIRE(log[i].not_early);
    }
}

TEST_CASE("thread_pool: schedule_after waits at least the duration",
          "[core][thread_pool][concurrency]") {
    thread_pool pool(2);
    const clock::time_point before = clock::now();
    eddy::sync_wait(sleep_on(pool, 5ms));
    REQUIRE(clock::now() - before >= 5ms);
}

TEST_CASE("thread_pool: a stop request cancels a one-hour wait at once, on a pool thread",
          "[core][thread_pool][concurrency]") {
    SECTION("requested on the pool after the timer is armed") {
        // One worker and FIFO: the stopper runs only once the waiter has armed its timer and
        // suspended.
        thread_pool pool(1);
        std::stop_source source;
        outcome out;
        eddy::sync_wait(
            eddy::when_all(eddy::with_stop_token(wait_observed(pool, 1h, &out), source.get_token()),
                           request_stop_on(pool, source)));
        REQUIRE(out.finished);
        REQUIRE(out.cancelled);
        REQUIRE(out.on_pool);
    }

    SECTION("requested from another thread, at any moment") {
        thread_pool pool(2);
        std::stop_source source;
        outcome out;
        std::thread stopper([&source] { source.request_stop(); });
        eddy::sync_wait(eddy::with_stop_token(wait_observed(pool, 1h, &out), source.get_token()));
        stopper.join();
        REQUIRE(out.cancelled);
        REQUIRE(out.on_pool);
    }

    SECTION("requested before the wait") {
        thread_pool pool(1);
        std::stop_source source;
        source.request_stop();
        outcome out;
        eddy::sync_wait(eddy::with_stop_token(wait_observed(pool, 1h, &out), source.get_token()));
        REQUIRE(out.cancelled);
        REQUIRE(out.on_pool);
    }
}

TEST_CASE("thread_pool: shutdown cancels an armed timer; the waiter sees operation_cancelled",
          "[core][thread_pool][concurrency]") {
    eddy::async_scope scope;
    outcome out;
    thread_pool pool(1);
    scope.spawn(wait_observed(pool, 1h, &out));
    // With one worker and a FIFO queue, this hop runs only after the waiter armed its timer.
    eddy::sync_wait(just_hop(pool));
    REQUIRE_FALSE(out.finished);

    pool.shutdown();
    REQUIRE(out.finished);
    REQUIRE(out.cancelled);
    REQUIRE(out.on_pool);
    eddy::sync_wait(scope.join());
}

TEST_CASE("thread_pool: shutdown runs all queued work, including work it queues",
          "[core][thread_pool][concurrency]") {
    counted::reset();
    eddy::async_scope scope;
    std::atomic<int> done{0};
    {
        thread_pool pool(2);
        for (int i = 0; i < 100; ++i) {
            scope.spawn(chain(pool, 50, counted{}, &done));
        }
        pool.shutdown();
        REQUIRE(done.load() == 100);
        REQUIRE(counted::alive() == 0);
        pool.shutdown(); // idempotent
    }
    eddy::sync_wait(scope.join());
}

TEST_CASE("thread_pool: after shutdown, schedule() throws and timers are cancelled at once",
          "[core][thread_pool][concurrency]") {
    thread_pool pool(2);
    eddy::sync_wait(just_hop(pool));
    pool.shutdown();
    REQUIRE_THROWS_AS(eddy::sync_wait(just_hop(pool)), eddy::error);
    REQUIRE_THROWS_WITH(eddy::sync_wait(just_hop(pool)), Catch::Contains("shut down"));
    REQUIRE_THROWS_AS(eddy::sync_wait(sleep_on(pool, 1h)), eddy::operation_cancelled);
}

TEST_CASE("thread_pool: shutdown from a pool thread throws eddy::error",
          "[core][thread_pool][concurrency]") {
    thread_pool pool(2);
    REQUIRE(eddy::sync_wait(shutdown_from_inside(pool)));
    // The pool still works.
    REQUIRE(eddy::sync_wait(hop(pool)).on_pool);
}

TEST_CASE("thread_pool: the destructor cancels timers, drains the queue and joins",
          "[core][thread_pool][concurrency]") {
    counted::reset();
    eddy::async_scope scope; // outlives the pool
    std::atomic<int> done{0};
    outcome timer;
    {
        thread_pool pool(4);
        scope.spawn(wait_observed(pool, 1h, &timer));
        for (int i = 0; i < 50; ++i) {
            scope.spawn(chain(pool, 20, counted{}, &done));
        }
    }
    // The destructor returned: every piece of work has finished, on a pool thread.
    REQUIRE(done.load() == 50);
    REQUIRE(timer.finished);
    REQUIRE(timer.cancelled);
    REQUIRE(timer.on_pool);
    REQUIRE(counted::alive() == 0);
    auto join = scope.join();
    REQUIRE(join.await_ready());
}

// shutdown() is documented as idempotent and callable from any thread, so two threads may call
// it at once (say, a signal-handling thread and main). Both must return, with the pool shut.
TEST_CASE("thread_pool: shutdown called from two threads at once",
          "[core][thread_pool][concurrency]") {
    for (int round = 0; round < 10; ++round) {
        thread_pool pool(2);
        eddy::sync_wait(just_hop(pool));
        std::atomic<int> failed{0};
        std::latch start(2);
        auto shut_down = [&pool, &failed, &start] {
            start.arrive_and_wait();
            try {
                pool.shutdown();
            } catch (...) {
                failed.fetch_add(1);
            }
        };
        std::thread a(shut_down);
        std::thread b(shut_down);
        a.join();
        b.join();
        REQUIRE(failed.load() == 0);
        REQUIRE_THROWS_AS(eddy::sync_wait(just_hop(pool)), eddy::error);
    }
}
