// eddy/stream/debounce.hpp - eddy::debounce(d, scheduler): a value is passed on only once d has
// passed without a newer one.
#pragma once

#include <chrono>    // std::chrono::steady_clock
#include <exception> // std::rethrow_exception
#include <optional>  // std::optional
#include <utility>   // std::move

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/detail/timed_pull.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// The stage of `eddy::debounce`: holds the latest value until it has been quiet for long enough.
template <class Scheduler>
class debounce_stage {
public:
    using async_stage_tag = void;
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    debounce_stage(Scheduler& s, duration quiet) noexcept : m_scheduler(&s), m_quiet(quiet) {}

    template <class T>
    [[nodiscard]] stream<T> apply(stream<T> upstream) && {
        if constexpr (eddy::scheduler<Scheduler>) {
            return run(std::move(upstream), m_scheduler, m_quiet);
        } else {
            // Not a scheduler: eddy::debounce's static_assert said so; no cascade.
            return stream<T>{};
        }
    }

private:
    // Static, parameters by value (copied into the frame): no captures, no dangling references.
    template <class T>
    static stream<T> run(stream<T> upstream, Scheduler* s, duration quiet) {
        detail::timed_pull<T, Scheduler> source(std::move(upstream), *s);
        std::optional<T> latest;
        time_point due{}; // when `latest` is passed on unless a newer value arrives first
        for (;;) {
            source.request();
            bool ready = true;
            if (!latest) {
                co_await source.wait();
            } else {
                ready = co_await source.wait_until(due);
            }
            if (!ready) {
                co_yield std::move(*latest);
                latest.reset();
                continue;
            }
            detail::timed_result<T> result = source.take();
            // `latest` stayed quiet until `due` when the upstream answered no earlier (same
            // outcome as if the timer had won), or has no successor at all (end or error).
            if (latest && (!result.value || result.at >= due)) {
                co_yield std::move(*latest);
                latest.reset();
            }
            if (!result.value) {
                if (result.error) {
                    std::rethrow_exception(result.error); // after the pending value, if any
                }
                co_return;
            }
            latest = std::move(result.value); // drops the value it supersedes
            due = result.at + quiet;
        }
    }

    Scheduler* m_scheduler;
    duration m_quiet;
};

/// A stage that passes a value on only once `d` has passed since it arrived without a newer
/// value arriving (at `arrival + d`); a value followed by a newer one within `d` is dropped, by
/// design. When the upstream ends, the pending value (the last one) is passed on at once; when
/// it fails, the pending value is passed on first and the error is thrown by the following
/// `next()`; the stream then ends. Values arriving at the same instant (a synchronous upstream)
/// collapse into the last of them.
///
/// Lazy: nothing is pulled before the first `next()`. Look-ahead: one value (held while quiet)
/// plus the pull in flight; the upstream is not pulled further while the consumer holds a value.
/// A value's arrival time is when the upstream yielded it to this stage.
/// Where the awaiter resumes: where the upstream yielded, or on `s` when the quiet period ended
/// (the last of the raced waits to finish resumes it); inline when the upstream answered at once.
/// Errors: see above (the pending value first, then the upstream's exception).
/// Cancellation: a stop request on the consumer's token ends a waiting `next()` with
/// `eddy::operation_cancelled` and ends the stream (the pending value is dropped). Destroying
/// the stream stops the pending upstream pull; the upstream is freed when that pull returns.
/// Preconditions: `d > 0`, else `eddy::error` (thrown here, eagerly); `Scheduler` models
/// `eddy::scheduler` (static_assert).
/// Lifetime: `s` must outlive the stream and the upstream's last pull.
/// Thread-safety: none for the stream (see `eddy::stream`); the upstream may run on any thread.
///
///     eddy::virtual_time_scheduler vt;
///     auto queries = keystrokes(vt) | eddy::debounce(std::chrono::milliseconds(300), vt);
///     // each query is the text once the user paused typing for 300 ms
template <class Scheduler>
[[nodiscard]] debounce_stage<Scheduler> debounce(std::chrono::steady_clock::duration d,
                                                 Scheduler& s) {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::debounce: the type does not model eddy::scheduler (it needs "
                  "schedule(), schedule_after(duration) and now())");
    if (d <= d.zero()) {
        throw error("eddy::debounce: the quiet period must be positive");
    }
    return debounce_stage<Scheduler>(s, d);
}

} // namespace eddy
