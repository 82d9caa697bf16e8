// eddy/stream/concat.hpp - eddy::concat(sources...): one stream after another.
#pragma once

#include <optional> // std::optional
#include <utility>  // std::move
#include <vector>   // std::vector

#include <eddy/stream/detail/stream_list.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>

namespace eddy {

namespace detail {
template <class T>
stream<T> concat_body(std::vector<stream<T>> sources) {
    for (stream<T>& slot : sources) {
        stream<T> source = std::move(slot); // destroyed as soon as it has ended
        for (;;) {
            std::optional<T> value = co_await source.next();
            if (!value) {
                break;
            }
            co_yield std::move(*value);
        }
    }
}
} // namespace detail

/// A stream of every value of the first source, then of the second, and so on: a source is
/// pulled only once the one before it has ended (and been destroyed); values are moved.
///
/// Lazy: the sources are moved in; nothing is pulled before the first `next()`, and a source
/// is not started before its turn (its body does not run at all if an earlier one fails).
/// No background work: each `next()` pulls the current source directly.
/// Where the awaiter resumes: where the current source resumed it (see `eddy::stream`).
/// Errors: an exception of a source is rethrown by `next()`; the concatenation ends there (the
/// later sources are never pulled and are destroyed with it).
/// Cancellation: the current source sees the stop token of the coroutine awaiting `next()`.
/// Preconditions: every source has the same element type (static_assert).
/// Lifetime: the concatenation owns the sources; destroying it destroys them (RAII in their
/// bodies runs).
/// Thread-safety: none; one consumer pulls.
///
///     auto all = eddy::concat(eddy::just(1, 2), eddy::from(more)); // 1, 2, then more's values
template <streamable First, class... Rest>
[[nodiscard]] stream<typename First::value_type> concat(First first, Rest... rest) {
    using T = typename First::value_type;
    if constexpr (!detail::all_streams_of<T, Rest...>) {
        static_assert(detail::all_streams_of<T, Rest...>,
                      "eddy::concat: every source must be a stream (or pipeline) of the same "
                      "element type as the first");
        return {};
    } else {
        return detail::concat_body(detail::stream_list<T>(std::move(first), std::move(rest)...));
    }
}

/// `eddy::concat` of a vector of streams, in vector order; an empty vector is an empty stream.
template <class T>
[[nodiscard]] stream<T> concat(std::vector<stream<T>> sources) {
    return detail::concat_body(std::move(sources));
}

} // namespace eddy
