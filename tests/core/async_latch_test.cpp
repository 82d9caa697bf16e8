// Tests of eddy::async_latch.
#include <eddy/core/async_latch.hpp>
#include <eddy/core/awaitable.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

#include <catch2/catch.hpp>

#include <atomic>      // std::atomic
#include <cstddef>     // std::size_t
#include <memory>      // std::unique_ptr, std::make_unique
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

eddy::task<> wait_and_log(eddy::async_latch* l, std::vector<int>* log, int id) {
    co_await l->wait();
    log->push_back(id);
}

eddy::task<> wait_counted(eddy::async_latch* l, std::atomic<int>* woken,
                          std::atomic<int>* cancelled) {
    try {
        co_await l->wait();
    } catch (const eddy::operation_cancelled&) {
        cancelled->fetch_add(1, std::memory_order_relaxed);
        co_return;
    }
    woken->fetch_add(1, std::memory_order_relaxed);
}

} // namespace

TEST_CASE("async_latch: the awaiter satisfies eddy::awaitable", "[core][async_latch]") {
    STATIC_REQUIRE(eddy::awaitable<eddy::async_latch::wait_awaiter>);
    STATIC_REQUIRE(std::is_void_v<eddy::await_result_t<eddy::async_latch::wait_awaiter>>);
}

TEST_CASE("async_latch: bad counts are errors", "[core][async_latch]") {
    REQUIRE_THROWS_AS(eddy::async_latch(-1), eddy::error);
    eddy::async_latch l(2);
    REQUIRE_THROWS_WITH(l.count_down(3), Catch::Contains("below zero"));
    REQUIRE_THROWS_AS(l.count_down(-1), eddy::error);
    REQUIRE_FALSE(l.try_wait()); // the count is unchanged
    l.count_down(2);
    REQUIRE(l.try_wait());
    REQUIRE_THROWS_AS(l.count_down(), eddy::error);
    l.count_down(0); // not below zero
    REQUIRE(l.try_wait());
}

TEST_CASE("async_latch: immediate paths", "[core][async_latch]") {
    eddy::async_latch zero(0);
    REQUIRE(zero.try_wait());
    eddy::sync_wait(zero.wait());

    eddy::async_latch two(2);
    two.count_down();
    REQUIRE_FALSE(two.try_wait());
    two.count_down();
    REQUIRE(two.try_wait());
    eddy::sync_wait(two.wait());
}

TEST_CASE("async_latch: reaching zero wakes every waiter in order", "[core][async_latch]") {
    eddy::async_latch l(3);
    std::vector<int> log;
    outcome o1, o2, o3;
    start(wait_and_log(&l, &log, 1), &o1);
    start(wait_and_log(&l, &log, 2), &o2);
    l.count_down();
    start(wait_and_log(&l, &log, 3), &o3);
    l.count_down();
    REQUIRE(log.empty());
    REQUIRE_FALSE(o1.done);

    l.count_down(); // resumes all three inline
    REQUIRE(log == std::vector<int>{1, 2, 3});
    REQUIRE(o3.done);

    outcome o4;
    start(wait_and_log(&l, &log, 4), &o4);
    REQUIRE(o4.done);
}

TEST_CASE("async_latch: cancellation", "[core][async_latch]") {
    std::vector<int> log;

    SECTION("stop requested before waiting on a nonzero count: cancelled without suspending") {
        eddy::async_latch l(1);
        std::stop_source stop;
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(wait_and_log(&l, &log, 1), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o));
        l.count_down();
        REQUIRE(log.empty());
    }

    SECTION("stop requested before waiting on a zero count: completes") {
        eddy::async_latch l(0);
        std::stop_source stop;
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(wait_and_log(&l, &log, 1), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE_FALSE(o.error);
    }

    SECTION("stop requested while waiting: only that waiter ends, the count is unchanged") {
        eddy::async_latch l(1);
        std::stop_source stop;
        outcome o1, o2, o3;
        start(wait_and_log(&l, &log, 1), &o1);
        start(eddy::with_stop_token(wait_and_log(&l, &log, 2), stop.get_token()), &o2);
        start(wait_and_log(&l, &log, 3), &o3);

        stop.request_stop();
        REQUIRE(o2.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o2));
        REQUIRE_FALSE(o1.done);
        REQUIRE_FALSE(l.try_wait());

        l.count_down();
        REQUIRE(log == std::vector<int>{1, 3});
        REQUIRE(o3.done);
    }
}

TEST_CASE("async_latch: threads count down while others wait", "[core][async_latch][concurrency]") {
    // Each round has a fresh latch of `counters` counts; `waiters` threads wait on it while
    // `counters` threads count it down once each.
    constexpr int waiters = 2;
    constexpr int counters = 2;
    constexpr int rounds = 5'000;
    std::vector<std::unique_ptr<eddy::async_latch>> latches;
    latches.reserve(rounds);
    for (int k = 0; k < rounds; ++k) {
        latches.push_back(std::make_unique<eddy::async_latch>(counters));
    }
    std::atomic<int> woken{0};
    std::atomic<int> cancelled{0};
    {
        std::vector<std::jthread> workers;
        for (int t = 0; t < waiters; ++t) {
            workers.emplace_back([&] {
                for (const auto& latch : latches) {
                    eddy::sync_wait(wait_counted(latch.get(), &woken, &cancelled));
                }
            });
        }
        for (int t = 0; t < counters; ++t) {
            workers.emplace_back([&] {
                for (const auto& latch : latches) {
                    latch->count_down();
                }
            });
        }
    }
    REQUIRE(woken == waiters * rounds);
    REQUIRE(cancelled == 0);
    int open = 0;
    for (const auto& latch : latches) {
        open += latch->try_wait() ? 1 : 0;
    }
    REQUIRE(open == rounds);
}

TEST_CASE("async_latch: a cancellation races with the last count_down",
          "[core][async_latch][concurrency]") {
    constexpr int rounds = 5'000;
    std::vector<std::unique_ptr<eddy::async_latch>> latches;
    latches.reserve(rounds);
    for (int k = 0; k < rounds; ++k) {
        latches.push_back(std::make_unique<eddy::async_latch>(1));
    }
    std::vector<std::stop_source> sources(rounds);
    std::atomic<int> woken{0};
    std::atomic<int> cancelled{0};
    std::atomic<int> started{-1};
    const auto await_round = [](const std::atomic<int>& step, int k) {
        while (step.load(std::memory_order_acquire) < k) {
            std::this_thread::yield();
        }
    };
    {
        std::jthread waiter([&] {
            for (int k = 0; k < rounds; ++k) {
                const auto i = static_cast<std::size_t>(k);
                started.store(k, std::memory_order_release);
                eddy::sync_wait(eddy::with_stop_token(
                    wait_counted(latches[i].get(), &woken, &cancelled), sources[i].get_token()));
            }
        });
        std::jthread counter([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(started, k);
                if (k % 2 == 1) {
                    std::this_thread::yield(); // perturbs timing so that both sides win often
                }
                latches[static_cast<std::size_t>(k)]->count_down();
            }
        });
        std::jthread canceller([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(started, k);
                sources[static_cast<std::size_t>(k)].request_stop();
            }
        });
    }
    REQUIRE(woken + cancelled == rounds);
}
