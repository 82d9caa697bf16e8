// eddy/stream/detail/stream_promise.hpp - the promise behind eddy::stream<T>.
#pragma once

#include <cassert>     // assert
#include <concepts>    // std::constructible_from
#include <coroutine>   // std::coroutine_handle, std::suspend_always, std::noop_coroutine
#include <cstddef>     // std::size_t
#include <exception>   // std::exception_ptr, std::current_exception
#include <memory>      // std::addressof
#include <stop_token>  // std::stop_token
#include <type_traits> // std::remove_cvref_t
#include <utility>     // std::move, std::forward

#include <eddy/core/awaitable.hpp>
#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/frame_cache.hpp>
#include <eddy/core/detail/resume_handoff.hpp>
#include <eddy/core/detail/stop_token_of.hpp>

namespace eddy {
template <class T>
class stream;
}

namespace eddy::detail {

// Everything of the promise that does not depend on T: frames, stop token, and the protocol
// that hands control back to the consumer at each co_yield and at the end.
class stream_promise_base : public recycled_frame {
public:
    stream_promise_base() noexcept = default;
    stream_promise_base(const stream_promise_base&) = delete;
    stream_promise_base& operator=(const stream_promise_base&) = delete;

    std::suspend_always initial_suspend() const noexcept { return {}; }

    // Only here to turn `co_await x` on a non-awaitable into one readable error.
    template <class A>
    A&& await_transform(A&& a) const noexcept {
        static_assert(awaitable_for_some_promise<A>,
                      "eddy::stream: the operand of co_await is not awaitable (it needs "
                      "await_ready, await_suspend and await_resume, or an operator co_await)");
        return static_cast<A&&>(a);
    }

    // Suspends the producer and continues the consumer waiting in next(): at a co_yield (the
    // value pointer is already set) and at the end.
    struct to_consumer {
        bool await_ready() const noexcept { return false; }

        template <class Promise>
        EDDY_AWAIT_SUSPEND_NOINLINE std::coroutine_handle<>
        await_suspend(std::coroutine_handle<Promise> self) noexcept {
            stream_promise_base& promise = self.promise();
            return promise.hand_back(); // touches nothing of the frame after the hand-off
        }

        void await_resume() const noexcept {}
    };

    to_consumer final_suspend() const noexcept { return {}; }

    void unhandled_exception() noexcept { m_exception = std::current_exception(); }
    void return_void() const noexcept {}

    /// The stop token the producer sees (timers, channels and eddy tasks inside it read it):
    /// the one set with `with_stop_token`, otherwise a copy of the token of the coroutine that
    /// awaits the current next().
    [[nodiscard]] std::stop_token stop_token() const noexcept { return m_stop_token; }

    [[nodiscard]] const std::stop_token& effective_stop_token() const noexcept {
        return m_stop_token;
    }

    template <class Promise>
    void inherit_stop_token_of(std::coroutine_handle<Promise> awaiting) noexcept {
        if (!m_stop_token_set) {
            refresh_stop_token(m_stop_token, awaiting);
        }
    }
    void set_stop_token(std::stop_token token) noexcept {
        m_stop_token = std::move(token);
        m_stop_token_set = true;
    }

    // Runs the producer until it yields, finishes or suspends elsewhere; returns whether the
    // consumer must suspend (see resume_handoff: no stack growth for synchronous pulls).
    bool start(std::coroutine_handle<> self, std::coroutine_handle<> consumer) noexcept {
        return m_handoff.run(self, consumer);
    }

    [[nodiscard]] std::exception_ptr take_exception() noexcept { return std::move(m_exception); }

    // One next() at a time: a programming-error check (assert) only. Set and cleared by the
    // consumer; a hand-off orders them when the consumer moves between threads.
    bool m_pulling = false;

private:
    std::coroutine_handle<> hand_back() noexcept { return m_handoff.stop(); }

    resume_handoff m_handoff;
    bool m_stop_token_set = false;
    std::stop_token m_stop_token;
    std::exception_ptr m_exception;
};

template <class T>
class stream_promise;

// The awaiter of `co_yield lvalue`: holds the copy the consumer moves from.
template <class T>
struct yield_holder : stream_promise_base::to_consumer {
    T m_held;

    EDDY_AWAIT_SUSPEND_NOINLINE std::coroutine_handle<>
    await_suspend(std::coroutine_handle<stream_promise<T>> self) noexcept {
        self.promise().m_value = std::addressof(m_held);
        return to_consumer::await_suspend(self);
    }
};

template <class T>
class stream_promise final : public stream_promise_base {
public:
    stream<T> get_return_object() noexcept;

    // An rvalue: the producer's object lives across the suspension; next() moves from it.
    to_consumer yield_value(T&& value) noexcept {
        m_value = std::addressof(value);
        return {};
    }

    // An lvalue, or something that converts to T: built once into the awaiter, which lives in
    // the frame until the producer resumes; next() moves from it.
    template <class U>
        requires(!std::same_as<std::remove_cvref_t<U>, T> || !std::is_rvalue_reference_v<U&&>)
    &&std::constructible_from<T, U&&> yield_holder<T>
    yield_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        return yield_holder<T>{{}, T(std::forward<U>(value))};
    }
    // The value of the last co_yield; valid until the producer is resumed or destroyed.
    [[nodiscard]] T* value() const noexcept { return m_value; }

private:
    friend struct yield_holder<T>;
    T* m_value = nullptr;
};

} // namespace eddy::detail
