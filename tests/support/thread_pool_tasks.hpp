// tests/support/thread_pool_tasks.hpp - tasks that the combinator tests (when_all, when_any) run
// on a real eddy::thread_pool, to check cancellation across threads.
#pragma once

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>

#include <chrono> // std::chrono::steady_clock

namespace eddy::test {

/// Waits `d` on `pool`'s timer; true when the wait ended by cancellation rather than by time.
/// Pass a `d` far longer than the test, so only a stop request can end it.
inline eddy::task<bool> cancelled_pool_wait(eddy::thread_pool& pool,
                                            std::chrono::steady_clock::duration d) {
    bool cancelled = false;
    try {
        co_await pool.schedule_after(d);
    } catch (const eddy::operation_cancelled&) {
        cancelled = true;
    }
    co_return cancelled;
}

} // namespace eddy::test
