// eddy/es/projection_monitor.hpp - eddy::projection_monitor: a projection's checkpoint, lag and
// last progress, observable from any thread.
#pragma once

#include <chrono>     // std::chrono::steady_clock
#include <cstdint>    // std::uint64_t
#include <functional> // std::function
#include <mutex>      // std::mutex, std::lock_guard
#include <utility>    // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// A snapshot of a projection's progress: its checkpoint, the store's head (the last position)
/// it was compared with, the lag (events behind: head - checkpoint, 0 when caught up), when it
/// last made progress (started, saved a higher checkpoint, or was seen caught up by a
/// `status` call: an idle projection is not late), how many events it handled.
struct projection_status {
    std::uint64_t checkpoint = 0;
    std::uint64_t head = 0;
    std::uint64_t lag = 0;
    std::chrono::steady_clock::time_point last_progress;
    std::chrono::steady_clock::duration since_progress{};
    std::uint64_t handled = 0;

    /// Behind the head and without progress for at least `threshold`.
    [[nodiscard]] bool stalled(std::chrono::steady_clock::duration threshold) const noexcept {
        return lag > 0 && since_progress >= threshold;
    }
};

/// Where `eddy::projector` reports a projection's progress (pass it to `catch_up`, `run` or
/// `catch_up_parallel`); `status(head)` compares it with the store's head. Times come from the
/// clock given at construction (a scheduler's `now()`, so a virtual-time test sees exact
/// times). See `eddy::watch_projection` for reporting stalls.
///
/// Eager, synchronous. Errors: an empty clock is bad input (`eddy::error`).
/// Lifetime: must outlive the projector tasks it is given to.
/// Thread-safety: every member may be called from any thread concurrently (a mutex).
///
///     eddy::projection_monitor monitor([&pool] { return pool.now(); });
///     co_await proj.run(summary, monitor);
///     monitor.status(store.last_position()).lag; // elsewhere
class projection_monitor {
public:
    using clock_function = std::function<std::chrono::steady_clock::time_point()>;

    explicit projection_monitor(clock_function clock) : m_clock(std::move(clock)) {
        if (!m_clock) {
            throw error("eddy::projection_monitor: empty clock");
        }
        m_last_progress = m_clock();
    }

    /// The projector started at `checkpoint` (counts as progress).
    void started(std::uint64_t checkpoint) {
        const auto now = m_clock();
        std::lock_guard lock(m_mutex);
        m_checkpoint = checkpoint;
        m_last_progress = now;
    }

    /// The projector saved `checkpoint` after handling `handled` more events; progress when it
    /// is higher than the last one.
    void progressed(std::uint64_t checkpoint, std::uint64_t handled = 1) {
        const auto now = m_clock();
        std::lock_guard lock(m_mutex);
        m_handled += handled;
        if (checkpoint > m_checkpoint) {
            m_checkpoint = checkpoint;
            m_last_progress = now;
        }
    }

    /// The progress compared with the store's last position `head`. Seeing the projection
    /// caught up (lag 0) counts as progress.
    [[nodiscard]] projection_status status(std::uint64_t head) const {
        const auto now = m_clock();
        std::lock_guard lock(m_mutex);
        projection_status s;
        s.checkpoint = m_checkpoint;
        s.head = head;
        s.lag = head > m_checkpoint ? head - m_checkpoint : 0;
        if (s.lag == 0 && now > m_last_progress) {
            m_last_progress = now;
        }
        s.last_progress = m_last_progress;
        s.since_progress = now - m_last_progress;
        s.handled = m_handled;
        return s;
    }

private:
    clock_function m_clock;
    mutable std::mutex m_mutex;
    std::uint64_t m_checkpoint = 0;                                // guarded
    std::uint64_t m_handled = 0;                                   // guarded
    mutable std::chrono::steady_clock::time_point m_last_progress; // guarded
};

} // namespace eddy
