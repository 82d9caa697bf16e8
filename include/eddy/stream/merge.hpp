// eddy/stream/merge.hpp - eddy::merge(sources...): several streams interleaved as values arrive.
#pragma once

#include <utility> // std::move
#include <vector>  // std::vector

#include <eddy/stream/detail/merge_body.hpp>
#include <eddy/stream/detail/stream_list.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>

namespace eddy {

namespace detail {} // namespace detail

/// A stream of the values of every source, interleaved in the order they arrive: each source
/// is pulled by background work of its own, the values of one source keep their order, and the
/// merged stream ends once every source has ended.
///
/// Lazy: the sources are moved in; nothing is pulled before the first `next()`, which starts
/// one background pull per source, in argument order, on its thread.
/// Look-ahead: each source is pulled again only once its previous value was taken, so at most
/// one value per source waits (memory: at most `sizeof...(sources)` values of `T`); a slow
/// consumer slows every source down (backpressure). Synchronous sources interleave round
/// robin: a1, b1, a2, b2, ...
/// Where things run: each source starts on the thread of the first `next()` and runs where
/// it resumes; a source that waited for its value to be taken is pulled again on the thread
/// of the `next()` that took it. Where the awaiter resumes: at once when a value is waiting;
/// otherwise on the thread where a source produced one (or where the last one ended).
/// Errors: the first exception of a source stops the other sources (their stop token is
/// requested: timers and channel waits end with `eddy::operation_cancelled`); the values that
/// arrived before it are delivered, then `next()` rethrows it and the stream ends. Values that
/// arrive after it are dropped.
/// Cancellation: the sources see the stop token of the background work, which is stopped when
/// the merged stream is destroyed or ends. A `next()` waiting while the consumer's stop token
/// is stopped throws `eddy::operation_cancelled` and stops the sources.
/// Preconditions: every source has the same element type (static_assert).
/// Lifetime: destroying the merged stream never blocks: it stops the sources, which are then
/// destroyed (their RAII cleanup runs) by their background work wherever it ends (where their
/// timers resume it); schedulers they use must outlive that.
/// Thread-safety: one consumer pulls (see `eddy::stream`); sources may run on different
/// threads at once, each on one thread at a time.
///
///     auto events = eddy::merge(eddy::from(orders), eddy::from(payments)); // as they arrive
///     co_await eddy::for_each(std::move(events), handle);
template <streamable First, class... Rest>
[[nodiscard]] stream<typename First::value_type> merge(First first, Rest... rest) {
    using T = typename First::value_type;
    if constexpr (!detail::all_streams_of<T, Rest...>) {
        static_assert(detail::all_streams_of<T, Rest...>,
                      "eddy::merge: every source must be a stream (or pipeline) of the same "
                      "element type as the first");
        return {};
    } else {
        return detail::merge_body(detail::stream_list<T>(std::move(first), std::move(rest)...));
    }
}

/// `eddy::merge` of a vector of streams (see above); an empty vector is an empty stream.
///
///     std::vector<eddy::stream<int>> partitions = open_partitions();
///     auto all = eddy::merge(std::move(partitions));
template <class T>
[[nodiscard]] stream<T> merge(std::vector<stream<T>> sources) {
    return detail::merge_body(std::move(sources));
}

} // namespace eddy
