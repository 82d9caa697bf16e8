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

// A promise that can lend its token by reference (eddy tasks and streams).
template <class Promise>
concept promise_with_stop_token_ref = requires(const Promise& p) {
    { p.effective_stop_token() } -> std::same_as<const std::stop_token&>;
};

// Makes `target` the awaiting coroutine's token. Comparing tokens reads no atomics while a copy
// does two, and a stream pulled in a loop sees the same token at every pull: copy only on change.
template <class Promise>
void refresh_stop_token(std::stop_token& target, std::coroutine_handle<Promise> h) noexcept {
    if constexpr (promise_with_stop_token_ref<Promise>) {
        const std::stop_token& token = h.promise().effective_stop_token();
        if (target != token) {
            target = token;
        }
    } else {
        target = stop_token_of(h);
    }
}

} // namespace eddy::detail
