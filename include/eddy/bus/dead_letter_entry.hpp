// eddy/bus/dead_letter_entry.hpp - eddy::dead_letter_entry, one dead letter as the bus lists it
// for reprocessing, with its id, status, filter and the audit record of an action on it.
#pragma once

#include <chrono>   // std::chrono::steady_clock
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint64_t
#include <optional> // std::optional
#include <string>   // std::string, std::to_string

#include <eddy/bus/record.hpp>

namespace eddy {

/// Where a dead letter is: its dead-letter topic (`<topic>.DLQ`), partition and offset.
/// `str()` is its text form (`orders.DLQ:3:17`), the value of the
/// `dead_letter_header::reprocess_of` header of its republished record.
struct dead_letter_id {
    std::string topic{};       ///< the dead-letter topic
    std::size_t partition = 0; ///< its partition (the original partition number)
    std::uint64_t offset = 0;  ///< its offset in the dead-letter topic

    [[nodiscard]] std::string str() const {
        return topic + ":" + std::to_string(partition) + ":" + std::to_string(offset);
    }
    friend bool operator==(const dead_letter_id&, const dead_letter_id&) = default;
};

/// What became of a dead letter: still `pending`, `reprocessed` (republished to its original
/// topic by `event_bus::reprocess`) or `discarded` (`event_bus::discard`).
enum class dead_letter_status { pending, reprocessed, discarded };

/// Which dead letters `event_bus::dead_letters` lists: empty strings match anything; `status`
/// empty matches every status (default: pending ones only).
struct dead_letter_filter {
    std::string topic{};      ///< the original topic (not the `.DLQ` one)
    std::string error_type{}; ///< as in `dead_letter_header::error_type`
    std::optional<dead_letter_status> status = dead_letter_status::pending;
};

/// One dead letter as `event_bus::dead_letters` lists it: where it is, where it came from, why
/// it failed and what became of it. A snapshot (eager, plain value); `history` is the
/// `dead_letter_header::history` header: one `attempts x error-type @ time-ns` entry per time
/// the record was dead-lettered, oldest first, separated by `;`.
///
///     for (const auto& d : bus.dead_letters({.topic = "orders"})) log(d.id.str(), d.error_type);
struct dead_letter_entry {
    dead_letter_id id{};
    std::string topic{};         ///< the original topic
    std::size_t partition = 0;   ///< the original partition
    std::uint64_t offset = 0;    ///< the original offset
    std::string group{};         ///< the group whose handler failed
    std::string key{};           ///< the record's key
    std::string error_type{};    ///< the last error's type
    std::string error_message{}; ///< the last error's message
    std::size_t attempts = 0;    ///< attempts of the last dead-lettering
    std::string history{};       ///< every dead-lettering of this record, oldest first
    dead_letter_status status = dead_letter_status::pending;
};

/// The audit record of one action on a dead letter (`event_bus::audit_log`): who did what to
/// which dead letter, when (the bus scheduler's clock), and where a reprocessed record landed.
struct dead_letter_audit {
    using time_point = std::chrono::steady_clock::time_point;
    enum class action { reprocess, discard };

    action what = action::reprocess;
    std::string who{};            ///< as given by the caller
    time_point when{};            ///< the bus scheduler's `now()`
    dead_letter_id id{};          ///< the dead letter acted on
    std::string topic{};          ///< its original topic
    publish_result republished{}; ///< reprocess: where it landed in the original topic
};

} // namespace eddy
