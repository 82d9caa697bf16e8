// eddy/core/detail/task_promise.hpp - the promise types behind eddy::task<T>.
#pragma once

#include <cassert>     // assert
#include <concepts>    // std::convertible_to
#include <coroutine>   // std::coroutine_handle, std::suspend_always
#include <cstddef>     // std::size_t
#include <exception>   // std::exception_ptr
#include <memory>      // std::addressof
#include <new>         // placement new
#include <stop_token>  // std::stop_token
#include <type_traits> // std::is_nothrow_constructible_v
#include <utility>     // std::move, std::forward

#include <eddy/core/awaitable.hpp>
#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/frame_cache.hpp>
#include <eddy/core/detail/resume_handoff.hpp>

namespace eddy {
template <class T>
class task;
}

namespace eddy::detail {

class task_promise_base : public recycled_frame {
public:
    task_promise_base() noexcept = default;
    task_promise_base(const task_promise_base&) = delete;
    task_promise_base& operator=(const task_promise_base&) = delete;

    std::suspend_always initial_suspend() const noexcept { return {}; }

    // Only here to turn `co_await x` on a non-awaitable into one readable error.
    template <class A>
    A&& await_transform(A&& a) const noexcept {
        static_assert(awaitable_for_some_promise<A>,
                      "eddy::task: the operand of co_await is not awaitable (it needs "
                      "await_ready, await_suspend and await_resume, or an operator co_await)");
        return static_cast<A&&>(a);
    }

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }

        template <class Promise>
        EDDY_AWAIT_SUSPEND_NOINLINE std::coroutine_handle<>
        await_suspend(std::coroutine_handle<Promise> self) noexcept {
            task_promise_base& promise = self.promise();
            return promise.finish();
        }

        void await_resume() const noexcept {}
    };

    final_awaiter final_suspend() const noexcept { return {}; }

    /// The stop token of this task: set explicitly with `with_stop_token`, otherwise inherited
    /// from the coroutine that awaits the task.
    [[nodiscard]] std::stop_token stop_token() const noexcept { return effective_stop_token(); }
    [[nodiscard]] const std::stop_token& effective_stop_token() const noexcept {
        return m_inherited != nullptr ? *m_inherited : m_stop_token;
    }
    // An awaiting eddy task outlives the awaited one: point at its token, copy nothing.
    void inherit_stop_token_from(const task_promise_base& parent) noexcept {
        if (!m_stop_token_set) {
            const std::stop_token& token = parent.effective_stop_token();
            m_inherited = token.stop_possible() ? &token : nullptr;
        }
    }
    void set_stop_token(std::stop_token token) noexcept {
        m_stop_token = std::move(token);
        m_inherited = nullptr;
        m_stop_token_set = true;
    }

    void inherit_stop_token(std::stop_token parent) noexcept {
        if (!m_stop_token_set) {
            m_stop_token = std::move(parent);
        }
    }

    // Runs the task until it suspends or finishes; returns whether the awaiter must suspend
    // (see resume_handoff: no stack growth for synchronously finishing tasks).
    bool start(std::coroutine_handle<> self, std::coroutine_handle<> continuation) noexcept {
        return m_handoff.run(self, continuation);
    }

private:
    std::coroutine_handle<> finish() noexcept { return m_handoff.stop(); }

    resume_handoff m_handoff;
    bool m_stop_token_set = false;
    std::stop_token m_stop_token;
    const std::stop_token* m_inherited = nullptr;
};

template <class T>
class task_promise final : public task_promise_base {
public:
    task_promise() noexcept {}
    ~task_promise() {
        if (m_state == state::value) {
            m_value.~T();
        } else if (m_state == state::exception) {
            m_exception.~exception_ptr();
        }
    }

    task<T> get_return_object() noexcept;

    void unhandled_exception() noexcept {
        ::new (static_cast<void*>(std::addressof(m_exception)))
            std::exception_ptr(std::current_exception());
        m_state = state::exception;
    }

    template <class U = T>
        requires std::convertible_to<U&&, T>
    void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        ::new (static_cast<void*>(std::addressof(m_value))) T(std::forward<U>(value));
        m_state = state::value;
    }

    T& result() & {
        rethrow_if_failed();
        return m_value;
    }

    T&& result() && {
        rethrow_if_failed();
        return std::move(m_value);
    }

private:
    void rethrow_if_failed() {
        assert(m_state != state::empty && "eddy::task: result read before the task finished");
        if (m_state == state::exception) {
            std::rethrow_exception(m_exception);
        }
    }

    enum class state : unsigned char { empty, value, exception };
    state m_state = state::empty;
    union {
        T m_value;
        std::exception_ptr m_exception;
    };
};

template <class T>
class task_promise<T&> final : public task_promise_base {
public:
    task<T&> get_return_object() noexcept;

    void unhandled_exception() noexcept { m_exception = std::current_exception(); }

    void return_value(T& value) noexcept { m_value = std::addressof(value); }

    T& result() {
        if (m_exception) {
            std::rethrow_exception(m_exception);
        }
        assert(m_value && "eddy::task: result read before the task finished");
        return *m_value;
    }

private:
    T* m_value = nullptr;
    std::exception_ptr m_exception;
};

template <>
class task_promise<void> final : public task_promise_base {
public:
    task<void> get_return_object() noexcept;

    void unhandled_exception() noexcept { m_exception = std::current_exception(); }

    void return_void() noexcept {}

    void result() {
        if (m_exception) {
            std::rethrow_exception(m_exception);
        }
    }

private:
    std::exception_ptr m_exception;
};

} // namespace eddy::detail
