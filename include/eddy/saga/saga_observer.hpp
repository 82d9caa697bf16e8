// eddy/saga/saga_observer.hpp - eddy::saga_observer, hooks a saga run calls.
#pragma once

#include <chrono>      // std::chrono::steady_clock
#include <cstddef>     // std::size_t
#include <exception>   // std::exception_ptr
#include <functional>  // std::function
#include <string_view> // std::string_view

#include <eddy/saga/saga_status.hpp>

namespace eddy {

/// A step's progress, as observers see it. `elapsed`: the attempt's duration on the saga's
/// scheduler clock (zero for `on_step_started`); `error`: set for failures.
struct saga_step_event {
    std::string_view saga_id;
    std::string_view saga;
    std::string_view step;
    std::size_t attempt = 1;
    std::chrono::steady_clock::duration elapsed{};
    std::exception_ptr error{};
};

/// How a run ended, as observers see it. `elapsed`: the run's duration (this run, not the
/// saga's whole life across resumes).
struct saga_end_event {
    std::string_view saga_id;
    std::string_view saga;
    saga_status status = saga_status::completed;
    std::string_view failed_step;
    std::exception_ptr cause{};
    std::chrono::steady_clock::duration elapsed{};
};

/// Hooks given to `eddy::run_saga` or a `saga_coordinator` (no global registry). An aggregate
/// of optional callbacks; an empty one is not called. They run on the saga's thread, inline, so
/// keep them short; an exception they throw is swallowed (observing never changes a saga).
/// `on_stuck` is the alert: a saga ended `compensation_failed` or `parked` and waits for an
/// operator. Thread-safety: parallel steps on a `thread_pool` call them concurrently.
///
///     eddy::saga_observer obs{.on_stuck = [&](const eddy::saga_end_event& e) { page(e); }};
struct saga_observer {
    std::function<void(const saga_step_event&)> on_step_started{};
    std::function<void(const saga_step_event&)> on_step_completed{};
    std::function<void(const saga_step_event&)> on_step_failed{}; ///< every failed attempt
    std::function<void(const saga_step_event&)> on_step_compensated{};
    std::function<void(const saga_end_event&)> on_end{};
    std::function<void(const saga_end_event&)> on_stuck{};
};

} // namespace eddy
