// eddy/core/scheduler.hpp - the `scheduler` concept, and sleep_for on any scheduler.
#pragma once

#include <chrono>   // std::chrono::steady_clock
#include <concepts> // std::same_as

#include <eddy/core/awaitable.hpp>
#include <eddy/core/task.hpp>

namespace eddy {

/// Something that decides where and when coroutines resume: `co_await s.schedule()` moves the
/// caller onto the scheduler, `co_await s.schedule_after(d)` does so once `d` has passed on the
/// scheduler's clock (`s.now()`, a `steady_clock::time_point`, which is virtual for
/// `virtual_time_scheduler`). Modelled by `inline_scheduler`, `thread_pool` and
/// `virtual_time_scheduler`. A timed wait ends with `eddy::operation_cancelled` when the
/// awaiting task's stop token is triggered.
template <class S>
concept scheduler = requires(S& s, const S& cs, std::chrono::steady_clock::duration d) {
    { s.schedule() } -> awaitable;
    { s.schedule_after(d) } -> awaitable;
    { cs.now() } -> std::same_as<std::chrono::steady_clock::time_point>;
};

/// Suspends the calling task for `d` on `s`'s clock and resumes it on `s`; throws
/// `eddy::operation_cancelled` if the task's stop token is triggered first.
/// Lifetime: `s` must outlive the returned task.
///
///     co_await eddy::sleep_for(pool, std::chrono::milliseconds(10));
template <class Scheduler>
[[nodiscard]] task<void> sleep_for(Scheduler& s, std::chrono::steady_clock::duration d) {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::sleep_for: the type does not model eddy::scheduler (it needs "
                  "schedule(), schedule_after(duration) and now())");
    co_await s.schedule_after(d);
}

} // namespace eddy
