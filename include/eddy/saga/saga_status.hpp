// eddy/saga/saga_status.hpp - eddy::saga_status, where a saga run stands.
#pragma once

#include <string_view> // std::string_view

namespace eddy {

/// Where a saga stands. `running` and `compensating` are unfinished (a coordinator's
/// `resume_pending` continues them); `completed` and `compensated` are final;
/// `compensation_failed` (a compensation was given up) and `parked` (a step after the pivot
/// was given up) are stuck: they wait for an operator's `saga_coordinator::resume(id)`.
enum class saga_status {
    running,
    compensating,
    completed,
    compensated,
    compensation_failed,
    parked,
};

/// The status's name, e.g. "compensation_failed".
[[nodiscard]] constexpr std::string_view to_string(saga_status s) noexcept {
    switch (s) {
    case saga_status::running:
        return "running";
    case saga_status::compensating:
        return "compensating";
    case saga_status::completed:
        return "completed";
    case saga_status::compensated:
        return "compensated";
    case saga_status::compensation_failed:
        return "compensation_failed";
    case saga_status::parked:
        return "parked";
    }
    return "unknown";
}

} // namespace eddy
