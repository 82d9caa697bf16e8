// eddy/stream/detail/buffer_body.hpp - the coroutine behind eddy::buffer.
#pragma once

#include <cstddef>  // std::size_t, std::ptrdiff_t
#include <memory>   // std::make_shared
#include <optional> // std::optional
#include <utility>  // std::move

#include <eddy/stream/detail/pump_state.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy::detail {

// Checked by eddy::buffer (1 <= n <= PTRDIFF_MAX) before it gets here. One producer with one
// credit of n permits: it never holds more than n values the consumer has not taken.
template <class T, class Hop>
stream<T> buffer_body(stream<T> upstream, std::size_t n, Hop hop) {
    auto state = std::make_shared<pump_state<T>>(1, 1, static_cast<std::ptrdiff_t>(n));
    const stop_on_exit<T> stop_producer(state.get());
    start_pump(*state, pump_source(state, std::move(upstream), 0, hop));
    for (;;) {
        std::optional<T> value = co_await state->pop();
        if (!value) {
            break;
        }
        co_yield std::move(*value);
    }
}

} // namespace eddy::detail
