// eddy/stream/from_channel.hpp - eddy::from(channel&): a stream of what a channel receives.
#pragma once

#include <optional> // std::optional
#include <utility>  // std::move

#include <eddy/core/channel.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// A stream of the values received from `ch`, until it is closed and drained.
///
/// Lazy: nothing is received before the first `next()`; each `next()` receives one value
/// (so other receivers of the channel may take values in between: each value goes to one).
/// Where the awaiter resumes: inline when a value is buffered (or the channel closed);
/// otherwise on the thread of the `send` (or `close`) that completes the wait, inside it.
/// Cancellation: a waiting receive ends with `eddy::operation_cancelled` when the consumer's
/// (or `with_stop_token`'s) token is stopped; `next()` rethrows it.
/// Lifetime: `ch` is held by reference: the channel must outlive the stream.
/// Thread-safety: none for the stream; the channel itself may be used by other threads.
///
///     eddy::channel<int> ch(8);
///     auto s = eddy::from(ch); // yields what producers send, ends when ch.close() drains
template <class T>
[[nodiscard]] stream<T> from(channel<T>& ch) {
    for (;;) {
        // Awaited into a local, never inside a condition (g++ 12).
        std::optional<T> value = co_await ch.receive();
        if (!value) {
            co_return;
        }
        co_yield std::move(*value);
    }
}

} // namespace eddy
