// eddy/core/virtual_time_scheduler.hpp - a deterministic scheduler whose clock only moves when
// told.
#pragma once

#include <chrono>      // std::chrono::steady_clock
#include <coroutine>   // std::coroutine_handle
#include <cstddef>     // std::size_t
#include <mutex>       // std::mutex, std::lock_guard
#include <stop_token>  // std::stop_token
#include <type_traits> // std::conditional_t
#include <utility>     // std::forward

#include <eddy/core/awaitable.hpp>
#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/driver_task.hpp>
#include <eddy/core/detail/timer_awaiter.hpp>
#include <eddy/core/detail/timer_heap.hpp>
#include <eddy/core/error.hpp>

namespace eddy {

/// A single-threaded scheduler with a virtual clock, for deterministic tests of timeouts,
/// retries, backoff, TTLs and polling without sleeping.
///
/// Work runs only inside `run`, `run_until_idle` and `advance`, on the thread that calls them;
/// that is where every awaiter of `schedule()`/`schedule_after()` resumes. Ready work runs in
/// FIFO order; timers fire in deadline order (equal deadlines in arming order), each with
/// `now()` equal to its deadline. `run(awaitable)` jumps the clock to the next deadline whenever
/// nothing is ready, so a test of a one-hour backoff takes microseconds.
/// A `schedule_after` wait ends early with `eddy::operation_cancelled` when the awaiting task's
/// stop token is triggered (it then resumes inside the next run/advance call).
/// Thread-safety: `schedule*`, timer cancellation and `now()` may be called from any thread;
/// `run*` and `advance*` from one thread at a time.
/// Lifetime: destroying the scheduler cancels pending timers (their waits throw
/// `operation_cancelled`) and runs ready work until idle, so no awaiter is left dangling.
///
///     eddy::virtual_time_scheduler vt;
///     auto slow = [](eddy::virtual_time_scheduler& s) -> eddy::task<int> {
///         co_await s.schedule_after(std::chrono::hours(1));
///         co_return 7;
///     };
///     int v = vt.run(slow(vt)); // v == 7, vt.now() == time_point{} + 1h
class virtual_time_scheduler {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using duration = clock::duration;

    /// Starts the virtual clock at `start` (the clock's epoch by default).
    explicit virtual_time_scheduler(time_point start = time_point{}) noexcept : m_now(start) {}
    virtual_time_scheduler(const virtual_time_scheduler&) = delete;
    virtual_time_scheduler& operator=(const virtual_time_scheduler&) = delete;

    ~virtual_time_scheduler() {
        {
            std::lock_guard lock(m_mutex);
            m_closing = true;
            while (!m_timers.empty()) {
                detail::timer_node& node = m_timers.pop();
                node.m_cancelled = true;
                m_ready.push(node);
            }
        }
        run_until_idle();
    }

    /// The virtual time.
    [[nodiscard]] time_point now() const noexcept {
        std::lock_guard lock(m_mutex);
        return m_now;
    }

    class schedule_awaiter : private detail::work_node {
    public:
        explicit schedule_awaiter(virtual_time_scheduler& s) noexcept : m_scheduler(&s) {}
        bool await_ready() const noexcept { return false; }
        EDDY_AWAIT_SUSPEND_NOINLINE void await_suspend(std::coroutine_handle<> h) noexcept {
            m_handle = h;
            m_scheduler->post(*this);
        }
        void await_resume() const noexcept {}

    private:
        virtual_time_scheduler* m_scheduler;
    };

    /// `co_await s.schedule()` resumes the caller from the scheduler's ready queue.
    [[nodiscard]] schedule_awaiter schedule() noexcept { return schedule_awaiter{*this}; }

    /// `co_await s.schedule_after(d)` resumes the caller once virtual time reached now() + d.
    [[nodiscard]] detail::timer_awaiter<virtual_time_scheduler> schedule_after(duration d) {
        return schedule_at(now() + (d < duration::zero() ? duration::zero() : d));
    }

