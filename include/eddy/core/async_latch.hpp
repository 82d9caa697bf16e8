// eddy/core/async_latch.hpp - eddy::async_latch, a single-use countdown coroutines can await.
#pragma once

#include <cassert>   // assert
#include <coroutine> // std::coroutine_handle
#include <cstddef>   // std::ptrdiff_t
#include <mutex>     // std::mutex, std::lock_guard

#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/stop_token_of.hpp>
#include <eddy/core/detail/waiter_list.hpp>
#include <eddy/core/error.hpp>

namespace eddy {

/// A single-use countdown: `co_await l.wait()` suspends the caller (not its thread) until
/// `count_down()` has brought the count to zero; from then on every wait completes at once.
///
/// Lazy: `wait()` returns an awaiter that does nothing until awaited.
/// Where the awaiter resumes: without suspending when the count is zero; otherwise inline on the
/// thread whose `count_down()` reaches zero (it resumes every waiter, in the order they started
/// waiting, before it returns), or inline inside `std::stop_source::request_stop()` when
/// cancelled.
/// Cancellation: a waiting `wait()` whose coroutine's stop token is stopped ends with
/// `eddy::operation_cancelled`; the count is unaffected.
/// Preconditions: a negative initial count, a negative `n`, or counting below zero is a
/// programming error reported with `eddy::error` (the count is then left unchanged); no waiters
/// when the latch is destroyed (assert).
/// Lifetime: the latch must outlive every awaiter of it.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::async_latch done(3);
///     for (int i = 0; i < 3; ++i) scope.spawn(work(i, done)); // each ends with done.count_down()
///     co_await done.wait();
class async_latch {
public:
    class wait_awaiter;

    explicit async_latch(std::ptrdiff_t count) : m_count(count) {
        if (count < 0) {
            throw error("eddy::async_latch: the initial count must not be negative");
        }
    }
    async_latch(const async_latch&) = delete;
    async_latch& operator=(const async_latch&) = delete;
    ~async_latch() { assert(m_waiters.empty() && "eddy::async_latch destroyed with waiters"); }

    /// Decrements the count by `n`; reaching zero resumes every waiter inline.
    void count_down(std::ptrdiff_t n = 1) {
        if (n < 0) {
            throw error("eddy::async_latch::count_down: n must not be negative");
        }
        detail::waiter_node* woken = nullptr;
        {
            std::lock_guard lock(m_mutex);
            if (n > m_count) {
                throw error("eddy::async_latch::count_down: the count would go below zero "
                            "(more count_down than the latch was created with)");
            }
            m_count -= n;
            if (m_count == 0) {
                woken = m_waiters.take_front();
            }
        }
        detail::waiter_node::resume_all(woken);
    }

    /// `co_await l.wait()` waits until the count is zero.
    [[nodiscard]] wait_awaiter wait() noexcept;

    /// Whether the count has reached zero.
    [[nodiscard]] bool try_wait() const {
        std::lock_guard lock(m_mutex);
        return m_count == 0;
    }

private:
    mutable std::mutex m_mutex;
    std::ptrdiff_t m_count; // guarded by m_mutex
    detail::waiter_list m_waiters;
};

/// Awaiter of `async_latch::wait()`; yields nothing.
class async_latch::wait_awaiter : private detail::waiter_node {
public:
    explicit wait_awaiter(async_latch& latch) noexcept : m_owner(&latch) {}

    bool await_ready() const noexcept { return false; }

    template <class Promise>
    EDDY_AWAIT_SUSPEND_NOINLINE bool await_suspend(std::coroutine_handle<Promise> h) {
        return park(h, detail::stop_token_of(h), m_owner->m_mutex, m_owner->m_waiters,
                    [this](detail::waiter_node*&) { return m_owner->m_count == 0; });
    }

    void await_resume() const {
        if (cancelled()) {
            throw operation_cancelled();
        }
    }

private:
    async_latch* m_owner;
};

inline async_latch::wait_awaiter async_latch::wait() noexcept { return wait_awaiter(*this); }

} // namespace eddy
