// eddy/core/sync_wait.hpp - block the calling thread until an awaitable completes.
#pragma once

#include <condition_variable> // std::condition_variable
#include <coroutine>          // std::coroutine_handle
#include <exception>          // std::exception_ptr
#include <memory>             // std::addressof
#include <mutex>              // std::mutex
#include <optional>           // std::optional
#include <type_traits>        // std::is_reference_v
#include <utility>            // std::forward

#include <eddy/core/awaitable.hpp>
#include <eddy/core/detail/config.hpp>

namespace eddy {

namespace detail {

class sync_wait_event {
public:
    void set() {
        // Notify while holding the lock: the waiter may destroy this event as soon as it sees
        // the flag, so nothing of ours may touch it after the unlock.
        std::lock_guard lock(m_mutex);
        m_set = true;
        m_cv.notify_one();
    }
    void wait() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return m_set; });
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_set = false;
};

template <class R>
class sync_wait_task {
public:
    using stored = std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*, R>;

    struct promise_type {
        sync_wait_event* m_event = nullptr;
        std::optional<stored> m_value;
        std::exception_ptr m_exception;

        sync_wait_task get_return_object() noexcept {
            return sync_wait_task{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        auto final_suspend() noexcept {
            struct notifier {
                bool await_ready() noexcept { return false; }
                EDDY_AWAIT_SUSPEND_NOINLINE void
                await_suspend(std::coroutine_handle<promise_type> h) noexcept {
                    h.promise().m_event->set();
                }
                void await_resume() noexcept {}
            };
            return notifier{};
        }
        void unhandled_exception() noexcept { m_exception = std::current_exception(); }
        template <class U>
        void return_value(U&& value) {
            if constexpr (std::is_reference_v<R>) {
                m_value.emplace(std::addressof(value));
            } else {
                m_value.emplace(std::forward<U>(value));
            }
        }
    };

    explicit sync_wait_task(std::coroutine_handle<promise_type> h) noexcept : m_coro(h) {}
    sync_wait_task(sync_wait_task&& o) noexcept : m_coro(std::exchange(o.m_coro, {})) {}
    ~sync_wait_task() {
        if (m_coro) {
            m_coro.destroy();
        }
    }

    R run() {
        sync_wait_event event;
        m_coro.promise().m_event = &event;
        m_coro.resume();
        event.wait();
        auto& p = m_coro.promise();
        if (p.m_exception) {
            std::rethrow_exception(p.m_exception);
        }
        if constexpr (std::is_reference_v<R>) {
            return static_cast<R>(**p.m_value);
        } else {
            return std::move(*p.m_value);
        }
    }

private:
    std::coroutine_handle<promise_type> m_coro;
};

template <>
class sync_wait_task<void> {
public:
    struct promise_type {
        sync_wait_event* m_event = nullptr;
        std::exception_ptr m_exception;

        sync_wait_task get_return_object() noexcept {
            return sync_wait_task{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        auto final_suspend() noexcept {
            struct notifier {
                bool await_ready() noexcept { return false; }
                EDDY_AWAIT_SUSPEND_NOINLINE void
                await_suspend(std::coroutine_handle<promise_type> h) noexcept {
                    h.promise().m_event->set();
                }
                void await_resume() noexcept {}
            };
            return notifier{};
        }
        void unhandled_exception() noexcept { m_exception = std::current_exception(); }
        void return_void() noexcept {}
    };

    explicit sync_wait_task(std::coroutine_handle<promise_type> h) noexcept : m_coro(h) {}
    sync_wait_task(sync_wait_task&& o) noexcept : m_coro(std::exchange(o.m_coro, {})) {}
    ~sync_wait_task() {
        if (m_coro) {
            m_coro.destroy();
        }
    }

    void run() {
        sync_wait_event event;
        m_coro.promise().m_event = &event;
        m_coro.resume();
        event.wait();
        if (m_coro.promise().m_exception) {
            std::rethrow_exception(m_coro.promise().m_exception);
        }
    }

private:
    std::coroutine_handle<promise_type> m_coro;
};

// The awaitable is a reference parameter: sync_wait blocks until the coroutine is done, so
// the referenced object outlives it.
template <class R, class A>
sync_wait_task<R> make_sync_wait_task(A&& awaitable) {
    if constexpr (std::is_void_v<R>) {
        co_await std::forward<A>(awaitable);
    } else {
        co_return co_await std::forward<A>(awaitable);
    }
}

} // namespace detail

/// Runs `awaitable` to completion on the calling thread and returns its result (a reference
/// result stays a reference), or rethrows its exception.
///
/// Eager: starts at once. The awaitable starts on the calling thread; whatever thread finishes
/// it, `sync_wait` returns on the calling thread, which blocks meanwhile.
/// Precondition: not called from a thread the awaitable needs to make progress (e.g. a
/// thread_pool's own worker with one thread, or a virtual_time_scheduler's driver): that
/// deadlocks. The awaitable carries no stop token; use `with_stop_token` on a task for one.
///
///     int v = eddy::sync_wait(compute());
template <class A>
decltype(auto) sync_wait(A&& awaitable) {
    if constexpr (!eddy::awaitable<A>) {
        static_assert(eddy::awaitable<A>,
                      "eddy::sync_wait: the argument is not awaitable (it needs await_ready, "
                      "await_suspend and await_resume, or an operator co_await)");
    } else {
        using result = await_result_t<A>;
        using value = std::conditional_t<std::is_lvalue_reference_v<result>, result,
                                         std::remove_cvref_t<result>>;
        return detail::make_sync_wait_task<value>(std::forward<A>(awaitable)).run();
    }
}

} // namespace eddy
