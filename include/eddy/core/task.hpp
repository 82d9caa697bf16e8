// eddy/core/task.hpp - eddy::task<T>, the lazy coroutine every eddy operation returns.
#pragma once

#include <cassert>     // assert
#include <coroutine>   // std::coroutine_handle
#include <stop_token>  // std::stop_token
#include <type_traits> // std::is_reference_v
#include <utility>     // std::exchange, std::move

#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/stop_token_of.hpp>
#include <eddy/core/detail/task_promise.hpp>

namespace eddy {

/// A lazy coroutine producing a `T` (or `T&`, or nothing for `void`).
///
/// Lazy: the body does not run until the task is awaited. Move-only; await it once.
/// Where the awaiter resumes: on the thread the task finished on (a scheduler's thread when the
/// body hopped), except when the task finished before the awaiting thread returned from
/// starting it: then the awaiting thread simply continues. That covers synchronous completion
/// (which never grows the stack, however many times in a loop) and a task that hopped and
/// finished elsewhere very fast. Code that must run on a given scheduler after an await says so
/// with `co_await scheduler.schedule()`.
/// An exception leaving the body is rethrown to the awaiter.
/// Cancellation: the task carries a `std::stop_token`, inherited from the awaiting coroutine
/// unless set with `with_stop_token`; read it with `co_await eddy::get_stop_token()`.
/// Lifetime: destroying a task that was never awaited destroys its frame (nothing leaks).
/// Parameters of a coroutine are copied into its frame; references and lambda captures are
/// not, so pass what must live as long as the task by value.
/// Thread-safety: none; a task is used by one awaiter.
///
///     eddy::task<int> answer() { co_return 42; }
///     eddy::task<int> twice() { co_return 2 * co_await answer(); }
///     int x = eddy::sync_wait(twice()); // 84
template <class T = void>
class [[nodiscard]] task {
public:
    using promise_type = detail::task_promise<T>;
    using value_type = T;

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> coro) noexcept : m_coro(coro) {}
    task(task&& other) noexcept : m_coro(std::exchange(other.m_coro, {})) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            destroy();
            m_coro = std::exchange(other.m_coro, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() { destroy(); }

    /// True when the task holds a coroutine (not default-constructed or moved-from).
    [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(m_coro); }

    /// True once the body has finished (value or exception).
    [[nodiscard]] bool is_ready() const noexcept { return m_coro && m_coro.done(); }

    /// Awaiting an lvalue task yields a reference to its result.
    auto operator co_await() & noexcept { return awaiter<false>{m_coro}; }
    /// Awaiting an rvalue task moves its result out.
    auto operator co_await() && noexcept { return awaiter<true>{m_coro}; }

    /// Sets the stop token the body sees instead of inheriting the awaiter's.
    void set_stop_token(std::stop_token token) noexcept {
        assert(m_coro);
        m_coro.promise().set_stop_token(std::move(token));
    }

private:
    template <bool Move>
    struct awaiter {
        std::coroutine_handle<promise_type> m_coro;

        bool await_ready() const noexcept {
            assert(m_coro && "eddy::task: awaiting an empty (moved-from) task");
            return false;
        }

        template <class Promise>
        EDDY_AWAIT_SUSPEND_NOINLINE bool
        await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
            assert(!m_coro.done() && "eddy::task: a task is awaited once");
            promise_type& p = m_coro.promise();
            if constexpr (std::is_base_of_v<detail::task_promise_base, Promise>) {
                p.inherit_stop_token_from(awaiting.promise());
            } else {
                p.inherit_stop_token(detail::stop_token_of(awaiting));
            }
            return p.start(m_coro, awaiting);
        }

        decltype(auto) await_resume() {
            if constexpr (std::is_void_v<T>) {
                m_coro.promise().result();
            } else if constexpr (std::is_reference_v<T>) {
                return m_coro.promise().result();
            } else if constexpr (Move) {
                return T(std::move(m_coro.promise()).result());
            } else {
                return static_cast<T&>(m_coro.promise().result());
            }
        }
    };

    void destroy() noexcept {
        if (m_coro) {
            m_coro.destroy();
        }
    }

    std::coroutine_handle<promise_type> m_coro;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
template <class T>
task<T&> task_promise<T&>::get_return_object() noexcept {
    return task<T&>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
} // namespace detail

} // namespace eddy
