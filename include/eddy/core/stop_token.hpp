// eddy/core/stop_token.hpp - reading and setting a task's stop token.
#pragma once

#include <coroutine>  // std::coroutine_handle
#include <stop_token> // std::stop_token
#include <utility>    // std::move

#include <eddy/core/detail/stop_token_of.hpp>
#include <eddy/core/task.hpp>

namespace eddy {

namespace detail {
struct get_stop_token_awaiter {
    std::stop_token m_token;

    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
        m_token = detail::stop_token_of(h);
        return false; // never suspends: it only reads the awaiting promise
    }
    std::stop_token await_resume() noexcept { return std::move(m_token); }
};
} // namespace detail

/// `co_await eddy::get_stop_token()` yields the stop token of the calling task (an empty
/// token in a coroutine type that carries none). Never suspends.
///
///     auto token = co_await eddy::get_stop_token();
///     while (!token.stop_requested()) { co_await step(); }
[[nodiscard]] inline detail::get_stop_token_awaiter get_stop_token() noexcept { return {}; }

/// Returns `t` set to observe `token` instead of inheriting its awaiter's token.
///
///     std::stop_source stop;
///     auto t = eddy::with_stop_token(worker(), stop.get_token());
template <class T>
[[nodiscard]] task<T> with_stop_token(task<T> t, std::stop_token token) noexcept {
    t.set_stop_token(std::move(token));
    return t;
}

} // namespace eddy
