// eddy/stream/zip.hpp - eddy::zip(sources...): tuples of their values, element by element.
#pragma once

#include <concepts> // std::convertible_to
#include <optional> // std::optional
#include <tuple>    // std::tuple, std::apply
#include <utility>  // std::move

#include <eddy/core/task.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

namespace detail {
// A stream, or a pipeline (anything that converts to the stream of its value_type).
template <class S>
concept zip_source = std::convertible_to<S, stream<typename S::value_type>>;

// Thrown by a pull that found its source ended, so when_all stops the other pulls at once.
struct zip_source_ended {};

template <class T>
task<T> zip_pull(stream<T>* source) {
    std::optional<T> value = co_await source->next();
    if (!value) {
        throw zip_source_ended{};
    }
    co_return std::move(*value);
}

template <class... Ts>
stream<std::tuple<Ts...>> zip_body(std::tuple<stream<Ts>...> sources) {
    for (;;) {
        std::optional<std::tuple<Ts...>> row;
        try {
            std::tuple<Ts...> pulled = co_await std::apply(
                [](stream<Ts>&... s) { return eddy::when_all(zip_pull(&s)...); }, sources);
            row.emplace(std::move(pulled));
        } catch (const zip_source_ended&) {
            break;
        }
        co_yield std::move(*row);
    }
}
} // namespace detail

/// A stream of tuples: the first values of every source, then the second values, and so on;
/// it ends as soon as one source ends.
///
/// Concurrent pulls: for each tuple, the sources are pulled at the same time (`when_all` of
/// their `next()`), so a tuple takes as long as the slowest source, not the sum. When a source
/// ends, stop is requested on the pulls still running (their timers and channel waits end with
/// `eddy::operation_cancelled`, taken as the end); values they produced anyway are dropped,
/// the stream ends, and the sources are destroyed with it. No look-ahead: a source is pulled
/// only when the consumer asks for a tuple.
/// Lazy: the sources are moved in; nothing is pulled before the first `next()`.
/// Where the awaiter resumes: where the last source of the round resumed it.
/// Errors: the first exception of a source stops the other pulls of the round and is
/// rethrown by `next()`; the stream ends. (A source that ended first wins: the stream just
/// ends.)
/// Cancellation: the sources see the stop token of the coroutine awaiting `next()` (stopped
/// also when a source of the same round ended or failed).
/// Preconditions: at least one source; each a stream or pipeline.
/// Lifetime: the zip owns the sources; destroying it destroys them (RAII in their bodies runs).
/// Thread-safety: one consumer pulls; the sources of a round may run on different threads.
///
///     auto rows = eddy::zip(eddy::from(names), eddy::interval(vt, 1s)); // (name, 0), (name, 1)
template <detail::zip_source First, detail::zip_source... Rest>
[[nodiscard]] stream<std::tuple<typename First::value_type, typename Rest::value_type...>>
zip(First first, Rest... rest) {
    return detail::zip_body(
        std::tuple<stream<typename First::value_type>, stream<typename Rest::value_type>...>(
            std::move(first), std::move(rest)...));
}

} // namespace eddy
