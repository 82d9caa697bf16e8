// eddy/saga/saga_transition.hpp - eddy::saga_transition<Ctx>, one entry of a saga's durable
// log, and eddy::saga_history<Ctx>, all of one saga's entries.
#pragma once

#include <chrono>      // std::chrono::system_clock
#include <cstddef>     // std::size_t
#include <optional>    // std::optional
#include <string>      // std::string
#include <string_view> // std::string_view
#include <vector>      // std::vector

namespace eddy {

/// What happened, as a saga log records it. A coordinator writes `step_started` before an
/// action runs (so a crash mid-action is known to need a rerun or a compensation) and
/// `step_completed` with the context after it; likewise for compensations.
enum class saga_transition_kind {
    saga_started,                ///< the first entry, with the initial context
    step_started,                ///< an attempt of a step's action begins
    step_completed,              ///< the action succeeded; carries the context
    step_attempt_failed,         ///< an attempt failed and will be retried
    step_failed,                 ///< given up; it took no effect
    step_outcome_unknown,        ///< given up; it may have taken effect (compensation owed)
    compensation_started,        ///< an attempt of a compensation begins
    compensation_completed,      ///< the compensation succeeded; carries the context
    compensation_attempt_failed, ///< an attempt of a compensation failed, will be retried
    saga_completed,              ///< final
    saga_compensated,            ///< final
    saga_compensation_failed,    ///< stuck: a compensation was given up
    saga_parked,                 ///< stuck: a step after the pivot was given up
    saga_resumed,                ///< an operator resumed a stuck saga
};

/// The kind's name, e.g. "step_started" (how the SQLite log stores it, and what tools print).
[[nodiscard]] constexpr std::string_view to_string(saga_transition_kind k) noexcept {
    switch (k) {
    case saga_transition_kind::saga_started:
        return "saga_started";
    case saga_transition_kind::step_started:
        return "step_started";
    case saga_transition_kind::step_completed:
        return "step_completed";
    case saga_transition_kind::step_attempt_failed:
        return "step_attempt_failed";
    case saga_transition_kind::step_failed:
        return "step_failed";
    case saga_transition_kind::step_outcome_unknown:
        return "step_outcome_unknown";
    case saga_transition_kind::compensation_started:
        return "compensation_started";
    case saga_transition_kind::compensation_completed:
        return "compensation_completed";
    case saga_transition_kind::compensation_attempt_failed:
        return "compensation_attempt_failed";
    case saga_transition_kind::saga_completed:
        return "saga_completed";
    case saga_transition_kind::saga_compensated:
        return "saga_compensated";
    case saga_transition_kind::saga_compensation_failed:
        return "saga_compensation_failed";
    case saga_transition_kind::saga_parked:
        return "saga_parked";
    case saga_transition_kind::saga_resumed:
        return "saga_resumed";
    }
    return "unknown";
}

/// The kind named `name` (as `to_string` names it); empty for a name no kind has.
[[nodiscard]] constexpr std::optional<saga_transition_kind>
saga_transition_kind_from(std::string_view name) noexcept {
    for (int i = 0; i <= static_cast<int>(saga_transition_kind::saga_resumed); ++i) {
        const auto k = static_cast<saga_transition_kind>(i);
        if (to_string(k) == name) {
            return k;
        }
    }
    return std::nullopt;
}

/// True for the kinds that end a saga for good (`saga_completed`, `saga_compensated`).
[[nodiscard]] constexpr bool is_final(saga_transition_kind k) noexcept {
    return k == saga_transition_kind::saga_completed || k == saga_transition_kind::saga_compensated;
}

/// One log entry. `step` is empty for saga-level kinds; `attempt` counts per step from 1;
/// `context` is set on `saga_started`, `step_completed` and `compensation_completed`; `error`
/// holds the failure's message (`what()`), for failed kinds and stuck sagas.
template <class Ctx>
struct saga_transition {
    saga_transition_kind kind = saga_transition_kind::saga_started;
    std::string step{};
    std::size_t attempt = 0;
    std::chrono::system_clock::time_point at{};
    std::optional<Ctx> context{};
    std::string error{};
};

/// Everything a log holds about one saga: its id, its definition's name and its entries in the
/// order they were recorded.
template <class Ctx>
struct saga_history {
    std::string id;
    std::string definition;
    std::vector<saga_transition<Ctx>> transitions;
};

} // namespace eddy
