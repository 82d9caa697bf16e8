// eddy/bus/topic_config.hpp - eddy::topic_config: partitions and retention of a bus topic.
#pragma once

#include <chrono>  // std::chrono::steady_clock
#include <cstddef> // std::size_t

#include <eddy/core/error.hpp>

namespace eddy {

/// How a bus topic is laid out and how long it keeps records: the number of partitions, and
/// retention by count (per partition) and/or by age. An aggregate: set what differs from the
/// defaults with designated initializers.
///
/// Retention: a partition keeps at most `retention_count` records (zero = no limit), dropping
/// the oldest first, and only records younger than `retention_age` (zero = no limit): a
/// record published at `t` is gone once the bus scheduler's `now() >= t + retention_age`.
/// Retention is applied whenever the bus touches the topic (publish, a consumer's read, a lag
/// query), so age retention needs no timer and follows virtual time exactly. Offsets keep
/// growing after records are dropped; a reader positioned before the earliest retained offset
/// gets `eddy::offset_out_of_range` or the reset its `consumer_options` ask for.
/// Size limit: `max_record_bytes` (zero = no limit) bounds a record's key bytes + header key
/// and value bytes + payload bytes; `publish` of a larger record throws
/// `eddy::record_too_large` and appends nothing (rejected at the boundary, so the producer
/// knows; dead-lettering it would tell nobody who waits). A payload measures, in this order:
/// `record_bytes(const T&)` found by argument-dependent lookup (define it for your types),
/// the bytes of a contiguous range of trivially copyable elements (`std::string`,
/// `std::vector<std::byte>`), `sizeof(T)` for a trivially copyable `T`. A limit on a topic of
/// any other type is an error of `create_topic`.
/// Preconditions: `validate()` throws `eddy::error` naming the bad field (`partitions == 0`, a
/// negative age); `event_bus::create_topic` calls it eagerly.
/// Thread-safety: a plain value.
///
///     bus.create_topic<order>("orders", {.partitions = 8, .retention_count = 100'000,
///                                        .retention_age = std::chrono::hours(24)});
struct topic_config {
    using duration = std::chrono::steady_clock::duration;

    std::size_t partitions = 1;                ///< >= 1
    std::size_t retention_count = 0;           ///< per partition; zero = no limit
    duration retention_age = duration::zero(); ///< zero = no limit
    std::size_t max_record_bytes = 0;          ///< key + headers + payload; zero = no limit

    /// Throws `eddy::error` when the configuration is unusable.
    void validate() const {
        if (partitions == 0) {
            throw error("eddy::topic_config: partitions must be at least 1");
        }
        if (retention_age < duration::zero()) {
            throw error("eddy::topic_config: retention_age must not be negative (zero = no limit)");
        }
    }

    friend bool operator==(const topic_config&, const topic_config&) = default;
};

} // namespace eddy
