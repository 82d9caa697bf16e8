// eddy/saga/run_saga.hpp - eddy::run_saga, one saga run without a durable log.
#pragma once

#include <string>  // std::string
#include <utility> // std::move

#include <eddy/core/scheduler.hpp>
#include <eddy/core/task.hpp>
#include <eddy/saga/detail/saga_execution.hpp>
#include <eddy/saga/detail/saga_progress.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/saga_observer.hpp>
#include <eddy/saga/saga_outcome.hpp>

namespace eddy {

/// Runs `definition` once on `context`: its steps in order (retries and timeouts on
/// `scheduler`), and on failure the compensations of the completed steps in reverse order of
/// completion. Returns the outcome with the final context: `completed`, `compensated` (with
/// the failed step and its exception), `compensation_failed` (a compensation was given up;
/// the remaining ones did not run), or `parked` (a step after the pivot was given up).
/// Nothing is logged, so nothing can be resumed: use `eddy::saga_coordinator` for that. The
/// named `run(saga, context)` of the design is this function; the longer name keeps a bare
/// `run` free for users' code.
///
/// Lazy: a task. Where the awaiter resumes: where the last step or timer resumed it (the
/// scheduler's thread for timed waits, else the thread a step finished on).
/// Errors: a step's failure is an outcome, not an exception; `eddy::operation_cancelled`
/// propagates when the task's stop token stops a step or a wait (compensations do not run:
/// a stopped run is abandoned as it stands).
/// Lifetime: `scheduler` must outlive the task (the definition and observer are copied).
/// Thread-safety: runs may proceed concurrently, each with its own context.
///
///     auto out = co_await eddy::run_saga(order_saga, "order-42", order{.amount = 30}, pool);
///     assert(out.completed());
template <class Ctx, class Scheduler>
[[nodiscard]] task<saga_outcome<Ctx>> run_saga(saga<Ctx> definition, std::string id, Ctx context,
                                               Scheduler& scheduler, saga_observer observer = {}) {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::run_saga: the scheduler does not model eddy::scheduler");
    detail::saga_execution<Ctx, detail::no_saga_log, Scheduler> run(
        definition, std::move(id), scheduler, nullptr, &observer,
        detail::saga_progress<Ctx>(definition.step_count(), std::move(context)));
    co_return co_await run.run();
}

} // namespace eddy
