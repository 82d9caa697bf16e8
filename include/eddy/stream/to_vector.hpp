// eddy/stream/to_vector.hpp - eddy::to_vector(stream): every value, collected.
#pragma once

#include <optional> // std::optional
#include <utility>  // std::move, std::forward
#include <vector>   // std::vector

#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>

namespace eddy {

/// A task that pulls `s` to its end and yields its values, in order, in a vector.
///
/// Lazy (a task): nothing is pulled before it is awaited. Where the awaiter resumes: where
/// the stream's last `next()` resumed (see `eddy::stream`). An exception of the stream is
/// rethrown to the awaiter (the values collected so far are lost).
/// Lifetime: takes the stream by value; its body is destroyed before the task completes.
/// Thread-safety: none (see `eddy::task`).
///
///     std::vector<int> v = co_await eddy::to_vector(eddy::just(1, 2, 3)); // {1, 2, 3}
namespace detail {
inline constexpr auto append_to_vector = [](auto&& out, auto&& value) {
    out.push_back(std::forward<decltype(value)>(value));
    return std::forward<decltype(out)>(out);
};
} // namespace detail

template <streamable S, class T = typename S::value_type>
[[nodiscard]] task<std::vector<T>> to_vector(S s) {
    std::vector<T> out;
    {
        auto source = detail::pullable(std::move(s)); // a local: gone before the task completes
        if constexpr (detail::synchronous_source<decltype(source)>) {
            out = detail::fold_sync(source, std::move(out), detail::append_to_vector);
        } else {
            for (;;) {
                std::optional<T> value = co_await source.next();
                if (!value) {
                    break;
                }
                out.push_back(std::move(*value));
            }
        }
    }
    co_return out;
}

} // namespace eddy
