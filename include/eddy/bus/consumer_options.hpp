// eddy/bus/consumer_options.hpp - eddy::consumer_options, how a group member consumes a topic.
#pragma once

#include <cstddef> // std::size_t

#include <eddy/core/error.hpp>
#include <eddy/core/retry_policy.hpp>

namespace eddy {

/// Where a consumer group starts, or moves to when its position has fallen behind retention.
enum class offset_reset {
    none,     ///< do not move: report `eddy::offset_out_of_range` (only for `on_out_of_range`)
    earliest, ///< the earliest retained offset of the partition
    latest,   ///< the partition's end: only records published from now on
};

/// What a consumer sees of transactional records (`event_bus::begin_transaction`).
///
/// - `read_committed` (the default): only records of committed transactions (and every
///   non-transactional record). A partition is read in order up to its first record of a
///   still-open transaction and waits there (Kafka's "last stable offset"): records behind it,
///   transactional or not, are delivered once that transaction ends; records of aborted
///   transactions are skipped (the group's position moves past them without a delivery).
/// - `read_uncommitted`: every record as soon as it is in the log, including records of open
///   transactions and of transactions that are later (or were) aborted.
///
/// Why read_committed is the default: exactly-once needs it, it costs nothing on topics that
/// see no transactions (every record there is committed when appended), and a consumer that
/// acts on a record that is later rolled back is a bug that rarely shows in tests. Kafka
/// defaults to read_uncommitted for compatibility with its pre-transaction clients; this bus
/// has none.
enum class isolation {
    read_committed,   ///< committed and non-transactional records only; waits behind open ones
    read_uncommitted, ///< every record, at once
};

/// Options of one member of a consumer group (`event_bus::subscribe` and `event_bus::consume`).
/// An aggregate: set what differs from the defaults with designated initializers.
///
/// - `retry`: how a failing handler is retried (push form only): the policy's backoff waits on
///   the bus scheduler, errors it marks non-retryable skip retries, and after the last attempt
///   the record goes to the topic's dead-letter topic (see `event_bus::subscribe`).
/// - `max_in_flight`: records this member handles at once (push form; each from a different
///   partition, since a group handles one record of a partition at a time). The bus never
///   buffers for a member: records stay in the topic's log until a member takes one, so a slow
///   member holds at most `max_in_flight` records, however far behind it falls.
/// - `start`: where a group that has no committed offsets yet (its first member joins) starts
///   in each partition: `earliest` (default) or `latest`.
/// - `on_out_of_range`: what a member does when the group's position in a partition is before
///   the earliest retained offset (retention dropped records it had not consumed): `none`
///   (default) reports `eddy::offset_out_of_range`, `earliest`/`latest` move the position
///   there (the dropped records are skipped).
/// - `isolation`: which transactional records the member sees (see `eddy::isolation`);
///   `read_committed` by default. Members of one group should agree on it (the group's
///   position moves past aborted records when a read_committed member skips them).
/// - `ordered_dead_letters`: when this member dead-letters a record of key K, the group parks
///   later records of K (in memory, in order) instead of handling them, while other keys keep
///   flowing; `event_bus::reprocess` of K's dead letter delivers it again (to this group only)
///   and, once it succeeds, the parked records in order before any later record of K
///   (`event_bus::discard` of it releases them at once). A parked record that fails again
///   becomes the new head. Off by default (Kafka's behaviour: later records of K go on).
/// Preconditions: `validate()` throws `eddy::error` for `max_in_flight == 0`,
/// `start == offset_reset::none` or an invalid `retry`; the bus calls it eagerly.
/// Thread-safety: a plain value.
///
///     eddy::consumer_options opts{
///         .retry = {.initial_interval = std::chrono::seconds(1), .max_attempts = 4},
///         .on_out_of_range = eddy::offset_reset::earliest};
struct consumer_options {
    retry_policy retry{};                              ///< retries of a failing handler
    std::size_t max_in_flight = 1;                     ///< records handled at once, >= 1
    offset_reset start = offset_reset::earliest;       ///< a new group's position
    offset_reset on_out_of_range = offset_reset::none; ///< behind retention: error or reset
    eddy::isolation isolation = eddy::isolation::read_committed; ///< transactional visibility
    bool ordered_dead_letters = false; ///< park a dead-lettered key's later records

    /// Throws `eddy::error` naming the field when the options are unusable.
    void validate() const {
        if (max_in_flight == 0) {
            throw error("eddy::consumer_options: max_in_flight must be at least 1");
        }
        if (start == offset_reset::none) {
            throw error("eddy::consumer_options: start must be offset_reset::earliest or "
                        "offset_reset::latest");
        }
        retry.validate();
    }
};

} // namespace eddy
