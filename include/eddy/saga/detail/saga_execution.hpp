// eddy/saga/detail/saga_execution.hpp - one run of a saga: walks the definition, retries,
// logs every transition, compensates in reverse order of completion.
#pragma once

#include <algorithm>   // std::find
#include <chrono>      // std::chrono::system_clock, std::chrono::steady_clock
#include <coroutine>   // std::suspend_never
#include <cstddef>     // std::size_t
#include <exception>   // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <functional>  // std::function
#include <mutex>       // std::mutex, std::lock_guard
#include <optional>    // std::optional
#include <string>      // std::string
#include <type_traits> // std::is_same_v
#include <utility>     // std::move
#include <vector>      // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/retry_policy.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/core/when_any.hpp>
#include <eddy/saga/business_failure.hpp>
#include <eddy/saga/detail/saga_node_data.hpp>
#include <eddy/saga/detail/saga_progress.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/saga_observer.hpp>
#include <eddy/saga/saga_outcome.hpp>
#include <eddy/saga/saga_transition.hpp>
#include <eddy/saga/step_context.hpp>
#include <eddy/saga/unknown_outcome.hpp>

namespace eddy::detail {

/// The log of a run that is not durable (`eddy::run_saga`): nothing is written.
struct no_saga_log {};

inline std::string message_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "a non-standard exception";
    }
}

// Lives in the frame of the coroutine that runs it; its member coroutines are awaited before
// that frame ends.
template <class Ctx, class Log, class Scheduler>
class saga_execution {
    static constexpr bool durable = !std::is_same_v<Log, no_saga_log>;
    using duration = std::chrono::steady_clock::duration;
    using kind = saga_transition_kind;

    struct failure {
        std::exception_ptr cause;
        std::size_t step;
    };

    // How an action's exception is treated; classified in its catch block, so a failure costs
    // one throw and no rethrows.
    enum class failure_class { business, unknown, other };
    struct caught {
        std::exception_ptr ptr;
        failure_class cls = failure_class::other;
        std::string message;
        void set(failure_class c, const char* what) {
            ptr = std::current_exception();
            cls = c;
            message = what;
        }
    };

public:
    saga_execution(const saga<Ctx>& def, std::string id, Scheduler& s, Log* log,
                   const saga_observer* observer, saga_progress<Ctx> progress)
        : m_def(def), m_id(std::move(id)), m_scheduler(s), m_log(log),
          m_observer(observer && has_hooks(*observer) ? observer : nullptr),
          m_p(std::move(progress)) {}

    // Continues from the progress it was given: forward while running, then compensation.
    task<saga_outcome<Ctx>> run() {
        const auto started = observed_now();
        if (m_p.status == saga_status::running) {
            auto failed = co_await run_node(m_def.root());
            if (!failed) {
                m_p.status = saga_status::completed;
                co_await record(kind::saga_completed, nullptr, 0, {}, false);
                co_return end(started);
            }
            m_failure = failed->cause;
            const auto& name = m_def.step_name(failed->step);
            m_p.failed_step = name;
            m_p.failed_forward_step = name;
            if (m_p.pivot_passed) {
                m_p.status = saga_status::parked;
                co_await record(kind::saga_parked, &name, 0, message_of(m_failure), false);
                co_return end(started);
            }
            m_p.status = saga_status::compensating;
        }
        if (m_p.status == saga_status::compensating) {
            for (auto it = m_p.owed.rbegin(); it != m_p.owed.rend(); ++it) {
                const std::size_t i = *it;
                if (m_p.steps[i] == step_status::compensated || !m_def.step_at(i).compensation) {
                    continue;
                }
                auto error = co_await compensate(i);
                if (error) {
                    const auto& name = m_def.step_name(i);
                    m_p.status = saga_status::compensation_failed;
                    m_p.failed_step = name;
                    m_failure = error;
                    co_await record(kind::saga_compensation_failed, &name, 0, message_of(error),
                                    false);
                    co_return end(started);
                }
            }
            m_p.status = saga_status::compensated;
            m_p.failed_step = m_p.failed_forward_step;
            co_await record(kind::saga_compensated, nullptr, 0, m_p.cause, false);
        }
        co_return end(started);
    }

private:
    task<std::optional<failure>> run_node(const saga_node_data<Ctx>& node) {
        switch (node.kind) {
        case saga_node_kind::step:
            return run_step(m_def.index_of(node.step.get()));
        case saga_node_kind::sequence:
            return run_sequence(node);
        case saga_node_kind::parallel:
            return run_parallel(node);
        case saga_node_kind::branch:
            return run_branch(node);
        }
        return run_sequence(node);
    }

    task<std::optional<failure>> run_sequence(const saga_node_data<Ctx>& node) {
        for (const auto& child : node.children) {
            auto failed = co_await run_node(*child);
            if (failed) {
                co_return failed;
            }
        }
        co_return std::nullopt;
    }

