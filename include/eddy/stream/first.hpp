// eddy/stream/first.hpp - eddy::first(stream): the first value, if any.
#pragma once

#include <optional> // std::optional
#include <utility>  // std::move

#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>

namespace eddy {

/// A task that pulls one value from `s` and yields it (empty if the stream is empty), then
/// destroys the stream: the body does not run past its first `co_yield`, and its RAII
/// cleanup runs before the task completes.
///
/// Lazy (a task). Where the awaiter resumes: where that `next()` resumed. An exception
/// thrown before the first value is rethrown to the awaiter.
/// Lifetime: takes the stream by value. Thread-safety: none (see `eddy::task`).
///
///     std::optional<int> v = co_await eddy::first(eddy::interval(vt, 1s)); // 0, at 1s
template <streamable S, class T = typename S::value_type>
[[nodiscard]] task<std::optional<T>> first(S s) {
    auto source = detail::pullable(std::move(s)); // a local: gone before the task completes
    std::optional<T> value = co_await source.next();
    co_return value;
}

} // namespace eddy
