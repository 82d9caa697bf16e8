// eddy/core/inline_scheduler.hpp - a scheduler that resumes the caller at once, on its own thread.
#pragma once

#include <chrono>             // std::chrono::steady_clock
#include <condition_variable> // std::condition_variable_any
#include <coroutine>          // std::coroutine_handle
#include <mutex>              // std::mutex
#include <stop_token>         // std::stop_token

#include <eddy/core/detail/stop_token_of.hpp>
#include <eddy/core/error.hpp>

namespace eddy {

/// The trivial scheduler: `schedule()` never suspends, `schedule_after(d)` blocks the calling
/// thread for `d` (waking early with `eddy::operation_cancelled` when the awaiting task's stop
/// token is triggered). Useful where a scheduler parameter is needed but no hop is wanted.
/// Stateless; every member may be called from any thread.
///
///     eddy::inline_scheduler s;
///     co_await s.schedule(); // continues on the same thread, without suspending
class inline_scheduler {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using duration = clock::duration;

    [[nodiscard]] time_point now() const noexcept { return clock::now(); }

    [[nodiscard]] std::suspend_never schedule() const noexcept { return {}; }

    class sleep_awaiter {
    public:
        explicit sleep_awaiter(time_point deadline) noexcept : m_deadline(deadline) {}
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> h) {
            std::stop_token token = detail::stop_token_of(h);
            std::mutex mutex;
            std::condition_variable_any cv;
            std::unique_lock lock(mutex);
            // Only a stop request ends the wait early; the predicate is never true otherwise.
            m_cancelled = cv.wait_until(lock, token, m_deadline, [] { return false; }) ||
                          token.stop_requested();
            return false;
        }
        void await_resume() const {
            if (m_cancelled) {
                throw operation_cancelled("eddy: timer wait cancelled");
            }
        }

    private:
        time_point m_deadline;
        bool m_cancelled = false;
    };

    /// Blocks the calling thread for `d`, then continues without suspending.
    [[nodiscard]] sleep_awaiter schedule_after(duration d) const noexcept {
        return sleep_awaiter{now() + d};
    }
    [[nodiscard]] sleep_awaiter schedule_at(time_point t) const noexcept {
        return sleep_awaiter{t};
    }
};

} // namespace eddy
