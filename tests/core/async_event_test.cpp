// Tests of eddy::async_event.
#include <eddy/core/async_event.hpp>
#include <eddy/core/awaitable.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

#include <catch2/catch.hpp>

#include <atomic>      // std::atomic
#include <cstddef>     // std::size_t
#include <memory>      // std::unique_ptr
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

eddy::task<> wait_and_log(eddy::async_event* e, std::vector<int>* log, int id) {
    co_await e->wait();
    log->push_back(id);
}

// Resets the event when woken and waits again: set() must still wake the waiters queued
// beside it, while this one's second wait waits for the next set().
eddy::task<> wait_reset_wait(eddy::async_event* e, std::vector<int>* log, int id) {
    co_await e->wait();
    log->push_back(id);
    e->reset();
    co_await e->wait();
    log->push_back(id * 10);
}

eddy::task<> wait_counted(eddy::async_event* e, std::atomic<int>* woken,
                          std::atomic<int>* cancelled) {
    try {
        co_await e->wait();
    } catch (const eddy::operation_cancelled&) {
        cancelled->fetch_add(1, std::memory_order_relaxed);
        co_return;
    }
    woken->fetch_add(1, std::memory_order_relaxed);
}

} // namespace

TEST_CASE("async_event: the awaiter satisfies eddy::awaitable", "[core][async_event]") {
    STATIC_REQUIRE(eddy::awaitable<eddy::async_event::wait_awaiter>);
    STATIC_REQUIRE(std::is_void_v<eddy::await_result_t<eddy::async_event::wait_awaiter>>);
}

TEST_CASE("async_event: set, reset, is_set and immediate waits", "[core][async_event]") {
    eddy::async_event unset;
    REQUIRE_FALSE(unset.is_set());
    eddy::async_event e(true);
    REQUIRE(e.is_set());
    eddy::sync_wait(e.wait()); // completes at once
    e.reset();
    REQUIRE_FALSE(e.is_set());
    e.set();
    e.set(); // idempotent
    REQUIRE(e.is_set());
    eddy::sync_wait(e.wait());
}

TEST_CASE("async_event: set wakes every waiter in order", "[core][async_event]") {
    eddy::async_event e;
    std::vector<int> log;
    outcome o1, o2, o3;
    start(wait_and_log(&e, &log, 1), &o1);
    start(wait_and_log(&e, &log, 2), &o2);
    start(wait_and_log(&e, &log, 3), &o3);
    REQUIRE(log.empty());
    REQUIRE_FALSE(o1.done);

    e.set(); // resumes all three inline
    REQUIRE(log == std::vector<int>{1, 2, 3});
    REQUIRE(o3.done);

    outcome o4;
    start(wait_and_log(&e, &log, 4), &o4); // still set: completes at once
    REQUIRE(o4.done);
}

TEST_CASE("async_event: a waiter that resets and waits again inside set()", "[core][async_event]") {
    eddy::async_event e;
    std::vector<int> log;
    outcome o1, o2;
    start(wait_reset_wait(&e, &log, 1), &o1);
    start(wait_and_log(&e, &log, 2), &o2);

    e.set(); // waiter 1 resets and waits again; waiter 2 was already taken by this set()
    REQUIRE(log == std::vector<int>{1, 2});
    REQUIRE(o2.done);
    REQUIRE_FALSE(o1.done);
    REQUIRE_FALSE(e.is_set());

    e.set();
    REQUIRE(log == std::vector<int>{1, 2, 10});
    REQUIRE(o1.done);
}

TEST_CASE("async_event: cancellation", "[core][async_event]") {
    std::vector<int> log;

    SECTION("stop requested before waiting on an unset event: cancelled without suspending") {
        eddy::async_event e;
        std::stop_source stop;
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(wait_and_log(&e, &log, 1), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o));
        e.set();
        REQUIRE(log.empty());
    }

    SECTION("stop requested before waiting on a set event: completes") {
        eddy::async_event e(true);
        std::stop_source stop;
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(wait_and_log(&e, &log, 1), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE_FALSE(o.error);
        REQUIRE(log == std::vector<int>{1});
    }

    SECTION("stop requested while waiting: only that waiter ends") {
        eddy::async_event e;
        std::stop_source stop;
        outcome o1, o2, o3;
        start(wait_and_log(&e, &log, 1), &o1);
        start(eddy::with_stop_token(wait_and_log(&e, &log, 2), stop.get_token()), &o2);
        start(wait_and_log(&e, &log, 3), &o3);

        stop.request_stop();
        REQUIRE(o2.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o2));
        REQUIRE_FALSE(o1.done);
        REQUIRE_FALSE(e.is_set());

        e.set();
        REQUIRE(log == std::vector<int>{1, 3});
        REQUIRE(o1.done);
        REQUIRE(o3.done);
    }

    SECTION("stop requested after set() woke the waiter changes nothing") {
        eddy::async_event e;
        std::stop_source stop;
        outcome o;
        start(eddy::with_stop_token(wait_and_log(&e, &log, 1), stop.get_token()), &o);
        e.set();
        stop.request_stop();
        REQUIRE(o.done);
        REQUIRE_FALSE(o.error);
        REQUIRE(log == std::vector<int>{1});
    }
}

TEST_CASE("async_event: waiters on many threads are all woken",
          "[core][async_event][concurrency]") {
    // Each round has a fresh event; `threads` threads wait on it while another sets it.
    constexpr int threads = 4;
    constexpr int rounds = 5'000;
    const std::unique_ptr<eddy::async_event[]> events(new eddy::async_event[rounds]);
    std::atomic<int> woken{0};
    std::atomic<int> cancelled{0};
    {
        std::vector<std::jthread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&] {
                for (int k = 0; k < rounds; ++k) {
                    eddy::sync_wait(
                        wait_counted(&events[static_cast<std::size_t>(k)], &woken, &cancelled));
                }
            });
        }
        workers.emplace_back([&] {
            for (int k = 0; k < rounds; ++k) {
                events[static_cast<std::size_t>(k)].set();
            }
        });
    }
    REQUIRE(woken == threads * rounds);
    REQUIRE(cancelled == 0);
}

TEST_CASE("async_event: a cancellation races with set", "[core][async_event][concurrency]") {
    // Each round: the waiter thread starts a cancellable wait() on a fresh event; the setter's
    // set() races with the canceller's request_stop(). Exactly one of them ends the wait.
    constexpr int rounds = 5'000;
    const std::unique_ptr<eddy::async_event[]> events(new eddy::async_event[rounds]);
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
                eddy::sync_wait(eddy::with_stop_token(wait_counted(&events[i], &woken, &cancelled),
                                                      sources[i].get_token()));
            }
        });
        std::jthread setter([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(started, k);
                if (k % 2 == 1) {
                    std::this_thread::yield(); // perturbs timing so that both sides win often
                }
                events[static_cast<std::size_t>(k)].set();
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
    int set = 0;
    for (int k = 0; k < rounds; ++k) {
        set += events[static_cast<std::size_t>(k)].is_set() ? 1 : 0;
    }
    REQUIRE(set == rounds);
}
