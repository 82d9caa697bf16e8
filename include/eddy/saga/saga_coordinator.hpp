// eddy/saga/saga_coordinator.hpp - eddy::saga_coordinator, runs sagas durably: logs every
// transition, resumes unfinished sagas after a restart, lets operators resume stuck ones.
#pragma once

#include <chrono>        // std::chrono::system_clock
#include <mutex>         // std::mutex, std::lock_guard
#include <optional>      // std::optional
#include <string>        // std::string
#include <unordered_map> // std::unordered_map
#include <unordered_set> // std::unordered_set
#include <utility>       // std::move
#include <vector>        // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/task.hpp>
#include <eddy/saga/detail/saga_execution.hpp>
#include <eddy/saga/detail/saga_progress.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/saga_log.hpp>
#include <eddy/saga/saga_observer.hpp>
#include <eddy/saga/saga_outcome.hpp>
#include <eddy/saga/saga_state.hpp>
#include <eddy/saga/saga_transition.hpp>

namespace eddy {

/// Runs sagas with a durable `eddy::saga_log`: before each attempt of an action or a
/// compensation it logs that the attempt started, after it that it completed (with the
/// context), so a saga interrupted anywhere (the coordinator destroyed, the process killed)
/// continues from its log: a completed step is never run again; a step started but not logged
/// complete is run again with the same idempotency key (actions must be idempotent under it);
/// a saga that was compensating goes on compensating (a step caught mid-action then counts as
/// possibly applied and is compensated too).
///
/// - `run(definition, id, context)`: logs the start, runs; returns the outcome (see
///   `eddy::run_saga` for the statuses).
/// - `resume(id)`: continues a saga from its log: an unfinished one, or a stuck one
///   (`compensation_failed`: compensation starts again at the step that failed; `parked`: the
///   forward path is tried again), logging `saga_resumed`; a finished one just returns its
///   outcome. The definition must have been `add`ed (or `run`) under its name.
/// - `resume_pending()`: resumes every running or compensating saga of the log, one after the
///   other, oldest first (stuck ones wait for an operator's `resume`).
/// - `inspect(id)`: status, context, current step and history, from the log.
///
/// Lazy: tasks. Where the awaiter resumes: where the run's last step, timer or log write
/// resumed it. Errors: an unknown id or definition, or an id already in the log (`run`), or a
/// saga already running in this coordinator: `eddy::error`; the log's errors propagate;
/// `eddy::operation_cancelled` when the task's stop token stops it (the saga stays unfinished
/// in the log). Failures of steps are outcomes, never exceptions.
/// Lifetime: the scheduler and the log must outlive the coordinator, the coordinator its tasks.
/// Thread-safety: every member may be called concurrently; one saga id runs once at a time
/// per coordinator. Run one coordinator per log (two would resume the same saga twice).
///
///     eddy::memory_saga_log<order> log;
///     eddy::saga_coordinator coordinator(pool, log);
///     auto out = co_await coordinator.run(order_saga, "order-42", order{.amount = 30});
///     // after a restart, with the definitions added again:
///     co_await coordinator.resume_pending();
template <class Log, class Scheduler>
class saga_coordinator {
    static_assert(detail::check_saga_log<Log>());
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::saga_coordinator: the scheduler does not model eddy::scheduler");

public:
    using context_type = typename Log::context_type;

    saga_coordinator(Scheduler& s, Log& log, saga_observer observer = {})
        : m_scheduler(&s), m_log(&log), m_observer(std::move(observer)) {}

    saga_coordinator(const saga_coordinator&) = delete;
    saga_coordinator& operator=(const saga_coordinator&) = delete;

    /// Registers `definition` for resumes; adding a copy again is harmless, another definition
    /// under a registered name is an `eddy::error`.
    void add(saga<context_type> definition) {
        std::lock_guard lock(m_mutex);
        const auto [it, inserted] = m_definitions.try_emplace(definition.name(), definition);
        if (!inserted && !(it->second == definition)) {
            throw error("eddy::saga_coordinator: another definition named '" + definition.name() +
                        "' is already added");
        }
    }

