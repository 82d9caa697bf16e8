// eddy/core/async_mutex.hpp - eddy::async_mutex, a FIFO mutex that suspends instead of blocking.
#pragma once

#include <cassert>   // assert
#include <coroutine> // std::coroutine_handle
#include <mutex>     // std::mutex, std::lock_guard, std::adopt_lock_t
#include <utility>   // std::exchange

#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/stop_token_of.hpp>
#include <eddy/core/detail/waiter_list.hpp>
#include <eddy/core/error.hpp>

namespace eddy {

class async_mutex_lock;

/// A mutex for coroutines: `co_await m.lock()` suspends the caller, not its thread, until the
/// lock is free. Ownership is not tied to a thread, so the holder may move between threads.
///
/// Lazy: `lock()` and `scoped_lock()` return awaiters that do nothing until awaited.
/// Where the awaiter resumes: without suspending when the mutex is free; otherwise inline on the
/// thread that calls `unlock()` (the lock is handed straight to the oldest waiter, FIFO, with no
/// barging), or inline inside `std::stop_source::request_stop()` when cancelled. A waiter that
/// unlocks inside that resumption hands on to the next one deeper on the same stack (as deep as
/// there are waiting coroutines).
/// Cancellation: a waiting `lock()` whose coroutine's stop token is stopped ends with
/// `eddy::operation_cancelled` and does not take the lock; a lock that is free is taken even if
/// stop was requested.
/// Preconditions (programming errors, checked by assert): `unlock()` only by the holder; no
/// waiters when the mutex is destroyed.
/// Lifetime: the mutex must outlive every awaiter and `async_mutex_lock` of it.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::task<> bump(eddy::async_mutex* m, long* counter) {
///         auto guard = co_await m->scoped_lock(); // unlocks when the guard is destroyed
///         ++*counter;
///     }
class async_mutex {
public:
    class lock_awaiter;
    class scoped_lock_awaiter;

    async_mutex() noexcept = default;
    async_mutex(const async_mutex&) = delete;
    async_mutex& operator=(const async_mutex&) = delete;
    ~async_mutex() { assert(m_waiters.empty() && "eddy::async_mutex destroyed with waiters"); }

    /// `co_await m.lock()` acquires the mutex; call `unlock()` to release it.
    [[nodiscard]] lock_awaiter lock() noexcept;

    /// `co_await m.scoped_lock()` acquires the mutex and yields an `async_mutex_lock` that
    /// releases it when destroyed.
    [[nodiscard]] scoped_lock_awaiter scoped_lock() noexcept;

    /// Takes the mutex if it is free, without waiting.
    [[nodiscard]] bool try_lock() {
        std::lock_guard lock(m_mutex);
        return try_lock_locked();
    }

    /// Releases the mutex, or hands it to the oldest waiter and resumes that waiter inline.
    void unlock() {
        detail::waiter_node* next = nullptr;
        {
            std::lock_guard lock(m_mutex);
            assert(m_locked && "eddy::async_mutex::unlock: the mutex is not locked");
            next = m_waiters.take_front(1);
            if (next == nullptr) {
                m_locked = false;
            }
        }
        detail::waiter_node::resume_all(next); // ownership stays with `next`
    }

private:
    bool try_lock_locked() noexcept { return !std::exchange(m_locked, true); }

    std::mutex m_mutex;
    bool m_locked = false; // guarded by m_mutex
    detail::waiter_list m_waiters;
};

/// Awaiter of `async_mutex::lock()`; yields nothing.
class async_mutex::lock_awaiter : private detail::waiter_node {
public:
    explicit lock_awaiter(async_mutex& mutex) noexcept : m_owner(&mutex) {}

    bool await_ready() const noexcept { return false; }

    template <class Promise>
    EDDY_AWAIT_SUSPEND_NOINLINE bool await_suspend(std::coroutine_handle<Promise> h) {
        return park(h, detail::stop_token_of(h), m_owner->m_mutex, m_owner->m_waiters,
                    [this](detail::waiter_node*&) { return m_owner->try_lock_locked(); });
    }

    void await_resume() const {
        if (cancelled()) {
            throw operation_cancelled();
        }
    }

protected:
    async_mutex* m_owner;
};

/// Owns a lock of an `async_mutex` and releases it on destruction. Move-only.
class async_mutex_lock {
public:
    /// Adopts a lock the caller already holds (e.g. after `try_lock()` returned true).
    async_mutex_lock(async_mutex& mutex, std::adopt_lock_t) noexcept : m_mutex(&mutex) {}
    async_mutex_lock(async_mutex_lock&& other) noexcept
        : m_mutex(std::exchange(other.m_mutex, nullptr)) {}
    async_mutex_lock& operator=(async_mutex_lock&& other) noexcept {
        if (this != &other) {
            unlock();
            m_mutex = std::exchange(other.m_mutex, nullptr);
        }
        return *this;
    }
    async_mutex_lock(const async_mutex_lock&) = delete;
    async_mutex_lock& operator=(const async_mutex_lock&) = delete;
    ~async_mutex_lock() { unlock(); }

    /// True until moved from or unlocked.
    [[nodiscard]] bool owns_lock() const noexcept { return m_mutex != nullptr; }

    /// Unlocks now rather than at destruction (may resume the next waiter inline).
    void unlock() {
        if (m_mutex != nullptr) {
            std::exchange(m_mutex, nullptr)->unlock();
        }
    }

private:
    async_mutex* m_mutex;
};

/// Awaiter of `async_mutex::scoped_lock()`; yields an `async_mutex_lock`.
class async_mutex::scoped_lock_awaiter : public async_mutex::lock_awaiter {
public:
    using lock_awaiter::lock_awaiter;

    [[nodiscard]] async_mutex_lock await_resume() const {
        lock_awaiter::await_resume();
        return async_mutex_lock(*m_owner, std::adopt_lock);
    }
};

inline async_mutex::lock_awaiter async_mutex::lock() noexcept { return lock_awaiter(*this); }

inline async_mutex::scoped_lock_awaiter async_mutex::scoped_lock() noexcept {
    return scoped_lock_awaiter(*this);
}

} // namespace eddy
