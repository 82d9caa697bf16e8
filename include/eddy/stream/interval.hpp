// eddy/stream/interval.hpp - eddy::interval(scheduler, period): 0, 1, 2, ... once per period.
#pragma once

#include <chrono>  // std::chrono::steady_clock
#include <cstddef> // std::size_t

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/stream/detail/interval_body.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// An infinite stream of 0, 1, 2, ...: value `i` is yielded at `t0 + (i + 1) * period` on
/// `s`'s clock, where `t0` is the time of the first `next()` (fixed rate: a consumer that
/// pulls late gets the values already due at once, then the schedule resumes).
///
/// Lazy: the clock starts at the first `next()`; a value is only produced when pulled.
/// Where the awaiter resumes: on `s` (where `schedule_after` resumes), or inline when the
/// timer fired before `next()` returned.
/// Cancellation: when the stream's stop token (the consumer's, or `with_stop_token`'s) is
/// stopped, the waiting `next()` throws `eddy::operation_cancelled`; the stream then ends.
/// Preconditions: `period > 0`, else `eddy::error` (thrown here, eagerly).
/// Lifetime: `s` must outlive the stream.
/// Thread-safety: none for the stream (see `eddy::stream`).
///
///     eddy::virtual_time_scheduler vt;
///     auto ticks = eddy::interval(vt, std::chrono::seconds(1)); // 0 at 1s, 1 at 2s, ...
template <class Scheduler>
[[nodiscard]] stream<std::size_t> interval(Scheduler& s,
                                           std::chrono::steady_clock::duration period) {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::interval: the type does not model eddy::scheduler (it needs "
                  "schedule(), schedule_after(duration) and now())");
    if (period <= period.zero()) {
        throw error("eddy::interval: the period must be positive");
    }
    return detail::interval_body(s, period);
}

} // namespace eddy