    task<std::optional<failure>> run_parallel(const saga_node_data<Ctx>& node) {
        std::vector<task<std::optional<failure>>> children;
        children.reserve(node.children.size());
        for (const auto& child : node.children) {
            children.push_back(run_node(*child));
        }
        // Children report failures as values, so when_all lets every sibling finish.
        auto results = co_await when_all(std::move(children));
        for (auto& r : results) {
            if (r) {
                co_return std::move(r);
            }
        }
        co_return std::nullopt;
    }

    task<std::optional<failure>> run_branch(const saga_node_data<Ctx>& node) {
        const bool then = node.predicate(m_p.context);
        return run_node(*node.children[then ? 0 : 1]);
    }

    task<std::optional<failure>> run_step(std::size_t i) {
        const auto& s = m_def.step_at(i);
        const step_status before = status(i);
        if (before == step_status::completed ||
            (s.optional &&
             (before == step_status::failed || before == step_status::outcome_unknown))) {
            co_return std::nullopt; // resumed: already done or already given up
        }
        const std::string key = m_id + "/" + s.name;
        retry_state retries;
        const auto first = start_time(s.retry);
        std::size_t attempt = attempts(i) + 1;
        for (;;) {
            set(i, step_status::started, attempt);
            co_await record(kind::step_started, &s.name, attempt, {}, false);
            notify(m_observer ? &m_observer->on_step_started : nullptr, s.name, attempt, {}, {});
            const auto began = observed_now();
            const step_context context{m_id, s.name, key, attempt, false};
            caught error = co_await attempt_once(s.action, context, s);
            const auto took = observed_now() - began;
            if (!error.ptr) {
                completed(i, s.pivot);
                co_await record(kind::step_completed, &s.name, attempt, {}, true);
                notify(m_observer ? &m_observer->on_step_completed : nullptr, s.name, attempt, took,
                       {});
                co_return std::nullopt;
            }
            notify(m_observer ? &m_observer->on_step_failed : nullptr, s.name, attempt, took,
                   error.ptr);
            const bool unknown = error.cls == failure_class::unknown;
            std::optional<duration> wait;
            if (error.cls != failure_class::business) {
                wait = retries.on_failure(s.retry, elapsed_since(first, s.retry), error.ptr);
            }
            if (wait) {
                co_await record(kind::step_attempt_failed, &s.name, attempt, error.message, false);
                co_await sleep_for(m_scheduler, *wait);
                ++attempt;
                continue;
            }
            given_up(i, unknown, s.optional ? std::string() : error.message);
            co_await record(unknown ? kind::step_outcome_unknown : kind::step_failed, &s.name,
                            attempt, error.message, false);
            if (s.optional) {
                co_return std::nullopt;
            }
            co_return failure{error.ptr, i};
        }
    }

    // The compensation's error when it was given up, else empty.
    task<std::exception_ptr> compensate(std::size_t i) {
        const auto& s = m_def.step_at(i);
        const std::string key = m_id + "/" + s.name + "/compensation";
        retry_state retries;
        const auto first = start_time(s.compensation_retry);
        std::size_t attempt = m_p.compensation_attempts[i] + 1;
        for (;;) {
            m_p.steps[i] = step_status::compensating;
            m_p.compensation_attempts[i] = attempt;
            co_await record(kind::compensation_started, &s.name, attempt, {}, false);
            const auto began = observed_now();
            const step_context context{m_id, s.name, key, attempt, true};
            caught error = co_await attempt_once(s.compensation, context, s);
            const auto took = observed_now() - began;
            if (!error.ptr) {
                m_p.steps[i] = step_status::compensated;
                co_await record(kind::compensation_completed, &s.name, attempt, {}, true);
                notify(m_observer ? &m_observer->on_step_compensated : nullptr, s.name, attempt,
                       took, {});
                co_return nullptr;
            }
            notify(m_observer ? &m_observer->on_step_failed : nullptr, s.name, attempt, took,
                   error.ptr);
            const auto wait = retries.on_failure(
                s.compensation_retry, elapsed_since(first, s.compensation_retry), error.ptr);
            if (!wait) {
                co_return error.ptr;
            }
            co_await record(kind::compensation_attempt_failed, &s.name, attempt, error.message,
                            false);
            co_await sleep_for(m_scheduler, *wait);
            ++attempt;
        }
    }

    // One attempt of an action or compensation; its failure classified, never thrown (but a
    // stop of the run is: the log stays as it is, to be resumed).
    task<caught> attempt_once(const saga_action<Ctx>& f, const step_context& context,
                              const saga_step_data<Ctx>& s) {
        caught error;
        try {
            if (s.timeout) {
                co_await invoke_with_timeout(f, context, *s.timeout, s.name);
            } else {
                co_await f(m_p.context, context);
            }
        } catch (const operation_cancelled&) {
            throw;
        } catch (const business_failure& e) {
            error.set(failure_class::business, e.what());
        } catch (const unknown_outcome& e) {
            error.set(failure_class::unknown, e.what());
        } catch (const timeout_error& e) {
            error.set(failure_class::unknown, e.what());
        } catch (const std::exception& e) {
            error.set(failure_class::other, e.what());
        } catch (...) {
            error.set(failure_class::other, "a non-standard exception");
        }
        co_return error;
    }

