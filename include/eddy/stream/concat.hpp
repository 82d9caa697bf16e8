// eddy/stream/concat.hpp - eddy::concat(sources...): one stream after another.
#pragma once

#include <concepts> // std::convertible_to
#include <optional> // std::optional
#include <utility>  // std::move
#include <vector>   // std::vector

#include <eddy/stream/stream.hpp>

namespace eddy {

namespace detail {
// A stream, or a pipeline (anything that converts to the stream of its value_type).
template <class S>
concept concat_source = std::convertible_to<S, stream<typename S::value_type>>;

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
template <detail::concat_source First, class... Rest>
[[nodiscard]] stream<typename First::value_type> concat(First first, Rest... rest) {
    using T = typename First::value_type;
    if constexpr (!(std::convertible_to<Rest, stream<T>> && ...)) {
        static_assert((std::convertible_to<Rest, stream<T>> && ...),
                      "eddy::concat: every source must be a stream (or pipeline) of the same "
                      "element type as the first");
        return {};
    } else {
        std::vector<stream<T>> sources;
        sources.reserve(1 + sizeof...(Rest));
        sources.emplace_back(std::move(first));
        (sources.emplace_back(std::move(rest)), ...);
        return detail::concat_body(std::move(sources));
    }
}

/// `eddy::concat` of a vector of streams, in vector order; an empty vector is an empty stream.
template <class T>
[[nodiscard]] stream<T> concat(std::vector<stream<T>> sources) {
    return detail::concat_body(std::move(sources));
}

} // namespace eddy
