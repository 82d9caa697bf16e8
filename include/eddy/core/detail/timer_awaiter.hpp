// eddy/core/detail/timer_awaiter.hpp - a cancellable wait until a deadline, on any eddy scheduler.
#pragma once

#include <chrono>     // std::chrono::steady_clock
#include <coroutine>  // std::coroutine_handle
#include <optional>   // std::optional
#include <stop_token> // std::stop_callback

#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/stop_token_of.hpp>
#include <eddy/core/detail/timer_heap.hpp>
#include <eddy/core/error.hpp>

namespace eddy::detail {

// Scheduler requirements (called with the awaiter's node):
//   bool arm_timer(timer_node&, const std::stop_token&)  arms under the scheduler's timer lock
//       unless stop is already requested (or the scheduler is shutting down): returns false then;
//   void cancel_timer(timer_node&) noexcept  if the timer is still armed: disarms it, marks it
//       cancelled and queues its coroutine to resume on the scheduler, all under the timer lock
//       (so a concurrent shutdown cannot slip between disarming and queuing).
template <class Scheduler>
class timer_awaiter : private timer_node {
public:
    timer_awaiter(Scheduler& scheduler, std::chrono::steady_clock::time_point deadline) noexcept
        : m_scheduler(&scheduler) {
        m_deadline = deadline;
    }
    // Movable until awaited (so when_all/when_any can take it by value); never after.
    timer_awaiter(timer_awaiter&& other) noexcept : m_scheduler(other.m_scheduler) {
        m_deadline = other.m_deadline;
    }
    timer_awaiter& operator=(timer_awaiter&&) = delete;

    bool await_ready() const noexcept { return false; }

    template <class Promise>
    EDDY_AWAIT_SUSPEND_NOINLINE bool await_suspend(std::coroutine_handle<Promise> awaiting) {
        m_handle = awaiting;
        std::stop_token token = detail::stop_token_of(awaiting);
        // The callback is registered before the timer is armed: once armed, the timer may fire
        // and the coroutine resume (and destroy this awaiter) on another thread at any moment.
        // arm_timer checks stop_requested under the timer lock, so a stop request that raced
        // with the registration is seen either there or by the callback, never by neither.
        if (token.stop_possible()) {
            m_on_stop.emplace(token, cancel{this});
        }
        if (!m_scheduler->arm_timer(*this, token)) {
            m_cancelled = true;
            return false;
        }
        return true;
    }

    void await_resume() {
        m_on_stop.reset();
        if (m_cancelled) {
            throw operation_cancelled("eddy: timer wait cancelled");
        }
    }

private:
    struct cancel {
        timer_awaiter* m_self;
        void operator()() const noexcept { m_self->m_scheduler->cancel_timer(*m_self); }
    };

    Scheduler* m_scheduler;
    std::optional<std::stop_callback<cancel>> m_on_stop;
};

} // namespace eddy::detail
