// eddy/stream/batch.hpp - eddy::batch(n, max_wait, scheduler): the upstream's values grouped in
// vectors of up to n, each emitted when full or max_wait after its first value.
#pragma once

#include <chrono>    // std::chrono::steady_clock
#include <cstddef>   // std::size_t
#include <exception> // std::exception_ptr, std::rethrow_exception
#include <utility>   // std::move, std::exchange
#include <vector>    // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/detail/timed_pull.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// The stage of `eddy::batch`: collects values into a vector until it is full or due.
template <class Scheduler>
class batch_stage {
public:
    using async_stage_tag = void;
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    batch_stage(Scheduler& s, std::size_t n, duration max_wait) noexcept
        : m_scheduler(&s), m_size(n), m_max_wait(max_wait) {}

    template <class T>
    [[nodiscard]] stream<std::vector<T>> apply(stream<T> upstream) && {
        if constexpr (eddy::scheduler<Scheduler>) {
            return run(std::move(upstream), m_scheduler, m_size, m_max_wait);
        } else {
            // Not a scheduler: eddy::batch's static_assert said so; no cascade.
            return stream<std::vector<T>>{};
        }
    }

private:
    // Static, parameters by value (copied into the frame): no captures, no dangling references.
    template <class T>
    static stream<std::vector<T>> run(stream<T> upstream, Scheduler* s, std::size_t n,
                                      duration max_wait) {
        detail::timed_pull<T, Scheduler> source(std::move(upstream), *s);
        std::vector<T> items;
        time_point due{};
        for (;;) {
            source.request();
            bool ready = true;
            if (items.empty()) {
                co_await source.wait(); // no batch open: no timer either
            } else {
                ready = co_await source.wait_until(due);
            }
            if (!ready) {
                // Due: the pull in flight stays pending and its value opens the next batch.
                co_yield std::exchange(items, {});
                continue;
            }
            detail::timed_result<T> result = source.take();
            // A value that arrived at or after `due` (ready before the timer was seen) belongs
            // to the next batch: the same outcome as if the timer had won the race.
            if (!items.empty() && (!result.value || result.at >= due)) {
                co_yield std::exchange(items, {});
            }
            if (!result.value) {
                if (result.error) {
                    std::rethrow_exception(result.error); // after the partial batch, if any
                }
                co_return;
            }
            if (items.empty()) {
                due = result.at + max_wait;
            }
            items.push_back(std::move(*result.value));
            if (items.size() == n) {
                co_yield std::exchange(items, {});
            }
        }
    }

    Scheduler* m_scheduler;
    std::size_t m_size;
    duration m_max_wait;
};

/// A stage that groups the upstream's values, in order, into vectors of at most `n`: a batch is
/// emitted as soon as it holds `n` values, or `max_wait` after its first value arrived (values
/// arriving in `[first, first + max_wait)` join it), whichever comes first. Never emits an empty
/// vector: with no value there is no batch and no timer. When the upstream ends, the partial
/// batch is emitted at once. When the upstream fails, nothing is lost: the partial batch (if
/// any) is emitted first and the error is thrown by the following `next()`; the stream then
/// ends.
///
/// Lazy: nothing is pulled before the first `next()`. Look-ahead: one value. A batch emitted
/// because it was due leaves the pull that was in flight pending; its value (arrival time
/// recorded when the upstream yields it) opens the next batch. So at most `n` values wait in the
/// batch plus one in flight, and a slow consumer slows the upstream (backpressure).
/// Where the awaiter resumes: where the upstream yielded, or on `s` when a batch fell due (the
/// last of the raced waits to finish resumes it); inline when the upstream answered at once.
/// Errors: see above (the partial batch first, then the upstream's exception).
/// Cancellation: a stop request on the consumer's token ends a waiting `next()` with
/// `eddy::operation_cancelled` and ends the stream; the values of the unfinished batch are
/// dropped with it. Destroying the stream stops the pending upstream pull (its timers and
/// channel waits end with `operation_cancelled`); the upstream is freed when that pull returns.
/// Preconditions: `n > 0` and `max_wait > 0`, else `eddy::error` (thrown here, eagerly);
/// `Scheduler` models `eddy::scheduler` (static_assert).
/// Lifetime: `s` must outlive the stream and the upstream's last pull (an upstream that ignores
/// its stop token keeps its frame alive until it answers).
/// Thread-safety: none for the stream (see `eddy::stream`); the upstream may run on any thread.
///
///     eddy::virtual_time_scheduler vt;
///     auto batches = events(vt) | eddy::batch(100, std::chrono::milliseconds(50), vt);
///     std::optional<std::vector<event>> b = co_await batches.next(); // 1..100 events
template <class Scheduler>
[[nodiscard]] batch_stage<Scheduler>
batch(std::size_t n, std::chrono::steady_clock::duration max_wait, Scheduler& s) {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::batch: the type does not model eddy::scheduler (it needs "
                  "schedule(), schedule_after(duration) and now())");
    if (n == 0) {
        throw error("eddy::batch: the batch size must be at least 1");
    }
    if (max_wait <= max_wait.zero()) {
        throw error("eddy::batch: max_wait must be positive");
    }
    return batch_stage<Scheduler>(s, n, max_wait);
}

} // namespace eddy
