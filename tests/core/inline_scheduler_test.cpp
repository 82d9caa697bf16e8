// Tests of eddy::inline_scheduler: schedule() continues on the same thread without suspending;
// schedule_after blocks the calling thread at least the duration (no upper bound is asserted);
// a stop request, before or during the wait (from another thread), ends it with
// operation_cancelled.
#include <eddy/core/inline_scheduler.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <coroutine>
#include <latch>
#include <stop_token>
#include <thread>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

using namespace std::chrono_literals;
using eddy::inline_scheduler;
using eddy::task;

namespace {

using clock = std::chrono::steady_clock;

task<std::thread::id> thread_after_schedule(inline_scheduler s) {
    co_await s.schedule();
    co_return std::this_thread::get_id();
}

task<void> sleep_on(inline_scheduler s, clock::duration d) { co_await s.schedule_after(d); }

task<void> sleep_until(inline_scheduler s, clock::time_point t) { co_await s.schedule_at(t); }

// True when the wait ended by cancellation; counts `started` down just before waiting.
task<bool> cancelled_wait(inline_scheduler s, clock::duration d, std::latch* started) {
    bool cancelled = false;
    started->count_down();
    try {
        co_await s.schedule_after(d);
    } catch (const eddy::operation_cancelled&) {
        cancelled = true;
    }
    co_return cancelled;
}

} // namespace

TEST_CASE("inline_scheduler: schedule() does not suspend and stays on the thread",
          "[core][inline_scheduler]") {
    inline_scheduler s;
    REQUIRE(s.schedule().await_ready());
    REQUIRE(eddy::sync_wait(thread_after_schedule(s)) == std::this_thread::get_id());
}

TEST_CASE("inline_scheduler: now() is the steady clock", "[core][inline_scheduler]") {
    const inline_scheduler s;
    const clock::time_point before = clock::now();
    const clock::time_point now = s.now();
    REQUIRE(now >= before);
    REQUIRE(clock::now() >= now);
}

TEST_CASE("inline_scheduler: schedule_after blocks the calling thread at least the duration",
          "[core][inline_scheduler]") {
    inline_scheduler s;
    const clock::time_point before = clock::now();
    eddy::sync_wait(sleep_on(s, 5ms));
    REQUIRE(clock::now() - before >= 5ms);

    const clock::time_point deadline = clock::now() + 3ms;
    eddy::sync_wait(sleep_until(s, deadline));
    REQUIRE(clock::now() >= deadline);

    // A deadline in the past, or no delay, does not wait (and is not a cancellation).
    REQUIRE_NOTHROW(eddy::sync_wait(sleep_until(s, clock::time_point{})));
    REQUIRE_NOTHROW(eddy::sync_wait(sleep_on(s, 0s)));
    REQUIRE_NOTHROW(eddy::sync_wait(sleep_on(s, -1s)));
}

TEST_CASE("inline_scheduler: a stop request before the wait cancels it at once",
          "[core][inline_scheduler]") {
    inline_scheduler s;
    std::stop_source source;
    source.request_stop();
    std::latch started(1);
    // An hour-long wait that returns at once: the test would otherwise never end.
    REQUIRE(eddy::sync_wait(
        eddy::with_stop_token(cancelled_wait(s, 1h, &started), source.get_token())));
}

TEST_CASE("inline_scheduler: a stop request from another thread ends a blocked wait",
          "[core][inline_scheduler][concurrency]") {
    inline_scheduler s;
    std::stop_source source;
    std::latch started(1);
    // The stopper waits until the waiter is about to block, so the request usually lands while
    // it is blocked; if it lands just before, the wait is cancelled as it starts. Either way the
    // one-hour wait ends with operation_cancelled.
    std::thread stopper([&] {
        started.wait();
        source.request_stop();
    });
    const bool cancelled =
        eddy::sync_wait(eddy::with_stop_token(cancelled_wait(s, 1h, &started), source.get_token()));
    stopper.join();
    REQUIRE(cancelled);
}

TEST_CASE("inline_scheduler: an uncancelled wait ends normally", "[core][inline_scheduler]") {
    inline_scheduler s;
    std::stop_source source; // never stopped
    std::latch started(1);
    REQUIRE_FALSE(eddy::sync_wait(
        eddy::with_stop_token(cancelled_wait(s, 1ms, &started), source.get_token())));
}
