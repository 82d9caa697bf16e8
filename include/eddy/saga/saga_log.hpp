// eddy/saga/saga_log.hpp - the eddy::saga_log concept: the durable record a saga coordinator
// writes before and after every step, and resumes from.
#pragma once

#include <eddy/saga/detail/saga_log_requirements.hpp>
#include <eddy/saga/saga_transition.hpp>

namespace eddy {

/// Storage of saga histories (memory here; SQLite and PostgreSQL implement the same concept,
/// encoding the context with a codec at their boundary). `L::context_type` is the saga's
/// context. Every operation is a coroutine:
/// - `start(id, definition, first)`: creates the saga's history with its first entry
///   (`saga_started`, carrying the initial context) atomically; `eddy::error` if the id exists.
/// - `record(id, transition)`: appends an entry; durable when the task completes (the
///   coordinator runs the next action only after it); `eddy::error` for an unknown id.
/// - `load(id)`: the history, or empty for an unknown id.
/// - `unfinished()`: ids of sagas whose history holds no final entry (`is_final`), oldest
///   first: running, compensating and stuck ones.
/// Use `static_assert(eddy::detail::check_saga_log<L>())` for a diagnostic naming what is
/// missing; `eddy::saga_coordinator` does.
///
///     static_assert(eddy::saga_log<eddy::memory_saga_log<order>>);
template <class L>
concept saga_log = detail::saga_log_has_context_type<L> && detail::saga_log_has_start<L> &&
    detail::saga_log_has_record<L> && detail::saga_log_has_load<L> &&
    detail::saga_log_has_unfinished<L>;

} // namespace eddy
