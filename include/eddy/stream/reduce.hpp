// eddy/stream/reduce.hpp - eddy::reduce(stream, init, f): a stream folded into one value.
#pragma once

#include <optional>    // std::optional
#include <type_traits> // std::invoke_result_t
#include <utility>     // std::move

#include <eddy/core/awaitable.hpp>
#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>

namespace eddy {

/// A task that pulls `s` to its end, folding each value in with
/// `acc = f(std::move(acc), std::move(value))` starting from `init`, and yields `acc`.
/// `f` may return an awaitable of the new accumulator instead (it is awaited before the next
/// pull).
///
/// Lazy (a task). Where the awaiter resumes: where the stream's last `next()` resumed. An
/// exception of the stream or of `f` is rethrown to the awaiter.
/// Lifetime: takes the stream, `init` and `f` by value; the stream's body is destroyed
/// before the task completes. Thread-safety: none (see `eddy::task`).
///
///     int sum = co_await eddy::reduce(eddy::just(1, 2, 3), 0, std::plus<>{}); // 6
template <streamable S, class Acc, class F, class T = typename S::value_type>
[[nodiscard]] task<Acc> reduce(S s, Acc init, F f) {
    using result = std::invoke_result_t<F&, Acc&&, T&&>;
    Acc acc = std::move(init);
    {
        auto source = detail::pullable(std::move(s)); // a local: gone before the task completes
        if constexpr (detail::synchronous_source<decltype(source)> && !eddy::awaitable<result>) {
            acc = detail::fold_sync(source, std::move(acc), f);
        } else {
            for (;;) {
                std::optional<T> value = co_await source.next();
                if (!value) {
                    break;
                }
                if constexpr (eddy::awaitable<result>) {
                    acc = co_await f(std::move(acc), std::move(*value));
                } else {
                    acc = f(std::move(acc), std::move(*value));
                }
            }
        }
    }
    co_return acc;
}

} // namespace eddy
