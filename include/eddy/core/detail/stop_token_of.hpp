// eddy/core/detail/stop_token_of.hpp - how an awaitable finds the awaiting coroutine's stop token.
#pragma once

#include <concepts>   // std::same_as
#include <coroutine>  // std::coroutine_handle
#include <stop_token> // std::stop_token

namespace eddy::detail {

// A promise that carries a stop token (every eddy task does). Awaitables that can end early
// (timers, channel waits, locks) read the token through this protocol, so cancellation reaches
// them without an extra parameter.
template <class Promise>
concept promise_with_stop_token = requires(const Promise& p) {
    { p.stop_token() } -> std::same_as<std::stop_token>;
};

template <class Promise>
[[nodiscard]] std::stop_token stop_token_of(std::coroutine_handle<Promise> h) noexcept {
    if constexpr (promise_with_stop_token<Promise>) {
        return h.promise().stop_token();
    } else {
        return {};
    }
}

} // namespace eddy::detail
