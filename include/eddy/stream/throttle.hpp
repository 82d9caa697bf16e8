// eddy/stream/throttle.hpp - eddy::throttle(d, scheduler): at most one value per d (leading
// edge); values arriving sooner are dropped. Fused.
#pragma once

#include <chrono>      // std::chrono::steady_clock
#include <optional>    // std::optional
#include <type_traits> // std::type_identity_t
#include <utility>     // std::move

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/stream/pipeline.hpp>

namespace eddy {

/// The stage of `eddy::throttle`: passes a value on when `d` has passed since the last one it
/// passed on, and drops it otherwise.
template <class Scheduler>
struct throttle_stage {
    using fused_stage_tag = void;
    template <class In>
    using output = In;
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    template <class In>
    std::optional<In> process(std::type_identity_t<In>&& element) {
        // Not a scheduler: eddy::throttle's static_assert said so; no cascade of errors.
        if constexpr (eddy::scheduler<Scheduler>) {
            const time_point now = m_scheduler->now();
            if (m_passed_any && now < m_last + m_period) {
                return std::nullopt;
            }
            m_passed_any = true;
            m_last = now;
        }
        return std::optional<In>(std::move(element));
    }
    [[nodiscard]] bool done() const noexcept { return false; }

    Scheduler* m_scheduler;
    duration m_period;
    time_point m_last{};
    bool m_passed_any = false;
};

/// A pipeline stage that passes on at most one value per `d`, leading edge: a value arriving at
/// time `t` passes when no value passed in `(t - d, t]`, i.e. the first value passes at once
/// and then every value arriving less than `d` after the last one passed is dropped. Lossy by
/// design (see `eddy::rate_limit` for the lossless variant that delays instead).
///
/// Synchronous and fused (see `eddy::pipeline`): no coroutine, no timer; it reads `s.now()`
/// when a value comes out of the upstream, so "arriving" means "pulled": the upstream runs only
/// as fast as the consumer pulls (backpressure), and a consumer slower than `d` drops nothing.
/// Where the awaiter resumes, errors, end and cancellation: as for the upstream (the
/// consumer's stop token reaches it; its exception reaches the consumer).
/// Preconditions: `d > 0`, else `eddy::error` (thrown here, eagerly); `Scheduler` models
/// `eddy::scheduler` (static_assert).
/// Lifetime: `s` must outlive the pipeline.
/// Thread-safety: none (see `eddy::pipeline`); `s.now()` is called by the one consumer.
///
///     eddy::virtual_time_scheduler vt;
///     auto moves = mouse_moves(vt) | eddy::throttle(std::chrono::milliseconds(100), vt);
template <class Scheduler>
[[nodiscard]] throttle_stage<Scheduler> throttle(std::chrono::steady_clock::duration d,
                                                 Scheduler& s) {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::throttle: the type does not model eddy::scheduler (it needs "
                  "schedule(), schedule_after(duration) and now())");
    if (d <= d.zero()) {
        throw error("eddy::throttle: the period must be positive");
    }
    return throttle_stage<Scheduler>{&s, d};
}

} // namespace eddy
