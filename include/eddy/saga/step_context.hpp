// eddy/saga/step_context.hpp - eddy::step_context, what a saga step's action is told about
// the run that calls it.
#pragma once

#include <cstddef>     // std::size_t
#include <string_view> // std::string_view

namespace eddy {

/// Passed to every action and compensation of a saga step.
///
/// `idempotency_key` is `<saga id>/<step name>` for the action and
/// `<saga id>/<step name>/compensation` for the compensation: the same on every attempt and
/// after a resume, so a service keyed by it applies the effect once however often the step
/// runs. `attempt` counts from 1 within one run of the coordinator (a resume starts again at
/// the attempt after the last one logged).
/// Lifetime: the views stay valid until the action's task finishes; copy what you keep.
///
///     eddy::task<void> charge(order& o, const eddy::step_context& step) {
///         co_await payments.charge(o.card, o.amount, step.idempotency_key);
///     }
struct step_context {
    std::string_view saga_id;         ///< the saga's id
    std::string_view step;            ///< the step's name
    std::string_view idempotency_key; ///< stable across attempts and resumes
    std::size_t attempt = 1;          ///< 1 for the first attempt
    bool compensating = false;        ///< true when a compensation is running
};

} // namespace eddy
