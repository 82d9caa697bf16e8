// eddy/stream/window.hpp - eddy::window(d, scheduler): the upstream's values grouped by the
// tumbling time window of length d they arrived in.
#pragma once

#include <chrono>    // std::chrono::steady_clock
#include <exception> // std::rethrow_exception
#include <utility>   // std::move, std::exchange
#include <vector>    // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/detail/timed_pull.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// The stage of `eddy::window`: collects values into the window they arrived in.
template <class Scheduler>
class window_stage {
public:
    using async_stage_tag = void;
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    window_stage(Scheduler& s, duration length) noexcept : m_scheduler(&s), m_length(length) {}

    template <class T>
    [[nodiscard]] stream<std::vector<T>> apply(stream<T> upstream) && {
        if constexpr (eddy::scheduler<Scheduler>) {
            return run(std::move(upstream), m_scheduler, m_length);
        } else {
            // Not a scheduler: eddy::window's static_assert said so; no cascade.
            return stream<std::vector<T>>{};
        }
    }

private:
    // Static, parameters by value (copied into the frame): no captures, no dangling references.
    template <class T>
    static stream<std::vector<T>> run(stream<T> upstream, Scheduler* s, duration length) {
        detail::timed_pull<T, Scheduler> source(std::move(upstream), *s);
        const time_point start = s->now(); // windows are aligned to the first pull
        std::vector<T> items;
        time_point end{}; // of the window `items` belong to
        for (;;) {
            source.request();
            bool ready = true;
            if (items.empty()) {
                co_await source.wait(); // nothing to emit: no timer (empty windows are skipped)
            } else {
                ready = co_await source.wait_until(end);
            }
            if (!ready) {
                co_yield std::exchange(items, {});
                continue;
            }
            detail::timed_result<T> result = source.take();
            if (!items.empty() && (!result.value || result.at >= end)) {
                co_yield std::exchange(items, {});
            }
            if (!result.value) {
                if (result.error) {
                    std::rethrow_exception(result.error); // after the partial window, if any
                }
                co_return;
            }
            if (items.empty()) {
                const auto index = (result.at - start) / length;
                end = start + length * (index + 1);
            }
            items.push_back(std::move(*result.value));
        }
    }

    Scheduler* m_scheduler;
    duration m_length;
};

/// A stage that groups the upstream's values, in order, by tumbling time windows of length `d`
/// aligned to the time `t0` of the first `next()`: window `k` is `[t0 + k*d, t0 + (k+1)*d)` and
/// holds the values that arrived in it (a value arriving exactly on a boundary opens the next
/// window). A window is emitted at its end; windows in which nothing arrived are not emitted
/// (the stream never yields an empty vector, and an idle upstream arms no timer). When the
/// upstream ends, the open window is emitted at once; when it fails, nothing is lost: the open
/// window (if any) is emitted first and the error is thrown by the following `next()`; the
/// stream then ends.
///
/// Lazy: nothing is pulled (and the clock does not start) before the first `next()`.
/// Look-ahead: one value; a value's arrival time is when the upstream yielded it to this stage.
/// A consumer that pulls late receives a window that ended meanwhile at once; the upstream is
/// not pulled while the consumer holds a window beyond the one pull in flight (backpressure).
/// Where the awaiter resumes: where the upstream yielded, or on `s` when a window ended (the
/// last of the raced waits to finish resumes it); inline when the upstream answered at once.
/// Errors: see above (the open window first, then the upstream's exception).
/// Cancellation: a stop request on the consumer's token ends a waiting `next()` with
/// `eddy::operation_cancelled` and ends the stream; the values of the open window are dropped
/// with it. Destroying the stream stops the pending upstream pull; the upstream is freed when
/// that pull returns.
/// Preconditions: `d > 0`, else `eddy::error` (thrown here, eagerly); `Scheduler` models
/// `eddy::scheduler` (static_assert).
/// Lifetime: `s` must outlive the stream and the upstream's last pull.
/// Thread-safety: none for the stream (see `eddy::stream`); the upstream may run on any thread.
///
///     eddy::virtual_time_scheduler vt;
///     auto per_minute = clicks(vt) | eddy::window(std::chrono::minutes(1), vt);
///     std::optional<std::vector<click>> w = co_await per_minute.next(); // the first busy minute
template <class Scheduler>
[[nodiscard]] window_stage<Scheduler> window(std::chrono::steady_clock::duration d, Scheduler& s) {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::window: the type does not model eddy::scheduler (it needs "
                  "schedule(), schedule_after(duration) and now())");
    if (d <= d.zero()) {
        throw error("eddy::window: the window length must be positive");
    }
    return window_stage<Scheduler>(s, d);
}

} // namespace eddy
