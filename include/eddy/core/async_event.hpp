// eddy/core/async_event.hpp - eddy::async_event, a manual-reset event coroutines can await.
#pragma once

#include <cassert>   // assert
#include <coroutine> // std::coroutine_handle
#include <mutex>     // std::mutex, std::lock_guard

#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/stop_token_of.hpp>
#include <eddy/core/detail/waiter_list.hpp>
#include <eddy/core/error.hpp>

namespace eddy {

/// A manual-reset event: `co_await e.wait()` completes at once while the event is set and
/// otherwise suspends the caller (not its thread) until `set()`; it stays set until `reset()`.
///
/// Lazy: `wait()` returns an awaiter that does nothing until awaited.
/// Where the awaiter resumes: without suspending when the event is set; otherwise inline on the
/// thread that calls `set()` (which resumes every waiter, in the order they started waiting,
/// before it returns), or inline inside `std::stop_source::request_stop()` when cancelled.
/// Cancellation: a waiting `wait()` whose coroutine's stop token is stopped ends with
/// `eddy::operation_cancelled`; waiting on a set event completes even if stop was requested.
/// Preconditions: no waiters when the event is destroyed (assert).
/// Lifetime: the event must outlive every awaiter of it.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::async_event ready;
///     eddy::task<> consumer() { co_await ready.wait(); use(shared_config); }
///     void producer() { shared_config = load(); ready.set(); }
class async_event {
public:
    class wait_awaiter;

    explicit async_event(bool initially_set = false) noexcept : m_set(initially_set) {}
    async_event(const async_event&) = delete;
    async_event& operator=(const async_event&) = delete;
    ~async_event() { assert(m_waiters.empty() && "eddy::async_event destroyed with waiters"); }

    /// `co_await e.wait()` waits until the event is set.
    [[nodiscard]] wait_awaiter wait() noexcept;

    /// Sets the event and resumes every waiter inline before returning.
    void set() {
        detail::waiter_node* woken = nullptr;
        {
            std::lock_guard lock(m_mutex);
            m_set = true;
            woken = m_waiters.take_front();
        }
        detail::waiter_node::resume_all(woken);
    }

    /// Clears the event: later waits suspend until the next `set()`.
    void reset() {
        std::lock_guard lock(m_mutex);
        m_set = false;
    }

    /// Whether the event is set (a snapshot).
    [[nodiscard]] bool is_set() const {
        std::lock_guard lock(m_mutex);
        return m_set;
    }

private:
    mutable std::mutex m_mutex;
    bool m_set; // guarded by m_mutex
    detail::waiter_list m_waiters;
};

/// Awaiter of `async_event::wait()`; yields nothing.
class async_event::wait_awaiter : private detail::waiter_node {
public:
    explicit wait_awaiter(async_event& event) noexcept : m_owner(&event) {}

    bool await_ready() const noexcept { return false; }

    template <class Promise>
    EDDY_AWAIT_SUSPEND_NOINLINE bool await_suspend(std::coroutine_handle<Promise> h) {
        return park(h, detail::stop_token_of(h), m_owner->m_mutex, m_owner->m_waiters,
                    [this](detail::waiter_node*&) { return m_owner->m_set; });
    }

    void await_resume() const {
        if (cancelled()) {
            throw operation_cancelled();
        }
    }

private:
    async_event* m_owner;
};

inline async_event::wait_awaiter async_event::wait() noexcept { return wait_awaiter(*this); }

} // namespace eddy
