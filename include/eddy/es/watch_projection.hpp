// eddy/es/watch_projection.hpp - eddy::watch_projection, a watchdog that reports a projection
// which stopped making progress.
#pragma once

#include <chrono>     // std::chrono::steady_clock
#include <cstdint>    // std::uint64_t
#include <functional> // std::function
#include <utility>    // std::move

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/projection_monitor.hpp>

namespace eddy {

namespace detail {

template <class Scheduler>
task<void> watch_projection_loop(const projection_monitor* monitor,
                                 std::function<std::uint64_t()> head, Scheduler* s,
                                 std::chrono::steady_clock::duration interval,
                                 std::chrono::steady_clock::duration threshold,
                                 std::function<void(const projection_status&)> on_stall) {
    std::chrono::steady_clock::time_point reported{}; // last_progress of the reported stall
    bool any_reported = false;
    for (;;) {
        co_await s->schedule_after(interval);
        const projection_status st = monitor->status(head());
        const bool again = any_reported && reported == st.last_progress;
        if (st.stalled(threshold) && !again) {
            reported = st.last_progress;
            any_reported = true;
            on_stall(st);
        }
    }
}

} // namespace detail

/// Every `interval` on `s`, compares `monitor` with `head()` (the store's last position, e.g.
/// `[&store] { return store.last_position(); }`) and calls `on_stall(status)` when the
/// projection is stalled: behind the head and without progress for `threshold`. Reported once
/// per stall: again only after the projection made progress (or caught up) and stalled anew.
///
/// Lazy: a task; runs until its stop token is stopped (then `eddy::operation_cancelled`).
/// Where it runs: on `s` (`head` and `on_stall` are called there).
/// Errors: `interval` or `threshold` not positive, or an empty function: `eddy::error`,
/// eagerly; what `head` or `on_stall` throws ends the task.
/// Lifetime: `s` and `monitor` must outlive the task. Thread-safety: one task per call.
///
///     scope.spawn(eddy::with_stop_token(
///         eddy::watch_projection(monitor, head, pool, 1s, 30s, report), stop.get_token()));
template <scheduler Scheduler>
[[nodiscard]] task<void> watch_projection(const projection_monitor& monitor,
                                          std::function<std::uint64_t()> head, Scheduler& s,
                                          std::chrono::steady_clock::duration interval,
                                          std::chrono::steady_clock::duration threshold,
                                          std::function<void(const projection_status&)> on_stall) {
    if (interval <= std::chrono::steady_clock::duration::zero() ||
        threshold <= std::chrono::steady_clock::duration::zero()) {
        throw error("eddy::watch_projection: interval and threshold must be positive");
    }
    if (!head || !on_stall) {
        throw error("eddy::watch_projection: empty head or on_stall function");
    }
    return detail::watch_projection_loop(&monitor, std::move(head), &s, interval, threshold,
                                         std::move(on_stall));
}

} // namespace eddy
