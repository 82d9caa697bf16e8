// Tests of eddy::async_mutex and eddy::async_mutex_lock.
#include <eddy/core/async_mutex.hpp>
#include <eddy/core/awaitable.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

#include <catch2/catch.hpp>

#include <atomic>      // std::atomic
#include <cstddef>     // std::size_t
#include <mutex>       // std::adopt_lock
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

// Takes the lock, records `id`, and keeps the lock.
eddy::task<> lock_and_log(eddy::async_mutex* m, std::vector<int>* log, int id) {
    co_await m->lock();
    log->push_back(id);
}

eddy::task<> scoped_increment(eddy::async_mutex* m, long* counter, int times) {
    for (int i = 0; i < times; ++i) {
        auto guard = co_await m->scoped_lock();
        ++*counter;
    }
}

eddy::task<> lock_increment_unlock(eddy::async_mutex* m, long* counter, std::atomic<int>* acquired,
                                   std::atomic<int>* cancelled) {
    try {
        co_await m->lock();
    } catch (const eddy::operation_cancelled&) {
        cancelled->fetch_add(1, std::memory_order_relaxed);
        co_return;
    }
    ++*counter;
    acquired->fetch_add(1, std::memory_order_relaxed);
    m->unlock();
}

eddy::task<> lock_unlock_loop(eddy::async_mutex* m, int times) {
    for (int i = 0; i < times; ++i) {
        co_await m->lock();
        m->unlock();
    }
}

} // namespace

TEST_CASE("async_mutex: awaiters satisfy eddy::awaitable", "[core][async_mutex]") {
    STATIC_REQUIRE(eddy::awaitable<eddy::async_mutex::lock_awaiter>);
    STATIC_REQUIRE(std::is_void_v<eddy::await_result_t<eddy::async_mutex::lock_awaiter>>);
    STATIC_REQUIRE(std::is_same_v<eddy::await_result_t<eddy::async_mutex::scoped_lock_awaiter>,
                                  eddy::async_mutex_lock>);
    STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<eddy::async_mutex_lock>);
    STATIC_REQUIRE(std::is_nothrow_move_constructible_v<eddy::async_mutex_lock>);
}

TEST_CASE("async_mutex: try_lock and unlock", "[core][async_mutex]") {
    eddy::async_mutex m;
    REQUIRE(m.try_lock());
    REQUIRE_FALSE(m.try_lock());
    m.unlock();
    REQUIRE(m.try_lock());
    m.unlock();
}

TEST_CASE("async_mutex: a free mutex is locked without suspending", "[core][async_mutex]") {
    eddy::async_mutex m;
    std::vector<int> log;
    outcome o;
    start(lock_and_log(&m, &log, 1), &o);
    REQUIRE(o.done);
    REQUIRE(log == std::vector<int>{1});
    REQUIRE_FALSE(m.try_lock());
    m.unlock();
    REQUIRE(m.try_lock());
    m.unlock();
}

TEST_CASE("async_mutex: sync_wait on lock() and scoped_lock()", "[core][async_mutex]") {
    eddy::async_mutex m;
    eddy::sync_wait(m.lock());
    REQUIRE_FALSE(m.try_lock());
    m.unlock();
    {
        eddy::async_mutex_lock guard = eddy::sync_wait(m.scoped_lock());
        REQUIRE(guard.owns_lock());
        REQUIRE_FALSE(m.try_lock());
    }
    REQUIRE(m.try_lock());
    m.unlock();
}

TEST_CASE("async_mutex: a million uncontended locks do not grow the stack", "[core][async_mutex]") {
    eddy::async_mutex m;
    eddy::sync_wait(lock_unlock_loop(&m, 1'000'000));
    REQUIRE(m.try_lock());
    m.unlock();
}

TEST_CASE("async_mutex_lock: move, early unlock, adopt", "[core][async_mutex]") {
    eddy::async_mutex m;
    REQUIRE(m.try_lock());
    eddy::async_mutex_lock a(m, std::adopt_lock);
    eddy::async_mutex_lock b(std::move(a));
    REQUIRE_FALSE(a.owns_lock()); // NOLINT(bugprone-use-after-move): moved-from state is defined
    REQUIRE(b.owns_lock());
    REQUIRE_FALSE(m.try_lock());
    b.unlock();
    REQUIRE_FALSE(b.owns_lock());
    REQUIRE(m.try_lock());
    eddy::async_mutex_lock c(m, std::adopt_lock);
    c = std::move(b); // unlocks what c held; b held nothing
    REQUIRE_FALSE(c.owns_lock());
    REQUIRE(m.try_lock());
    m.unlock();
}

TEST_CASE("async_mutex: waiters get the lock in FIFO order, without barging",
          "[core][async_mutex]") {
    eddy::async_mutex m;
    REQUIRE(m.try_lock());
    std::vector<int> log;
    outcome o1, o2, o3;
    start(lock_and_log(&m, &log, 1), &o1);
    start(lock_and_log(&m, &log, 2), &o2);
    start(lock_and_log(&m, &log, 3), &o3);
    REQUIRE(log.empty());
    REQUIRE_FALSE(o1.done);

    m.unlock(); // hands the lock to waiter 1, resumed inline
    REQUIRE(log == std::vector<int>{1});
    REQUIRE(o1.done);
    REQUIRE_FALSE(o2.done);
    REQUIRE_FALSE(m.try_lock()); // still held (by waiter 1): no barging

    m.unlock();
    REQUIRE(log == std::vector<int>{1, 2});
    m.unlock();
    REQUIRE(log == std::vector<int>{1, 2, 3});
    REQUIRE(o3.done);
    m.unlock();
    REQUIRE(m.try_lock());
    m.unlock();
}

