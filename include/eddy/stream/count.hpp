// eddy/stream/count.hpp - eddy::count(stream): how many values a stream yields.
#pragma once

#include <cstddef>  // std::size_t
#include <optional> // std::optional
#include <utility>  // std::move

#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>

namespace eddy {

/// A task that pulls `s` to its end and yields the number of values (each is destroyed
/// as soon as it is counted).
///
/// Lazy (a task). Where the awaiter resumes: where the stream's last `next()` resumed. An
/// exception of the stream is rethrown to the awaiter.
/// Lifetime: takes the stream by value; its body is destroyed before the task completes.
/// Thread-safety: none (see `eddy::task`).
///
///     std::size_t n = co_await eddy::count(eddy::just(1, 2, 3)); // 3
template <streamable S, class T = typename S::value_type>
[[nodiscard]] task<std::size_t> count(S s) {
    std::size_t n = 0;
    auto source = detail::pullable(std::move(s)); // a local: gone before the task completes
    for (;;) {
        std::optional<T> value = co_await source.next();
        if (!value) {
            co_return n;
        }
        ++n;
    }
}

} // namespace eddy
