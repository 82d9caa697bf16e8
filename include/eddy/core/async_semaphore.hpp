// eddy/core/async_semaphore.hpp - eddy::async_semaphore, a FIFO counting semaphore for coroutines.
#pragma once

#include <algorithm> // std::min
#include <cassert>   // assert
#include <coroutine> // std::coroutine_handle
#include <cstddef>   // std::ptrdiff_t, std::size_t
#include <mutex>     // std::mutex, std::lock_guard

#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/stop_token_of.hpp>
#include <eddy/core/detail/waiter_list.hpp>
#include <eddy/core/error.hpp>

namespace eddy {

/// A counting semaphore: `co_await s.acquire()` takes one permit, suspending the caller (not its
/// thread) while none is available; `release(n)` returns permits.
///
/// Lazy: `acquire()` returns an awaiter that does nothing until awaited.
/// Where the awaiter resumes: without suspending when a permit is available; otherwise inline on
/// the thread that calls `release()` (permits go straight to the oldest waiters, FIFO, so a
/// newcomer never overtakes a waiter), or inline inside `std::stop_source::request_stop()` when
/// cancelled.
/// Cancellation: a waiting `acquire()` whose coroutine's stop token is stopped ends with
/// `eddy::operation_cancelled` and consumes no permit; an available permit is taken even if stop
/// was requested.
/// Preconditions: a negative initial count or `release(n)` with `n < 0` is bad input and throws
/// `eddy::error`; no waiters when the semaphore is destroyed (assert).
/// Lifetime: the semaphore must outlive every awaiter of it.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::async_semaphore slots(4); // at most 4 calls in flight
///     co_await slots.acquire();
///     auto reply = co_await call(request); // (release in a catch too if call can throw)
///     slots.release();
class async_semaphore {
public:
    class acquire_awaiter;

    explicit async_semaphore(std::ptrdiff_t initial) : m_count(initial) {
        if (initial < 0) {
            throw error("eddy::async_semaphore: the initial count must not be negative");
        }
    }
    async_semaphore(const async_semaphore&) = delete;
    async_semaphore& operator=(const async_semaphore&) = delete;
    ~async_semaphore() {
        assert(m_waiters.empty() && "eddy::async_semaphore destroyed with waiters");
    }

    /// `co_await s.acquire()` takes one permit.
    [[nodiscard]] acquire_awaiter acquire() noexcept;

    /// Takes a permit if one is available, without waiting.
    [[nodiscard]] bool try_acquire() {
        std::lock_guard lock(m_mutex);
        return try_acquire_locked();
    }

    /// Returns `n` permits: they go to up to `n` waiters (resumed inline, oldest first), the rest
    /// to the count.
    void release(std::ptrdiff_t n = 1) {
        if (n < 0) {
            throw error("eddy::async_semaphore::release: the count must not be negative");
        }
        detail::waiter_node* woken = nullptr;
        {
            std::lock_guard lock(m_mutex);
            const std::size_t wake = std::min(static_cast<std::size_t>(n), m_waiters.size());
            woken = m_waiters.take_front(wake);
            m_count += n - static_cast<std::ptrdiff_t>(wake);
        }
        detail::waiter_node::resume_all(woken);
    }

    /// The permits available now (a snapshot; 0 whenever coroutines are waiting).
    [[nodiscard]] std::ptrdiff_t available() const {
        std::lock_guard lock(m_mutex);
        return m_count;
    }

private:
    // Invariant: m_count > 0 only while nobody waits, so a try never overtakes a waiter.
    bool try_acquire_locked() noexcept {
        if (m_count == 0) {
            return false;
        }
        --m_count;
        return true;
    }

    mutable std::mutex m_mutex;
    std::ptrdiff_t m_count; // guarded by m_mutex
    detail::waiter_list m_waiters;
};

/// Awaiter of `async_semaphore::acquire()`; yields nothing.
class async_semaphore::acquire_awaiter : private detail::waiter_node {
public:
    explicit acquire_awaiter(async_semaphore& semaphore) noexcept : m_owner(&semaphore) {}

    bool await_ready() const noexcept { return false; }

    template <class Promise>
    EDDY_AWAIT_SUSPEND_NOINLINE bool await_suspend(std::coroutine_handle<Promise> h) {
        return park(h, detail::stop_token_of(h), m_owner->m_mutex, m_owner->m_waiters,
                    [this](detail::waiter_node*&) { return m_owner->try_acquire_locked(); });
    }

    void await_resume() const {
        if (cancelled()) {
            throw operation_cancelled();
        }
    }

private:
    async_semaphore* m_owner;
};

inline async_semaphore::acquire_awaiter async_semaphore::acquire() noexcept {
    return acquire_awaiter(*this);
}

} // namespace eddy
