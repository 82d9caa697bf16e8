// eddy/es/stream_metadata.hpp - eddy::stream_metadata, what limits the events a stream reads.
#pragma once

#include <cstdint> // std::uint64_t

namespace eddy {

/// The metadata of a stream that limits what `read_stream` returns (never what `read_all` and
/// `subscribe_all` return: the global log is append-only, so projections see every event):
/// - `truncate_before`: versions below it are no longer read (0 or 1: none hidden); versions keep
///   counting, the next append still gets the stream's version + 1.
/// - `max_count`: only the latest `max_count` events are read (0: no limit).
/// A soft-deleted stream (`delete_stream`) is read as empty; see `eddy::memory_event_store`.
///
/// Eager value type. Thread-safety: like `int`.
///
///     co_await store.set_stream_metadata("order-1", {.truncate_before = 100});
struct stream_metadata {
    std::uint64_t truncate_before = 0;
    std::uint64_t max_count = 0;

    friend bool operator==(const stream_metadata&, const stream_metadata&) = default;
};

} // namespace eddy
