// eddy/bus/dead_letter.hpp - the dead-letter topic of a bus topic and the headers of a dead
// letter.
#pragma once

#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint64_t
#include <string>      // std::string
#include <string_view> // std::string_view

namespace eddy {

/// The name of the dead-letter topic of `topic`: `<topic>.DLQ`. `event_bus::create_topic`
/// creates it with the topic (same value type, same partitions and retention), and a record
/// whose handler failed for the last time is published to it, in the same partition number,
/// with the original key, headers and value plus the `dead_letter_header` entries.
///
///     bus.subscribe<order>(eddy::dead_letter_topic("orders"), "ops", inspect); // "orders.DLQ"
[[nodiscard]] inline std::string dead_letter_topic(std::string_view topic) {
    std::string name(topic);
    name += ".DLQ";
    return name;
}

/// The header keys a dead letter carries (beside the original record's headers). Times are the
/// bus scheduler's clock as decimal nanoseconds since its epoch
/// (`time_since_epoch()` of `now()`); numbers are decimal.
namespace dead_letter_header {
inline constexpr std::string_view topic = "eddy.dlq.original-topic";         ///< original topic
inline constexpr std::string_view partition = "eddy.dlq.original-partition"; ///< its partition
inline constexpr std::string_view offset = "eddy.dlq.original-offset";       ///< its offset
inline constexpr std::string_view group = "eddy.dlq.group";                  ///< failing group
/// The last error's dynamic type: `typeid(e).name()` of a `std::exception` (the
/// implementation's, mangled, name), or "unknown" for anything else.
inline constexpr std::string_view error_type = "eddy.dlq.error-type";
/// The last error's `what()` (empty for a non-`std::exception`).
inline constexpr std::string_view error_message = "eddy.dlq.error-message";
inline constexpr std::string_view attempts = "eddy.dlq.attempts"; ///< attempts made in all
inline constexpr std::string_view first_failure = "eddy.dlq.first-failure"; ///< time (ns)
inline constexpr std::string_view last_failure = "eddy.dlq.last-failure";   ///< time (ns)
/// Every dead-lettering of the record, oldest first, `;`-separated entries
/// `<attempts>x <error-type> @<last-failure-ns>`: kept when it is reprocessed and fails again.
inline constexpr std::string_view history = "eddy.dlq.history";
/// On a record republished by `event_bus::reprocess`: the `dead_letter_id::str()` it came from.
inline constexpr std::string_view reprocess_of = "eddy.dlq.reprocess-of";
/// On a record republished by `event_bus::reprocess`: the only group it is delivered to (the
/// one that dead-lettered it); other groups skip it.
inline constexpr std::string_view reprocess_for = "eddy.dlq.reprocess-for";
} // namespace dead_letter_header

/// What the bus tells an observer (`bus_observer::on_dead_letter`) when it dead-letters a
/// record: where the record came from, which group gave up, why, and where it went.
struct dead_letter_alert {
    std::string topic;            ///< the original topic
    std::string group;            ///< the consumer group whose handler failed
    std::size_t partition = 0;    ///< the original (and dead-letter) partition
    std::uint64_t offset = 0;     ///< the original offset
    std::uint64_t dlq_offset = 0; ///< its offset in the dead-letter topic
    std::string error_type;       ///< as in `dead_letter_header::error_type`
    std::string error_message;    ///< as in `dead_letter_header::error_message`
    std::size_t attempts = 0;     ///< attempts made in all
};

} // namespace eddy
