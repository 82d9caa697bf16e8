// Tests of eddy::async_semaphore.
#include <eddy/core/async_semaphore.hpp>
#include <eddy/core/awaitable.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

#include <catch2/catch.hpp>

#include <atomic>      // std::atomic
#include <cstddef>     // std::size_t
#include <stop_token>  // std::stop_source
#include <thread>      // std::jthread, std::this_thread::yield
#include <type_traits> // std::is_void_v, std::is_same_v
#include <utility>     // std::move
#include <vector>      // std::vector

#include <support/detached.hpp>

using eddy::test::failed_with;
using eddy::test::outcome;
using eddy::test::start;

namespace {

// Takes a permit, records `id`, and keeps the permit.
eddy::task<> acquire_and_log(eddy::async_semaphore* s, std::vector<int>* log, int id) {
    co_await s->acquire();
    log->push_back(id);
}

// Uses `guard` (initially 1) as a mutex around a non-atomic counter, and checks that `slots`
// never lets more than `limit` tasks in at once.
eddy::task<> bounded_work(eddy::async_semaphore* slots, eddy::async_semaphore* guard,
                          std::atomic<int>* inside, int limit, std::atomic<bool>* exceeded,
                          long* counter, int iterations) {
    for (int i = 0; i < iterations; ++i) {
        co_await slots->acquire();
        if (inside->fetch_add(1, std::memory_order_relaxed) >= limit) {
            exceeded->store(true, std::memory_order_relaxed);
        }
        co_await guard->acquire();
        ++*counter;
        guard->release();
        inside->fetch_sub(1, std::memory_order_relaxed);
        slots->release();
    }
}

eddy::task<> acquire_counted(eddy::async_semaphore* s, std::atomic<int>* acquired,
                             std::atomic<int>* cancelled) {
    try {
        co_await s->acquire();
    } catch (const eddy::operation_cancelled&) {
        cancelled->fetch_add(1, std::memory_order_relaxed);
        co_return;
    }
    acquired->fetch_add(1, std::memory_order_relaxed);
}

} // namespace

TEST_CASE("async_semaphore: the awaiter satisfies eddy::awaitable", "[core][async_semaphore]") {
    STATIC_REQUIRE(eddy::awaitable<eddy::async_semaphore::acquire_awaiter>);
    STATIC_REQUIRE(std::is_void_v<eddy::await_result_t<eddy::async_semaphore::acquire_awaiter>>);
}

TEST_CASE("async_semaphore: bad counts are errors", "[core][async_semaphore]") {
    REQUIRE_THROWS_AS(eddy::async_semaphore(-1), eddy::error);
    eddy::async_semaphore s(0);
    REQUIRE_THROWS_WITH(s.release(-1), Catch::Contains("must not be negative"));
    REQUIRE(s.available() == 0);
}

TEST_CASE("async_semaphore: immediate paths", "[core][async_semaphore]") {
    eddy::async_semaphore s(2);
    REQUIRE(s.available() == 2);
    REQUIRE(s.try_acquire());
    eddy::sync_wait(s.acquire());
    REQUIRE(s.available() == 0);
    REQUIRE_FALSE(s.try_acquire());
    s.release(3);
    REQUIRE(s.available() == 3);
    s.release(0);
    REQUIRE(s.available() == 3);
}

TEST_CASE("async_semaphore: waiters get permits in FIFO order", "[core][async_semaphore]") {
    eddy::async_semaphore s(0);
    std::vector<int> log;
    outcome o1, o2, o3, o4;
    start(acquire_and_log(&s, &log, 1), &o1);
    start(acquire_and_log(&s, &log, 2), &o2);
    start(acquire_and_log(&s, &log, 3), &o3);
    start(acquire_and_log(&s, &log, 4), &o4);
    REQUIRE(log.empty());

    s.release(); // one permit: the oldest waiter, resumed inline
    REQUIRE(log == std::vector<int>{1});
    REQUIRE(s.available() == 0);
    REQUIRE_FALSE(s.try_acquire()); // nothing left over for a newcomer

    s.release(2);
    REQUIRE(log == std::vector<int>{1, 2, 3});
    REQUIRE_FALSE(o4.done);

    s.release(3); // one for waiter 4, two left over
    REQUIRE(log == std::vector<int>{1, 2, 3, 4});
    REQUIRE(s.available() == 2);
}

