// eddy/core/detail/driver_task.hpp - a coroutine that awaits something and records that it
// finished.
#pragma once

#include <coroutine>   // std::coroutine_handle
#include <exception>   // std::exception_ptr
#include <memory>      // std::addressof
#include <optional>    // std::optional
#include <type_traits> // std::conditional_t
#include <utility>     // std::exchange, std::forward

#include <eddy/core/awaitable.hpp>
#include <eddy/core/detail/config.hpp>

namespace eddy::detail {

// Drives an awaitable from ordinary code: an event loop polls done(), or sync_wait is told
// through on_done when the awaitable finished. R is the result type: a value, an lvalue
// reference, or void.
template <class R>
class driver_task {
public:
    using stored = std::conditional_t<
        std::is_void_v<R>, bool,
        std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*, R>>;

    struct promise_type {
        std::optional<stored> m_value;
        std::exception_ptr m_exception;

        driver_task get_return_object() noexcept {
            return driver_task{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        void (*m_on_done)(void*) noexcept = nullptr;
        void* m_on_done_context = nullptr;

        std::suspend_always initial_suspend() const noexcept { return {}; }
        struct final_awaiter {
            bool await_ready() const noexcept { return false; }
            EDDY_AWAIT_SUSPEND_NOINLINE void
            await_suspend(std::coroutine_handle<promise_type> h) const noexcept {
                promise_type& p = h.promise();
                if (p.m_on_done) {
                    p.m_on_done(p.m_on_done_context);
                }
            }
            void await_resume() const noexcept {}
        };
        final_awaiter final_suspend() const noexcept { return {}; }
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

    explicit driver_task(std::coroutine_handle<promise_type> h) noexcept : m_coro(h) {}
    driver_task(driver_task&& o) noexcept : m_coro(std::exchange(o.m_coro, {})) {}
    driver_task& operator=(driver_task&&) = delete;
    ~driver_task() {
        if (m_coro) {
            m_coro.destroy();
        }
    }

    void start() noexcept { m_coro.resume(); }
    // Starts it; `on_done(context)` runs on whichever thread finishes the awaitable, after which
    // nothing touches the frame until the caller reads the result.
    void start(void (*on_done)(void*) noexcept, void* context) noexcept {
        m_coro.promise().m_on_done = on_done;
        m_coro.promise().m_on_done_context = context;
        m_coro.resume();
    }
    [[nodiscard]] bool done() const noexcept { return m_coro.done(); }

    // Precondition: done().
    R result() {
        promise_type& p = m_coro.promise();
        if (p.m_exception) {
            std::rethrow_exception(p.m_exception);
        }
        if constexpr (std::is_reference_v<R>) {
            return static_cast<R>(**p.m_value);
        } else if constexpr (!std::is_void_v<R>) {
            return std::move(*p.m_value);
        }
    }

private:
    std::coroutine_handle<promise_type> m_coro;
};

// The awaitable is a reference: the caller keeps it alive until done().
template <class R, class A>
driver_task<R> make_driver_task(A&& awaitable) {
    if constexpr (std::is_void_v<R>) {
        co_await std::forward<A>(awaitable);
        co_return true;
    } else {
        co_return co_await std::forward<A>(awaitable);
    }
}

} // namespace eddy::detail
