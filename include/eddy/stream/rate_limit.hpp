// eddy/stream/rate_limit.hpp - eddy::rate_limit(n, per, scheduler): at most n values in any
// interval of length per, by delaying pulls (lossless).
#pragma once

#include <chrono>   // std::chrono::steady_clock
#include <cstddef>  // std::size_t
#include <optional> // std::optional
#include <utility>  // std::move
#include <vector>   // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// The stage of `eddy::rate_limit`: waits for a free token before each pull of the upstream.
template <class Scheduler>
class rate_limit_stage {
public:
    using async_stage_tag = void;
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    rate_limit_stage(Scheduler& s, std::size_t n, duration per) noexcept
        : m_scheduler(&s), m_tokens(n), m_per(per) {}

    template <class T>
    [[nodiscard]] stream<T> apply(stream<T> upstream) && {
        if constexpr (eddy::scheduler<Scheduler>) {
            return run(std::move(upstream), m_scheduler, m_tokens, m_per);
        } else {
            // Not a scheduler: eddy::rate_limit's static_assert said so; no cascade.
            return stream<T>{};
        }
    }

private:
    // Static, parameters by value (copied into the frame): no captures, no dangling references.
    template <class T>
    static stream<T> run(stream<T> upstream, Scheduler* s, std::size_t n, duration per) {
        // The emission times of the last n values, a ring once full: sent[oldest] + per is when
        // the next token comes back.
        std::vector<time_point> sent;
        std::size_t oldest = 0;
        for (;;) {
            if (sent.size() == n) {
                const time_point free_at = sent[oldest] + per;
                const time_point now = s->now();
                if (free_at > now) {
                    co_await s->schedule_after(free_at - now); // the upstream waits too
                }
            }
            std::optional<T> value = co_await upstream.next();
            if (!value) {
                co_return;
            }
            const time_point now = s->now();
            if (sent.size() < n) {
                sent.push_back(now);
            } else {
                sent[oldest] = now;
                oldest = (oldest + 1) % n;
            }
            co_yield std::move(*value);
        }
    }

    Scheduler* m_scheduler;
    std::size_t m_tokens;
    duration m_per;
};

/// A stage that passes on every value of the upstream, in order, but at most `n` of them in any
/// interval of length `per` (a sliding window): it delays the pull of the upstream until that
/// holds, so nothing is dropped and the delay reaches the producer (backpressure). As a token
/// bucket: `n` tokens, one spent per value when the upstream yields it, each coming back exactly
/// `per` after it was spent (so a burst of `n` is allowed at once, then one value per returning
/// token; unlike a bucket that refills continuously, never more than `n` per `per`).
///
/// Lazy: nothing is pulled before the first `next()`. No look-ahead: the upstream is pulled only
/// inside the consumer's `next()`, after the wait for a token. Memory: the emission times of
/// the last `n` values.
/// Where the awaiter resumes: where the upstream yielded (after a wait on `s` when a token was
/// missing).
/// Errors: the upstream's exception reaches the consumer's `next()`, then the stream ends.
/// Cancellation: the consumer's stop token reaches the upstream and the wait for a token; a
/// stop request during that wait ends the `next()` with `eddy::operation_cancelled` and ends
/// the stream.
/// Preconditions: `n > 0` and `per > 0`, else `eddy::error` (thrown here, eagerly); `Scheduler`
/// models `eddy::scheduler` (static_assert).
/// Lifetime: `s` must outlive the stream.
/// Thread-safety: none for the stream (see `eddy::stream`).
///
///     eddy::virtual_time_scheduler vt;
///     auto calls = requests(vt) | eddy::rate_limit(10, std::chrono::seconds(1), vt);
///     // at most 10 values in any second; the 11th waits for the 1st's token
template <class Scheduler>
[[nodiscard]] rate_limit_stage<Scheduler>
rate_limit(std::size_t n, std::chrono::steady_clock::duration per, Scheduler& s) {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::rate_limit: the type does not model eddy::scheduler (it needs "
                  "schedule(), schedule_after(duration) and now())");
    if (n == 0) {
        throw error("eddy::rate_limit: n must be at least 1");
    }
    if (per <= per.zero()) {
        throw error("eddy::rate_limit: the interval must be positive");
    }
    return rate_limit_stage<Scheduler>(s, n, per);
}

} // namespace eddy
