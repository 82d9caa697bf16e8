// eddy/stream/timeout.hpp - eddy::timeout(d, scheduler): the stream fails with
// eddy::timeout_error when its upstream takes longer than d to answer a pull.
#pragma once

#include <chrono>    // std::chrono::steady_clock
#include <exception> // std::rethrow_exception
#include <utility>   // std::move

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/detail/timed_pull.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// The stage of `eddy::timeout`: races each pull of the upstream against a timer on `Scheduler`.
template <class Scheduler>
class timeout_stage {
public:
    using async_stage_tag = void;
    using duration = std::chrono::steady_clock::duration;

    timeout_stage(Scheduler& s, duration limit) noexcept : m_scheduler(&s), m_limit(limit) {}

    template <class T>
    [[nodiscard]] stream<T> apply(stream<T> upstream) && {
        if constexpr (eddy::scheduler<Scheduler>) {
            return run(std::move(upstream), m_scheduler, m_limit);
        } else {
            // Not a scheduler: eddy::timeout's static_assert said so; no cascade.
            return stream<T>{};
        }
    }

private:
    // Static, parameters by value (copied into the frame): no captures, no dangling references.
    template <class T>
    static stream<T> run(stream<T> upstream, Scheduler* s, duration limit) {
        detail::timed_pull<T, Scheduler> source(std::move(upstream), *s);
        for (;;) {
            source.request();
            const bool ready = co_await source.wait_until(s->now() + limit);
            if (!ready) {
                // Leaving the body destroys `source`: the pending pull is stopped and freed.
                throw timeout_error("eddy::timeout: the upstream yielded nothing within the limit");
            }
            detail::timed_result<T> result = source.take();
            if (result.error) {
                std::rethrow_exception(result.error);
            }
            if (!result.value) {
                co_return;
            }
            co_yield std::move(*result.value);
        }
    }

    Scheduler* m_scheduler;
    duration m_limit;
};

/// A stage that passes the upstream's values through unchanged, but fails when the upstream
/// takes longer than `d` to answer a pull: the `next()` that waited throws
/// `eddy::timeout_error` at `t + d`, where `t` is the time that `next()` was called (each pull
/// has its own limit; a slow consumer does not eat into it). The stream then ends: the pending
/// upstream pull is stopped (its timers and channel waits end with `operation_cancelled`) and
/// the upstream is freed once that pull returns. A value, the end or an error that arrives in
/// time passes through.
///
/// Lazy: nothing is pulled before the first `next()`. No look-ahead: the upstream is pulled only
/// while the consumer waits in `next()`, once per `next()`.
/// Where the awaiter resumes: where the upstream yielded, or on `s` when the timer decided (the
/// last of the two raced waits to finish resumes it); inline when the upstream answered at once.
/// Errors: the upstream's exception reaches the consumer's `next()`, then the stream ends.
/// Cancellation: a stop request on the consumer's token ends the waiting `next()` with
/// `eddy::operation_cancelled` and ends the stream (the upstream is stopped as on a timeout).
/// Preconditions: `d > 0`, else `eddy::error` (thrown here, eagerly); `Scheduler` models
/// `eddy::scheduler` (static_assert).
/// Lifetime: `s` must outlive the stream and the upstream's last pull (the pull stopped by a
/// timeout finishes in the background; an upstream that ignores its stop token keeps its frame
/// alive until it answers).
/// Thread-safety: none for the stream (see `eddy::stream`); the upstream may run on any thread.
///
///     eddy::virtual_time_scheduler vt;
///     auto s = replies(vt) | eddy::timeout(std::chrono::seconds(5), vt);
///     auto r = co_await s.next(); // a value, or timeout_error 5 s after this call
template <class Scheduler>
[[nodiscard]] timeout_stage<Scheduler> timeout(std::chrono::steady_clock::duration d,
                                               Scheduler& s) {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::timeout: the type does not model eddy::scheduler (it needs "
                  "schedule(), schedule_after(duration) and now())");
    if (d <= d.zero()) {
        throw error("eddy::timeout: the time limit must be positive");
    }
    return timeout_stage<Scheduler>(s, d);
}

} // namespace eddy