    /// `co_await s.schedule_at(t)` resumes the caller once virtual time reached `t`.
    [[nodiscard]] detail::timer_awaiter<virtual_time_scheduler> schedule_at(time_point t) noexcept {
        return detail::timer_awaiter<virtual_time_scheduler>{*this, t};
    }

    /// Resumes ready work until none is left, without moving the clock; returns how many
    /// coroutines were resumed.
    std::size_t run_until_idle() {
        std::size_t resumed = 0;
        for (;;) {
            std::coroutine_handle<> next;
            {
                std::lock_guard lock(m_mutex);
                if (m_ready.empty()) {
                    return resumed;
                }
                next = m_ready.pop().m_handle;
            }
            ++resumed;
            next.resume();
        }
    }

    /// Moves the clock forward by `d`, firing every timer due on the way at its own deadline
    /// and running the work it makes ready.
    void advance(duration d) { advance_to(now() + d); }

    /// Moves the clock to `t` (never backwards), like `advance`.
    void advance_to(time_point t) {
        run_until_idle();
        while (fire_next_due(t)) {
            run_until_idle();
        }
        std::lock_guard lock(m_mutex);
        if (t > m_now) {
            m_now = t;
        }
    }

    /// Number of armed timers.
    [[nodiscard]] std::size_t pending_timers() const {
        std::lock_guard lock(m_mutex);
        return m_timers.size();
    }

    /// Runs `awaitable` to completion on the calling thread, jumping the clock to the next
    /// deadline whenever nothing is ready, and returns its result (or rethrows).
    /// Throws `eddy::error` when the awaitable can never finish: nothing ready and no timer
    /// armed (a deadlock in the code under test). Work that another thread is about to post
    /// is not waited for: drive such tests with a real scheduler, or post before running. The
    /// awaitable's frames are destroyed then; whatever it was waiting on must not be used to resume
    /// it afterwards.
    template <class Awaitable>
    decltype(auto) run(Awaitable&& awaitable) {
        if constexpr (!eddy::awaitable<Awaitable>) {
            static_assert(eddy::awaitable<Awaitable>,
                          "eddy::virtual_time_scheduler::run: the argument is not awaitable");
        } else {
            using result = await_result_t<Awaitable>;
            using value = std::conditional_t<std::is_lvalue_reference_v<result>, result,
                                             std::remove_cvref_t<result>>;
            auto driver = detail::make_driver_task<value>(std::forward<Awaitable>(awaitable));
            driver.start();
            for (;;) {
                run_until_idle();
                if (driver.done()) {
                    return driver.result();
                }
                if (!fire_next_due(time_point::max())) {
                    throw error("eddy::virtual_time_scheduler::run: the awaitable is blocked with "
                                "no ready work and no armed timer (deadlock)");
                }
            }
        }
    }

private:
    friend class detail::timer_awaiter<virtual_time_scheduler>;

    // Scheduler protocol of detail::timer_awaiter.
    bool arm_timer(detail::timer_node& node, const std::stop_token& token) {
        std::lock_guard lock(m_mutex);
        if (m_closing || token.stop_requested()) {
            return false;
        }
        m_timers.push(node);
        return true;
    }
    void cancel_timer(detail::timer_node& node) noexcept {
        std::lock_guard lock(m_mutex);
        if (m_timers.erase(node)) {
            node.m_cancelled = true;
            m_ready.push(node);
        }
    }

    void post(detail::work_node& node) noexcept {
        std::lock_guard lock(m_mutex);
        m_ready.push(node);
    }

    // Makes the earliest timer due no later than `limit` ready, moving the clock to its
    // deadline; returns false when there is none.
    bool fire_next_due(time_point limit) {
        std::lock_guard lock(m_mutex);
        if (m_timers.empty() || m_timers.top().m_deadline > limit) {
            return false;
        }
        detail::timer_node& node = m_timers.pop();
        if (node.m_deadline > m_now) {
            m_now = node.m_deadline;
        }
        m_ready.push(node);
        return true;
    }

    mutable std::mutex m_mutex;
    time_point m_now;
    detail::work_queue m_ready;
    detail::timer_heap m_timers;
    bool m_closing = false;
};

} // namespace eddy