    task<void> invoke_with_timeout(const saga_action<Ctx>& f, const step_context& context,
                                   duration limit, const std::string& name) {
        auto winner = co_await when_any(f(m_p.context, context), sleep_for(m_scheduler, limit));
        if (winner.index() == 1) {
            throw timeout_error("eddy saga: step '" + name + "' timed out");
        }
    }

    // Without a log there is nothing to await: a ready awaiter, no frame.
    auto record(kind k, const std::string* step, std::size_t attempt, std::string error,
                bool with_context) {
        if constexpr (durable) {
            saga_transition<Ctx> t{k,
                                   step ? *step : std::string(),
                                   attempt,
                                   std::chrono::system_clock::now(),
                                   std::nullopt,
                                   std::move(error)};
            if (with_context) {
                std::lock_guard lock(m_mutex);
                t.context = m_p.context;
            }
            return m_log->record(m_id, std::move(t));
        } else {
            (void)k, (void)step, (void)attempt, (void)error, (void)with_context;
            return std::suspend_never{};
        }
    }

    saga_outcome<Ctx> end(std::chrono::steady_clock::time_point started) {
        saga_outcome<Ctx> out{m_id, m_p.status, m_p.context, {}, {}, {}};
        if (m_p.status != saga_status::completed) {
            out.failed_step = m_p.failed_step;
            out.failed_forward_step = m_p.failed_forward_step;
            out.cause = m_failure ? m_failure : std::make_exception_ptr(error(m_p.cause));
        }
        if (m_observer) {
            const saga_end_event e{m_id,       m_def.name(),
                                   out.status, out.failed_step,
                                   out.cause,  observed_now() - started};
            call(m_observer->on_end, e);
            if (m_p.status == saga_status::compensation_failed ||
                m_p.status == saga_status::parked) {
                call(m_observer->on_stuck, e);
            }
        }
        return out;
    }

    static bool has_hooks(const saga_observer& o) noexcept {
        return o.on_step_started || o.on_step_completed || o.on_step_failed ||
               o.on_step_compensated || o.on_end || o.on_stuck;
    }

    // The clock is read only when a time budget or an observer needs it.
    std::chrono::steady_clock::time_point start_time(const retry_policy& p) const {
        return p.max_elapsed > duration::zero() ? m_scheduler.now()
                                                : std::chrono::steady_clock::time_point{};
    }
    duration elapsed_since(std::chrono::steady_clock::time_point first,
                           const retry_policy& p) const {
        return p.max_elapsed > duration::zero() ? m_scheduler.now() - first : duration::zero();
    }
    std::chrono::steady_clock::time_point observed_now() const {
        return m_observer ? m_scheduler.now() : std::chrono::steady_clock::time_point{};
    }

    // Progress is shared by parallel children, which may run on several threads.
    step_status status(std::size_t i) {
        std::lock_guard lock(m_mutex);
        return m_p.steps[i];
    }
    std::size_t attempts(std::size_t i) {
        std::lock_guard lock(m_mutex);
        return m_p.attempts[i];
    }
    void set(std::size_t i, step_status s, std::size_t attempt) {
        std::lock_guard lock(m_mutex);
        m_p.steps[i] = s;
        m_p.attempts[i] = attempt;
        m_p.current_step = m_def.step_name(i);
    }
    void owe(std::size_t i) {
        if (std::find(m_p.owed.begin(), m_p.owed.end(), i) == m_p.owed.end()) {
            m_p.owed.push_back(i);
        }
    }
    void completed(std::size_t i, bool pivot) {
        std::lock_guard lock(m_mutex);
        m_p.steps[i] = step_status::completed;
        owe(i);
        m_p.pivot_passed = m_p.pivot_passed || pivot;
    }
    void given_up(std::size_t i, bool unknown, std::string cause) {
        std::lock_guard lock(m_mutex);
        m_p.steps[i] = unknown ? step_status::outcome_unknown : step_status::failed;
        if (unknown) {
            owe(i);
            // A pivot that may have taken effect may be beyond undoing: park, not compensate.
            m_p.pivot_passed = m_p.pivot_passed || m_def.step_at(i).pivot;
        }
        if (m_p.cause.empty()) {
            m_p.cause = std::move(cause); // the first failure of a parallel group is the cause
        }
    }

    void notify(const std::function<void(const saga_step_event&)>* hook, const std::string& step,
                std::size_t attempt, duration took, std::exception_ptr error) const {
        if (hook && *hook) {
            call(*hook, saga_step_event{m_id, m_def.name(), step, attempt, took, std::move(error)});
        }
    }

    template <class Hook, class Event>
    static void call(const Hook& hook, const Event& e) noexcept {
        if (!hook) {
            return;
        }
        try {
            hook(e);
        } catch (...) { // NOLINT(bugprone-empty-catch): observing never changes a saga
        }
    }

    const saga<Ctx>& m_def;
    std::string m_id;
    Scheduler& m_scheduler;
    Log* m_log;
    const saga_observer* m_observer;
    saga_progress<Ctx> m_p;
    std::exception_ptr m_failure;
    std::mutex m_mutex;
};

} // namespace eddy::detail