    [[nodiscard]] task<saga_outcome<context_type>> run(saga<context_type> definition,
                                                       std::string id, context_type context) {
        add(definition);
        active guard(*this, id);
        saga_transition<context_type> first{saga_transition_kind::saga_started, {},      0,
                                            std::chrono::system_clock::now(),   context, {}};
        co_await m_log->start(id, definition.name(), std::move(first));
        detail::saga_execution<context_type, Log, Scheduler> exec(
            definition, std::move(id), *m_scheduler, m_log, &m_observer,
            detail::saga_progress<context_type>(definition.step_count(), std::move(context)));
        co_return co_await exec.run();
    }

    [[nodiscard]] task<saga_outcome<context_type>> resume(std::string id) {
        active guard(*this, id);
        auto history = co_await m_log->load(id);
        if (!history) {
            throw error("eddy::saga_coordinator: no saga with id '" + id + "' in the log");
        }
        const saga<context_type> definition = find(history->definition, id);
        auto progress = detail::fold_saga_history(definition, *history);
        if (progress.status == saga_status::compensation_failed ||
            progress.status == saga_status::parked) {
            // A named local: g++ 12 frees a braced temporary holding strings twice when it is
            // built inside a co_await expression.
            saga_transition<context_type> resumed{
                saga_transition_kind::saga_resumed, {},           0,
                std::chrono::system_clock::now(),   std::nullopt, {}};
            co_await m_log->record(id, std::move(resumed));
            progress.status = progress.status == saga_status::parked ? saga_status::running
                                                                     : saga_status::compensating;
        }
        detail::saga_execution<context_type, Log, Scheduler> exec(
            definition, std::move(id), *m_scheduler, m_log, &m_observer, std::move(progress));
        co_return co_await exec.run();
    }

    [[nodiscard]] task<std::vector<saga_outcome<context_type>>> resume_pending() {
        std::vector<saga_outcome<context_type>> outcomes;
        const auto ids = co_await m_log->unfinished();
        for (const auto& id : ids) {
            auto state = co_await inspect(id);
            if (!state || (state->status != saga_status::running &&
                           state->status != saga_status::compensating)) {
                continue;
            }
            outcomes.push_back(co_await resume(id));
        }
        co_return outcomes;
    }

    [[nodiscard]] task<std::optional<saga_state<context_type>>> inspect(std::string id) {
        auto history = co_await m_log->load(id);
        if (!history) {
            co_return std::nullopt;
        }
        const saga<context_type> definition = find(history->definition, id);
        auto progress = detail::fold_saga_history(definition, *history);
        co_return saga_state<context_type>{progress.status,       std::move(progress.context),
                                           progress.current_step, progress.failed_step,
                                           progress.cause,        std::move(*history)};
    }

private:
    // Marks a saga id as running in this coordinator for the guard's lifetime.
    class active {
    public:
        active(saga_coordinator& c, const std::string& id) : m_c(c), m_id(id) {
            std::lock_guard lock(c.m_mutex);
            if (!c.m_active.insert(id).second) {
                throw error("eddy::saga_coordinator: saga '" + id + "' is already running");
            }
        }
        active(const active&) = delete;
        active& operator=(const active&) = delete;
        ~active() {
            std::lock_guard lock(m_c.m_mutex);
            m_c.m_active.erase(m_id);
        }

    private:
        saga_coordinator& m_c;
        std::string m_id;
    };

    saga<context_type> find(const std::string& name, const std::string& id) {
        std::lock_guard lock(m_mutex);
        const auto it = m_definitions.find(name);
        if (it == m_definitions.end()) {
            throw error("eddy::saga_coordinator: saga '" + id + "' needs the definition '" + name +
                        "', which was not added");
        }
        return it->second;
    }

    Scheduler* m_scheduler;
    Log* m_log;
    saga_observer m_observer;
    std::mutex m_mutex;
    std::unordered_map<std::string, saga<context_type>> m_definitions;
    std::unordered_set<std::string> m_active;
};

} // namespace eddy
