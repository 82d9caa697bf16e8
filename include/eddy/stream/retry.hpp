// eddy/stream/retry.hpp - eddy::retry(policy, scheduler): re-subscribes a deferred source after
// a failure, with the policy's backoff.
#pragma once

#include <exception> // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <optional>  // std::optional
#include <utility>   // std::move

#include <eddy/core/retry_policy.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/defer.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

namespace detail {
template <class T>
inline constexpr bool retry_source_is_resubscribable = false;
} // namespace detail

/// The stage of `eddy::retry`: applies to an `eddy::deferred_stream` only.
template <class Scheduler>
class retry_stage {
public:
    using async_stage_tag = void;
    using resubscribing_stage_tag = void;

    retry_stage(retry_policy policy, Scheduler& s) : m_policy(std::move(policy)), m_scheduler(&s) {
        m_policy.validate();
    }

    template <class F>
    [[nodiscard]] stream<typename deferred_stream<F>::value_type>
    apply(deferred_stream<F> source) && {
        using T = typename deferred_stream<F>::value_type;
        return run<T>(std::move(source), std::move(m_policy), m_scheduler);
    }

    /// A plain stream cannot be subscribed again: a compile error telling what to do.
    template <class T>
    stream<T> apply(stream<T>) && {
        static_assert(detail::retry_source_is_resubscribable<T>,
                      "eddy::retry: a plain stream (or pipeline) cannot be subscribed again; "
                      "wrap the source in eddy::defer, e.g. eddy::defer([] { return source(); }) "
                      "| eddy::retry(policy, scheduler)");
        return {};
    }

private:
    // A static member coroutine taking everything by value (into the frame): no lambda
    // captures (g++ 12 bug 100611 pattern). No co_await in a condition or a handler.
    template <class T, class F>
    static stream<T> run(deferred_stream<F> source, retry_policy policy, Scheduler* s) {
        retry_state state;
        const auto start = s->now();
        for (;;) {
            std::exception_ptr failure;
            {
                stream<T> attempt;
                try {
                    attempt = source.subscribe();
                } catch (...) {
                    failure = std::current_exception();
                }
                while (!failure) {
                    std::optional<T> v;
                    try {
                        v = co_await attempt.next();
                    } catch (...) {
                        failure = std::current_exception();
                    }
                    if (failure) {
                        break;
                    }
                    if (!v) {
                        co_return;
                    }
                    co_yield std::move(*v);
                }
            } // the failed subscription is destroyed before the wait
            const std::optional<retry_policy::duration> wait =
                state.on_failure(policy, s->now() - start, failure);
            if (!wait) {
                std::rethrow_exception(std::move(failure));
            }
            co_await s->schedule_after(*wait);
        }
    }

    retry_policy m_policy;
    Scheduler* m_scheduler;
};

/// A stage for `eddy::defer(f) | eddy::retry(policy, s)`: relays the elements of a
/// subscription (`f()`); when it fails, waits the policy's backoff on `s` and subscribes
/// again (calls `f()` anew), until a subscription ends normally or the policy gives up.
///
/// Re-subscription replays: a new subscription starts from its own beginning, and the
/// elements the failed one already emitted are NOT suppressed (like Rx `retry`), so the
/// consumer may see some elements twice. Make the factory resume where it left off (e.g. from
/// an offset it captures by reference and the consumer advances) when that matters.
/// Lazy: nothing runs before the first `next()`; the elapsed time of `max_elapsed` is measured
/// on `s`'s clock from then (the start of the first attempt). Attempts are counted over the
/// whole stream (a subscription that emitted values before failing still used an attempt).
/// Where the awaiter resumes: where the current subscription yielded, or on `s` after a wait.
/// Errors: a failure that the policy does not retry (`non_retryable`, or
/// `eddy::operation_cancelled`), or the last one when attempts or `max_elapsed` are exhausted,
/// reaches the consumer at once (no wait). An exception of the factory counts as a failed
/// attempt.
/// Cancellation: subscriptions and the backoff wait see the consumer's stop token; a stop
/// request during a wait ends the stream with `eddy::operation_cancelled`.
/// Preconditions: `policy.validate()` passes, else `eddy::error` (thrown here, eagerly);
/// piping a plain stream or pipeline in is a compile error (wrap the source in `eddy::defer`).
/// Lifetime: `s` must outlive the stream; the policy is copied into it.
/// Thread-safety: none (see `eddy::stream`).
///
///     auto s = eddy::defer([&] { return fetch_pages(client); })
///            | eddy::retry({.initial_interval = 1s, .max_attempts = 4}, vt); // waits 1s, 2s, 4s
template <class Scheduler>
[[nodiscard]] retry_stage<Scheduler> retry(retry_policy policy, Scheduler& s) {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::retry: the type does not model eddy::scheduler (it needs "
                  "schedule(), schedule_after(duration) and now())");
    return retry_stage<Scheduler>(std::move(policy), s);
}

} // namespace eddy
