// eddy/bus/bus_observer.hpp - eddy::bus_observer, hooks an event bus calls, and
// eddy::topic_stats, the counters it keeps per topic.
#pragma once

#include <cstdint>    // std::uint64_t
#include <functional> // std::function

#include <eddy/bus/dead_letter.hpp>

namespace eddy {

/// The counters an event bus keeps for one topic (`event_bus::stats(topic)` returns a
/// snapshot). No global state: each bus counts its own topics.
///
/// - `published`: records appended to the topic (by `publish`, or as dead letters).
/// - `delivered`: records handed to a consumer: each time a push member takes a record (its
///   first attempt; a record redelivered after a member left counts again) and each record a
///   pull consumer (`consume`) yields.
/// - `retried`: attempts of a handler after the first (a record tried 3 times adds 2).
/// - `dead_lettered`: records of this topic sent to its dead-letter topic.
/// - `deduplicated`: publishes of an idempotent producer that were duplicates (not appended).
/// - `reprocessed` / `discarded`: dead letters of this topic republished to it / discarded
///   (`event_bus::reprocess`, `event_bus::discard`); counted on the original topic.
/// - `parked`: records held back behind a dead-lettered record of their key (ordered
///   dead-lettering, `consumer_options::ordered_dead_letters`).
/// Dead letters per error type: `event_bus::dead_lettered_by_error(topic)`.
///
///     auto s = bus.stats("orders"); // s.published == 3, s.delivered == 6 with two groups
struct topic_stats {
    std::uint64_t published = 0;
    std::uint64_t delivered = 0;
    std::uint64_t retried = 0;
    std::uint64_t dead_lettered = 0;
    std::uint64_t deduplicated = 0;
    std::uint64_t reprocessed = 0;
    std::uint64_t discarded = 0;
    std::uint64_t parked = 0;

    friend bool operator==(const topic_stats&, const topic_stats&) = default;
};

/// Hooks an event bus calls, given at its construction (no global registry). An aggregate of
/// optional callbacks; an empty one is not called.
///
/// `on_dead_letter` is called once per dead-lettered record, after the dead letter is in its
/// topic and the original offset is committed, on the consumer's thread (the bus
/// scheduler's) and outside the bus's lock (it may call the bus). An exception it throws is
/// swallowed: an alert must not block the partition.
/// Thread-safety: callbacks may be called concurrently from several threads (members of
/// several groups on a `thread_pool`), so they must be safe for that.
///
///     eddy::event_bus bus(pool, eddy::bus_observer{
///         .on_dead_letter = [&](const eddy::dead_letter_alert& a) { pager.page(a.topic); }});
struct bus_observer {
    std::function<void(const dead_letter_alert&)> on_dead_letter{}; ///< a record was dead-lettered
};

} // namespace eddy
