// eddy/saga/step.hpp - eddy::step<Ctx>, one step of a saga: an action, its compensation, and
// how failures are retried.
#pragma once

#include <chrono>      // std::chrono::steady_clock
#include <memory>      // std::make_shared
#include <string>      // std::string
#include <type_traits> // std::is_invocable_r_v
#include <utility>     // std::move, std::forward

#include <eddy/core/error.hpp>
#include <eddy/core/retry_policy.hpp>
#include <eddy/core/task.hpp>
#include <eddy/saga/detail/saga_node_data.hpp>
#include <eddy/saga/saga_node.hpp>
#include <eddy/saga/step_context.hpp>

namespace eddy {

/// One step of a saga over the context `Ctx`: `action(ctx, step_context)` does the work,
/// `compensation(ctx, step_context)` undoes it (semantically: a refund, a release); both return
/// `eddy::task<void>`. Set options by chaining: `.retry(policy)`, `.compensation_retry(policy)`,
/// `.timeout(d)`, `.pivot()`, `.optional()`; the result converts to `eddy::saga_node<Ctx>`.
///
/// How an action's end is treated:
/// - returns: completed; its compensation now runs if the saga later fails;
/// - throws `eddy::business_failure`, or an error `retry` marks non-retryable: failed, took no
///   effect: the saga compensates at once (this step's compensation does not run);
/// - throws `eddy::timeout_error` (its own `.timeout`) or `eddy::unknown_outcome`: may have
///   taken effect: retried by `retry` with the same idempotency key; once given up, the saga
///   compensates including this step;
/// - throws anything else: retried by `retry`; once given up, failed as above;
/// - throws `eddy::operation_cancelled` (the run was stopped): the saga stops where it is,
///   unfinished in its log, to be resumed.
/// Defaults: an action is tried once (`max_attempts = 1`); a compensation retries by the
/// `retry_policy` defaults (5 attempts, 100 ms doubling), since it must end up succeeding.
/// `.pivot()`: once this step completes the saga can only go forward: a later step that fails
/// is retried by its policy and, when given up, the saga is parked (not compensated) until an
/// operator resumes it. A pivot given up with an unknown outcome (a timeout, a lost reply) may
/// have taken effect, so the saga parks then too; one that failed (it did not take effect)
/// compensates the steps before it. `.optional()`: a failure of this step does not fail the saga (a
/// step given up with an unknown outcome stays owed: it is compensated if the saga fails later).
/// Preconditions: a non-empty name and action; valid policies; a positive timeout; otherwise
/// `eddy::error` naming the step, when the option is set.
/// Lifetime: the callables are copied into the definition; what they reference must outlive
/// every run. Actions must be idempotent under their key: a resumed saga runs a step that was
/// started but not logged complete again.
///
///     auto charge = eddy::step<order>("charge", charge_card, refund_card)
///                       .retry({.initial_interval = 1s, .max_attempts = 4})
///                       .timeout(5s);
template <class Ctx>
class step {
public:
    using context_type = Ctx;

    template <class Action>
    step(std::string name, Action action) : m_data(std::move(name), wrap(std::move(action))) {
        check();
    }

    template <class Action, class Compensation>
    step(std::string name, Action action, Compensation compensation)
        : m_data(std::move(name), wrap(std::move(action)), wrap(std::move(compensation))) {
        check();
    }

    /// Retries of the action (default: a single attempt).
    step&& retry(retry_policy policy) && {
        validated(policy, "retry");
        m_data.retry = std::move(policy);
        return std::move(*this);
    }

    /// Retries of the compensation (default: `retry_policy{}`).
    step&& compensation_retry(retry_policy policy) && {
        validated(policy, "compensation_retry");
        m_data.compensation_retry = std::move(policy);
        return std::move(*this);
    }

    /// Each attempt of the action and of the compensation gets at most `d`; then stop is
    /// requested on it and, once it has ended, the attempt counts as `eddy::timeout_error`.
    step&& timeout(std::chrono::steady_clock::duration d) && {
        if (d <= std::chrono::steady_clock::duration::zero()) {
            throw error("eddy::step '" + m_data.name + "': timeout must be positive");
        }
        m_data.timeout = d;
        return std::move(*this);
    }

    /// The point of no return: see the class comment.
    step&& pivot() && {
        m_data.pivot = true;
        return std::move(*this);
    }

    /// A failure of this step does not fail the saga.
    step&& optional() && {
        m_data.optional = true;
        return std::move(*this);
    }

    // NOLINTNEXTLINE(google-explicit-constructor): a step is a node wherever one is expected
    operator saga_node<Ctx>() const& {
        return saga_node<Ctx>(make_node(detail::saga_step_data<Ctx>(m_data)));
    }
    // NOLINTNEXTLINE(google-explicit-constructor)
    operator saga_node<Ctx>() && { return saga_node<Ctx>(make_node(std::move(m_data))); }

private:
    struct data : detail::saga_step_data<Ctx> {
        data(std::string n, detail::saga_action<Ctx> a, detail::saga_action<Ctx> c = {}) {
            this->name = std::move(n);
            this->action = std::move(a);
            this->compensation = std::move(c);
        }
    };

    template <class F>
    static detail::saga_action<Ctx> wrap(F f) {
        if constexpr (std::is_invocable_r_v<task<void>, F&, Ctx&, const step_context&>) {
            return detail::saga_action<Ctx>(std::move(f));
        } else {
            static_assert(std::is_invocable_r_v<task<void>, F&, Ctx&>,
                          "eddy::step: an action or compensation must be callable as "
                          "f(Ctx&, const eddy::step_context&) or f(Ctx&), returning "
                          "eddy::task<void>");
            return detail::saga_action<Ctx>(
                [f = std::move(f)](Ctx& c, const step_context&) mutable { return f(c); });
        }
    }

    void check() const {
        if (m_data.name.empty()) {
            throw error("eddy::step: a step needs a non-empty name");
        }
        if (!m_data.action) {
            throw error("eddy::step '" + m_data.name + "': the action is empty");
        }
    }

    void validated(const retry_policy& policy, const char* what) const {
        try {
            policy.validate();
        } catch (const error& e) {
            throw error("eddy::step '" + m_data.name + "': " + what + ": " + e.what());
        }
    }

    static std::shared_ptr<const detail::saga_node_data<Ctx>>
    make_node(detail::saga_step_data<Ctx> s) {
        auto node = std::make_shared<detail::saga_node_data<Ctx>>();
        node->kind = detail::saga_node_kind::step;
        node->step = std::make_shared<const detail::saga_step_data<Ctx>>(std::move(s));
        return node;
    }

    data m_data;
};

/// Deduces the context from a function: `eddy::step("charge", charge_card, refund_card)`.
template <class Ctx, class... Rest>
step(std::string, task<void> (*)(Ctx&, const step_context&), Rest...) -> step<Ctx>;
template <class Ctx, class... Rest>
step(std::string, task<void> (*)(Ctx&), Rest...) -> step<Ctx>;

} // namespace eddy
