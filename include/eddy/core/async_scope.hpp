// eddy/core/async_scope.hpp - owns work that outlives the frame that started it.
#pragma once

#include <atomic>     // std::atomic
#include <cassert>    // assert
#include <coroutine>  // std::coroutine_handle
#include <cstddef>    // std::size_t
#include <cstdio>     // std::fputs (the message before terminating)
#include <exception>  // std::exception_ptr, std::terminate
#include <functional> // std::function
#include <mutex>      // std::mutex
#include <stop_token> // std::stop_source
#include <utility>    // std::forward, std::move

#include <eddy/core/awaitable.hpp>
#include <eddy/core/detail/config.hpp>

namespace eddy {

class async_scope;

namespace detail {
class scope_task {
public:
    struct promise_type {
        async_scope* m_scope = nullptr;

        scope_task get_return_object() noexcept {
            return scope_task{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        struct final_awaiter {
            bool await_ready() const noexcept { return false; }
            EDDY_AWAIT_SUSPEND_NOINLINE std::coroutine_handle<>
            await_suspend(std::coroutine_handle<promise_type> h) noexcept;
            void await_resume() const noexcept {}
        };
        final_awaiter final_suspend() const noexcept { return {}; }
        void unhandled_exception() noexcept;
        void return_void() noexcept {}
        [[nodiscard]] std::stop_token stop_token() const noexcept;
    };
    std::coroutine_handle<promise_type> m_coro;
};

// The work is moved into this frame: it lives until the work finishes.
template <class Awaitable>
scope_task run_in_scope(Awaitable work) {
    co_await std::move(work);
}
} // namespace detail

/// Owns spawned work: `spawn(work)` starts it at once and `co_await scope.join()` waits until
/// all of it (including work spawned meanwhile) has finished. No fire-and-forget without a scope.
///
/// Spawned work starts on the calling thread and runs until its first suspension; `join()`'s
/// awaiter resumes on the thread that finishes the last piece of work (inline if none is
/// pending). Spawned work sees the scope's stop token: `request_stop()` cancels it.
/// Errors: an exception escaping spawned work goes to the error handler given at construction;
/// without one, `join()` rethrows the first such exception (and `failures()` counts them all).
/// Lifetime: the scope must outlive its work: destroying a scope whose work has not finished
/// is a programming error that terminates the program with a message. Spawned work is moved
/// into its own frame, so pass coroutine arguments by value.
/// Thread-safety: `spawn`, `request_stop` and `failures` from any thread; one `join` at a time.
///
///     eddy::async_scope scope;
///     for (auto& request : requests) scope.spawn(handle(request));
///     co_await scope.join();
class async_scope {
public:
    using error_handler = std::function<void(std::exception_ptr)>;

    async_scope() = default;
    /// Each exception escaping spawned work is passed to `on_error` (on the thread where it
    /// escaped) instead of being rethrown by `join()`.
    explicit async_scope(error_handler on_error) : m_on_error(std::move(on_error)) {}
    async_scope(const async_scope&) = delete;
    async_scope& operator=(const async_scope&) = delete;

    ~async_scope() {
        if (m_state.load(std::memory_order_acquire) != 0) {
            std::fputs("eddy::async_scope destroyed while spawned work is still running; "
                       "co_await join() before the scope goes away\n",
                       stderr);
            std::terminate();
        }
    }

    /// Starts `work` now; the scope owns it until it finishes.
    template <class Awaitable>
    void spawn(Awaitable&& work) {
        static_assert(eddy::awaitable<Awaitable>,
                      "eddy::async_scope::spawn: work must be awaitable");
        detail::scope_task t = detail::run_in_scope(std::forward<Awaitable>(work));
        t.m_coro.promise().m_scope = this;
        m_state.fetch_add(one_pending, std::memory_order_relaxed);
        t.m_coro.resume();
    }

    /// Requests stop on the token every spawned piece of work sees.
    void request_stop() noexcept { m_stop.request_stop(); }

    /// The number of exceptions that escaped spawned work so far.
    [[nodiscard]] std::size_t failures() const noexcept {
        return m_failures.load(std::memory_order_acquire);
    }

    class join_awaiter {
    public:
        explicit join_awaiter(async_scope& scope) noexcept : m_scope(&scope) {}
        bool await_ready() const noexcept {
            return m_scope->m_state.load(std::memory_order_acquire) == 0;
        }
        EDDY_AWAIT_SUSPEND_NOINLINE bool await_suspend(std::coroutine_handle<> h) noexcept {
            m_scope->m_continuation = h;
            std::size_t state = m_scope->m_state.load(std::memory_order_acquire);
            do {
                if (state == 0) {
                    return false; // everything finished meanwhile
                }
            } while (!m_scope->m_state.compare_exchange_weak(state, state | joining,
                                                             std::memory_order_acq_rel));
            return true;
        }
        void await_resume() {
            std::exception_ptr first;
            {
                std::lock_guard lock(m_scope->m_mutex);
                first = std::exchange(m_scope->m_first_error, nullptr);
            }
            if (first) {
                std::rethrow_exception(first);
            }
        }

    private:
        async_scope* m_scope;
    };

    /// `co_await scope.join()` waits for all spawned work, then rethrows the first exception
    /// that escaped it (unless an error handler was given).
    [[nodiscard]] join_awaiter join() noexcept { return join_awaiter{*this}; }

private:
    friend struct detail::scope_task::promise_type;

    void record(std::exception_ptr e) noexcept {
        m_failures.fetch_add(1, std::memory_order_acq_rel);
        if (m_on_error) {
            try {
                m_on_error(e);
            } catch (...) {
                std::fputs("eddy::async_scope: the error handler threw\n", stderr);
                std::terminate();
            }
            return;
        }
        std::lock_guard lock(m_mutex);
        if (!m_first_error) {
            m_first_error = std::move(e);
        }
    }

    // The last piece of work to finish while a join waits clears the joining bit and resumes
    // the join, in one atomic step: work spawned at that very moment starts a new count that
    // the next join waits for, and the join is resumed exactly once.
    std::coroutine_handle<> arrive() noexcept {
        std::size_t state = m_state.load(std::memory_order_acquire);
        std::size_t next = 0;
        do {
            next = state - one_pending;
            if (next == joining) {
                next = 0;
            }
        } while (!m_state.compare_exchange_weak(state, next, std::memory_order_acq_rel));
        if (state == (one_pending | joining)) {
            return m_continuation;
        }
        return std::noop_coroutine();
    }

    static constexpr std::size_t joining = 1;     // a join is suspended
    static constexpr std::size_t one_pending = 2; // the rest counts pieces of work in flight
    std::atomic<std::size_t> m_state{0};
    std::atomic<std::size_t> m_failures{0};
    std::coroutine_handle<> m_continuation;
    std::stop_source m_stop;
    std::mutex m_mutex;
    std::exception_ptr m_first_error;
    error_handler m_on_error;
};

namespace detail {
inline std::coroutine_handle<> scope_task::promise_type::final_awaiter::await_suspend(
    std::coroutine_handle<promise_type> h) noexcept {
    async_scope* scope = h.promise().m_scope;
    h.destroy();
    return scope->arrive();
}
inline void scope_task::promise_type::unhandled_exception() noexcept {
    m_scope->record(std::current_exception());
}
inline std::stop_token scope_task::promise_type::stop_token() const noexcept {
    return m_scope->m_stop.get_token();
}
} // namespace detail

} // namespace eddy
