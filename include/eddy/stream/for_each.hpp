// eddy/stream/for_each.hpp - eddy::for_each(stream, f): f on every value, with backpressure.
#pragma once

#include <optional>    // std::optional
#include <type_traits> // std::invoke_result_t, std::is_void_v
#include <utility>     // std::move

#include <eddy/core/awaitable.hpp>
#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>

namespace eddy {

/// A task that pulls `s` to its end and calls `f(std::move(value))` on each value, in order.
/// When `f` returns an awaitable (an `eddy::task`, say) it is awaited before the next pull:
/// that is the backpressure, the stream's body stays suspended at its `co_yield` meanwhile.
///
/// Lazy (a task). Where the awaiter resumes: where the stream's last `next()` resumed. An
/// exception of the stream or of `f` is rethrown to the awaiter (no more values are pulled).
/// Preconditions: `f(T&&)` returns void or something awaitable (static_assert).
/// Lifetime: takes the stream and `f` by value (into the frame); the stream's body is
/// destroyed before the task completes. A value passed to `f` lives until what `f` returned
/// has been awaited. `f` must not be a capturing lambda that is itself a coroutine (g++ 12
/// bug): return a task from a coroutine that takes its state as parameters.
/// Thread-safety: none (see `eddy::task`).
///
///     co_await eddy::for_each(eddy::from(ch), save{&db}); // save returns task<void>
template <streamable S, class F, class T = typename S::value_type>
[[nodiscard]] task<void> for_each(S s, F f) {
    using result = std::invoke_result_t<F&, T&&>;
    static_assert(std::is_void_v<result> || eddy::awaitable<result>,
                  "eddy::for_each: f(value) must return void or an awaitable");
    auto source = detail::pullable(std::move(s)); // a local: gone before the task completes
    for (;;) {
        std::optional<T> value = co_await source.next();
        if (!value) {
            co_return;
        }
        if constexpr (std::is_void_v<result>) {
            f(std::move(*value));
        } else {
            co_await f(std::move(*value));
        }
    }
}

} // namespace eddy
