// eddy/stream/buffer.hpp - eddy::buffer(n): a bounded look-ahead, pulled by background work.
#pragma once

#include <cstddef> // std::size_t, std::ptrdiff_t
#include <limits>  // std::numeric_limits
#include <utility> // std::move

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/detail/buffer_body.hpp>
#include <eddy/stream/detail/pump_state.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// The stage of `eddy::buffer`: `s | buffer(n)` is `buffer_stage::apply(s)`.
template <class Hop>
struct buffer_stage {
    using async_stage_tag = void;

    template <class T>
    [[nodiscard]] stream<T> apply(stream<T> upstream) && {
        return detail::buffer_body(std::move(upstream), m_size, m_hop);
    }

    std::size_t m_size;
    Hop m_hop;
};

namespace detail {
inline std::size_t checked_buffer_size(std::size_t n) {
    if (n == 0) {
        throw error("eddy::buffer: the size must be at least 1");
    }
    if (n > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max())) {
        throw error("eddy::buffer: the size is too large");
    }
    return n;
}
} // namespace detail

/// An async stage that pulls its upstream ahead of the consumer from background work, holding
/// at most `n` values the consumer has not taken yet: the producer takes one of `n` slots
/// before each pull and the consumer gives it back when it takes the value, so the upstream
/// never runs more than `n` values ahead (memory: at most `n` values of `T`), and a slow
/// consumer slows it down (backpressure) instead of letting values pile up. Order, values and
/// the end are the upstream's; values are moved, never copied.
///
/// Lazy: the background work starts at the first `next()`, which it answers as soon as the
/// first value is there.
/// Where things run: the background work starts on the thread of the first `next()` and runs
/// wherever the upstream resumes it; after waiting for a free slot, it continues where the
/// consumer freed it. With `buffer(n, s)`, it hops onto `s` (`co_await s.schedule()`) before
/// its first pull and after every wait for a slot, so on a `thread_pool` the producer runs on
/// the pool while the consumer runs elsewhere.
/// Where the awaiter resumes: at once when a value is buffered; otherwise on the thread where
/// the upstream produced the value (or ended).
/// Errors: an exception of the upstream is rethrown by `next()` after the values buffered
/// before it; then the stream ends.
/// Cancellation: the upstream sees the stop token of the background work, which is stopped
/// when the buffered stream is destroyed or ends, so its timers and channel waits end with
/// `eddy::operation_cancelled`. A `next()` waiting while the consumer's stop token is stopped
/// throws `eddy::operation_cancelled` and stops the background work.
/// Preconditions: `n >= 1`, else `eddy::error` (thrown here, eagerly).
/// Lifetime: destroying the stream never blocks: it stops the background work, which then
/// destroys the upstream and frees the shared state wherever it ends (on `s`, or where the
/// upstream's timer resumes it). `s` must outlive that background work: keep the scheduler
/// alive until the upstream is destroyed (a `thread_pool` runs it out in its destructor).
/// Thread-safety: one consumer pulls (see `eddy::stream`); the upstream runs on one thread at
/// a time.
///
///     eddy::thread_pool pool(2);
///     auto smooth = slow_reads() | eddy::buffer(64, pool); // reads run ahead on the pool
///     auto rows = eddy::sync_wait(eddy::to_vector(std::move(smooth)));
[[nodiscard]] inline buffer_stage<detail::no_hop> buffer(std::size_t n) {
    return buffer_stage<detail::no_hop>{detail::checked_buffer_size(n), {}};
}

/// `eddy::buffer(n)` whose background work runs on `s` (see above). `s` must outlive it.
template <class Scheduler>
[[nodiscard]] buffer_stage<detail::scheduler_hop<Scheduler>> buffer(std::size_t n, Scheduler& s) {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::buffer: the type does not model eddy::scheduler (it needs "
                  "schedule(), schedule_after(duration) and now())");
    return buffer_stage<detail::scheduler_hop<Scheduler>>{detail::checked_buffer_size(n), {&s}};
}

} // namespace eddy