TEST_CASE("async_mutex: scoped_lock guards hand over in order", "[core][async_mutex]") {
    eddy::async_mutex m;
    REQUIRE(m.try_lock());
    long counter = 0;
    outcome o1, o2;
    start(scoped_increment(&m, &counter, 3), &o1);
    start(scoped_increment(&m, &counter, 2), &o2);
    REQUIRE(counter == 0);
    m.unlock();
    REQUIRE(o1.done);
    REQUIRE(o2.done);
    REQUIRE(counter == 5);
    REQUIRE(m.try_lock());
    m.unlock();
}

TEST_CASE("async_mutex: cancellation", "[core][async_mutex]") {
    eddy::async_mutex m;
    std::vector<int> log;

    SECTION("stop requested before waiting on a held mutex: cancelled without suspending") {
        REQUIRE(m.try_lock());
        std::stop_source stop;
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(lock_and_log(&m, &log, 1), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o));
        m.unlock();
        REQUIRE(m.try_lock()); // the cancelled waiter left nothing behind
        m.unlock();
    }

    SECTION("stop requested before waiting on a free mutex: the lock is taken") {
        std::stop_source stop;
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(lock_and_log(&m, &log, 1), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE_FALSE(o.error);
        REQUIRE(log == std::vector<int>{1});
        REQUIRE_FALSE(m.try_lock());
        m.unlock();
    }

    SECTION("stop requested while waiting: the waiter leaves the queue, the others keep order") {
        REQUIRE(m.try_lock());
        std::stop_source stop;
        outcome o1, o2, o3;
        start(lock_and_log(&m, &log, 1), &o1);
        start(eddy::with_stop_token(lock_and_log(&m, &log, 2), stop.get_token()), &o2);
        start(lock_and_log(&m, &log, 3), &o3);
        REQUIRE_FALSE(o2.done);

        stop.request_stop(); // resumes waiter 2 inline, with operation_cancelled
        REQUIRE(o2.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o2));
        REQUIRE_FALSE(o1.done);
        REQUIRE_FALSE(o3.done);

        m.unlock();
        REQUIRE(log == std::vector<int>{1});
        m.unlock();
        REQUIRE(log == std::vector<int>{1, 3});
        m.unlock();
        REQUIRE(m.try_lock());
        m.unlock();
    }

    SECTION("stop requested after the lock was handed over changes nothing") {
        REQUIRE(m.try_lock());
        std::stop_source stop;
        outcome o;
        start(eddy::with_stop_token(lock_and_log(&m, &log, 1), stop.get_token()), &o);
        m.unlock();
        REQUIRE(o.done);
        REQUIRE_FALSE(o.error);
        stop.request_stop();
        REQUIRE_FALSE(m.try_lock()); // waiter 1 still holds it
        m.unlock();
    }
}

TEST_CASE("async_mutex: threads contend; a non-atomic counter ends exact",
          "[core][async_mutex][concurrency]") {
    constexpr int threads = 4;
    constexpr int iterations = 20'000;
    eddy::async_mutex m;
    long counter = 0;
    {
        std::vector<std::jthread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back(
                [&] { eddy::sync_wait(scoped_increment(&m, &counter, iterations)); });
        }
    }
    REQUIRE(counter == long{threads} * iterations);
    REQUIRE(m.try_lock());
    m.unlock();
}

TEST_CASE("async_mutex: a cancellation races with the hand-over",
          "[core][async_mutex][concurrency]") {
    // Each round: the holder thread takes the mutex; the waiter thread starts a cancellable
    // lock(); then the holder's unlock() races with the canceller's request_stop(). Exactly one
    // of them must end the wait, and the mutex must stay consistent either way.
    constexpr int rounds = 5'000;
    eddy::async_mutex m;
    long counter = 0;
    std::atomic<int> acquired{0};
    std::atomic<int> cancelled{0};
    std::vector<std::stop_source> sources(rounds);
    std::atomic<int> held{-1};
    std::atomic<int> started{-1};
    std::atomic<int> finished{-1};
    const auto await_round = [](const std::atomic<int>& step, int k) {
        while (step.load(std::memory_order_acquire) < k) {
            std::this_thread::yield();
        }
    };
    {
        std::jthread holder([&] {
            for (int k = 0; k < rounds; ++k) {
                eddy::sync_wait(m.lock());
                held.store(k, std::memory_order_release);
                await_round(started, k);
                if (k % 2 == 1) {
                    std::this_thread::yield(); // perturbs timing so that both sides win often
                }
                m.unlock();
                await_round(finished, k);
            }
        });
        std::jthread waiter([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(held, k);
                started.store(k, std::memory_order_release);
                eddy::sync_wait(eddy::with_stop_token(
                    lock_increment_unlock(&m, &counter, &acquired, &cancelled),
                    sources[static_cast<std::size_t>(k)].get_token()));
                finished.store(k, std::memory_order_release);
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
    REQUIRE(counter == acquired);
    REQUIRE(m.try_lock());
    m.unlock();
}
