// eddy/saga/detail/saga_progress.hpp - the state a saga run keeps, and how it is rebuilt from a
// log (the fold a resume starts from).
#pragma once

#include <cstddef> // std::size_t
#include <string>  // std::string
#include <utility> // std::move
#include <vector>  // std::vector

#include <eddy/core/error.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/saga_status.hpp>
#include <eddy/saga/saga_transition.hpp>

namespace eddy::detail {

enum class step_status {
    pending,
    started,
    completed,
    failed,          // given up, no effect
    outcome_unknown, // given up, may have taken effect
    compensating,
    compensated,
};

template <class Ctx>
struct saga_progress {
    saga_status status = saga_status::running;
    Ctx context{};
    std::vector<step_status> steps;
    std::vector<std::size_t> attempts;              // last action attempt per step
    std::vector<std::size_t> compensation_attempts; // last compensation attempt per step
    std::vector<std::size_t> owed;                  // steps whose effect may exist, in order
    bool pivot_passed = false;
    std::string current_step;
    std::string failed_step;         // the step that failed (or whose compensation failed)
    std::string failed_forward_step; // the step whose failure started compensation
    std::string cause;               // its error message

    explicit saga_progress(std::size_t step_count, Ctx initial = {})
        : context(std::move(initial)), steps(step_count, step_status::pending),
          attempts(step_count, 0), compensation_attempts(step_count, 0) {}
};

/// Rebuilds a run's state from its history. A step logged as started but never finished is
/// rerun when the saga goes forward; when the saga is compensating it may have taken effect,
/// so it joins the owed steps (compensated first, being the latest).
template <class Ctx>
saga_progress<Ctx> fold_saga_history(const saga<Ctx>& def, const saga_history<Ctx>& h) {
    if (h.transitions.empty() || h.transitions.front().kind != saga_transition_kind::saga_started ||
        !h.transitions.front().context) {
        throw error("eddy saga log: the history of saga '" + h.id +
                    "' does not begin with saga_started and its context");
    }
    saga_progress<Ctx> p(def.step_count(), *h.transitions.front().context);
    for (const auto& t : h.transitions) {
        using k = saga_transition_kind;
        const bool has_step = !t.step.empty();
        const std::size_t i = has_step ? def.step_index(t.step) : 0;
        if (t.context && t.kind != k::saga_started) {
            p.context = *t.context;
        }
        switch (t.kind) {
        case k::saga_started:
        case k::saga_completed:
            p.status = t.kind == k::saga_completed ? saga_status::completed : p.status;
            break;
        case k::step_started:
            p.steps[i] = step_status::started;
            p.attempts[i] = t.attempt;
            p.current_step = t.step;
            break;
        case k::step_completed:
            p.steps[i] = step_status::completed;
            p.owed.push_back(i);
            p.pivot_passed = p.pivot_passed || def.step_at(i).pivot;
            break;
        case k::step_attempt_failed:
            break;
        case k::step_failed:
        case k::step_outcome_unknown:
            p.steps[i] =
                t.kind == k::step_failed ? step_status::failed : step_status::outcome_unknown;
            if (t.kind == k::step_outcome_unknown) {
                p.owed.push_back(i);
                p.pivot_passed = p.pivot_passed || def.step_at(i).pivot; // as in saga_execution
            }
            if (!def.step_at(i).optional && p.status == saga_status::running) {
                p.status = p.pivot_passed ? saga_status::parked : saga_status::compensating;
                p.failed_step = t.step;
                p.failed_forward_step = t.step;
                p.cause = t.error;
            }
            break;
        case k::compensation_started:
            p.steps[i] = step_status::compensating;
            p.compensation_attempts[i] = t.attempt;
            p.current_step = t.step;
            break;
        case k::compensation_completed:
            p.steps[i] = step_status::compensated;
            break;
        case k::compensation_attempt_failed:
            break;
        case k::saga_compensated:
            p.status = saga_status::compensated;
            break;
        case k::saga_compensation_failed:
            p.status = saga_status::compensation_failed;
            p.failed_step = t.step;
            p.cause = t.error;
            break;
        case k::saga_parked:
            p.status = saga_status::parked;
            p.failed_step = t.step;
            p.cause = t.error;
            break;
        case k::saga_resumed:
            p.status =
                p.status == saga_status::parked ? saga_status::running : saga_status::compensating;
            break;
        }
    }
    if (p.status == saga_status::compensating) {
        for (std::size_t i = 0; i < p.steps.size(); ++i) {
            if (p.steps[i] == step_status::started) {
                p.steps[i] = step_status::outcome_unknown;
                p.owed.push_back(i);
            }
        }
    }
    return p;
}

} // namespace eddy::detail