TEST_CASE("async_semaphore: cancellation", "[core][async_semaphore]") {
    std::vector<int> log;

    SECTION("stop requested before waiting with no permit: cancelled without suspending") {
        eddy::async_semaphore s(0);
        std::stop_source stop;
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(acquire_and_log(&s, &log, 1), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o));
        s.release();
        REQUIRE(s.available() == 1); // not handed to the cancelled waiter
    }

    SECTION("stop requested before waiting with a permit: the permit is taken") {
        eddy::async_semaphore s(1);
        std::stop_source stop;
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(acquire_and_log(&s, &log, 1), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE_FALSE(o.error);
        REQUIRE(s.available() == 0);
    }

    SECTION("a cancelled waiter leaves the queue and consumes no permit") {
        eddy::async_semaphore s(0);
        std::stop_source stop;
        outcome o1, o2, o3;
        start(acquire_and_log(&s, &log, 1), &o1);
        start(eddy::with_stop_token(acquire_and_log(&s, &log, 2), stop.get_token()), &o2);
        start(acquire_and_log(&s, &log, 3), &o3);

        stop.request_stop();
        REQUIRE(o2.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o2));

        s.release(3);
        REQUIRE(log == std::vector<int>{1, 3});
        REQUIRE(o1.done);
        REQUIRE(o3.done);
        REQUIRE(s.available() == 1);
    }
}

TEST_CASE("async_semaphore: threads contend; the bound holds and counts are exact",
          "[core][async_semaphore][concurrency]") {
    constexpr int threads = 4;
    constexpr int iterations = 20'000;
    constexpr int limit = 2;
    eddy::async_semaphore slots(limit);
    eddy::async_semaphore guard(1);
    std::atomic<int> inside{0};
    std::atomic<bool> exceeded{false};
    long counter = 0;
    {
        std::vector<std::jthread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&] {
                eddy::sync_wait(
                    bounded_work(&slots, &guard, &inside, limit, &exceeded, &counter, iterations));
            });
        }
    }
    REQUIRE(counter == long{threads} * iterations);
    REQUIRE_FALSE(exceeded);
    REQUIRE(slots.available() == limit);
    REQUIRE(guard.available() == 1);
}

TEST_CASE("async_semaphore: a cancellation races with release",
          "[core][async_semaphore][concurrency]") {
    // Each round: the waiter thread starts a cancellable acquire() on an empty semaphore; then
    // the releaser's release() races with the canceller's request_stop(). A permit either goes
    // to the waiter or stays in the semaphore, never both, never neither.
    constexpr int rounds = 5'000;
    eddy::async_semaphore s(0);
    std::atomic<int> acquired{0};
    std::atomic<int> cancelled{0};
    std::vector<std::stop_source> sources(rounds);
    std::atomic<int> started{-1};
    std::atomic<int> finished{-1};
    std::atomic<int> drained{-1};
    int taken_back = 0;
    const auto await_round = [](const std::atomic<int>& step, int k) {
        while (step.load(std::memory_order_acquire) < k) {
            std::this_thread::yield();
        }
    };
    {
        std::jthread waiter([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(drained, k - 1);
                started.store(k, std::memory_order_release);
                eddy::sync_wait(
                    eddy::with_stop_token(acquire_counted(&s, &acquired, &cancelled),
                                          sources[static_cast<std::size_t>(k)].get_token()));
                finished.store(k, std::memory_order_release);
            }
        });
        std::jthread releaser([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(started, k);
                if (k % 2 == 1) {
                    std::this_thread::yield(); // perturbs timing so that both sides win often
                }
                s.release();
                await_round(finished, k);
                // Take back the permit a cancelled waiter did not get, so the next round starts
                // empty again and really waits.
                taken_back += s.try_acquire() ? 1 : 0;
                drained.store(k, std::memory_order_release);
            }
        });
        std::jthread canceller([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(started, k);
                sources[static_cast<std::size_t>(k)].request_stop();
            }
        });
    }
    REQUIRE(acquired + cancelled == rounds);
    REQUIRE(taken_back == cancelled); // each cancelled waiter left its permit behind
    REQUIRE(s.available() == 0);
}
