// eddy/bus/detail/group_member.hpp - one member of a consumer group, as the bus sees it, and
// the state a push subscription shares with its handle.
#pragma once

#include <atomic>    // std::atomic
#include <cstddef>   // std::size_t
#include <cstdint>   // std::uint64_t
#include <exception> // std::exception_ptr
#include <mutex>     // std::mutex, std::lock_guard
#include <utility>   // std::exchange

#include <eddy/core/async_event.hpp>
#include <eddy/core/async_scope.hpp>

namespace eddy::detail {

// A member of a consumer group. The bus keeps its members in join order (shared_ptr, so a
// publisher can set `wake` after releasing the bus's lock while the member leaves).
struct group_member {
    group_member() = default;
    group_member(const group_member&) = delete;
    group_member& operator=(const group_member&) = delete;
    virtual ~group_member() = default;

    // Set (outside the bus's lock) whenever this member may have work or must leave; reset
    // under the bus's lock by a worker that found nothing to do, so no wake-up is lost: every
    // change is made under the lock and followed by a set().
    async_event wake;
    // Guarded by the bus's lock.
    bool leaving = false;
    // A worker found nothing to do and reset `wake` since the last wake-up was sent: only then
    // does a change need to set `wake` (the idle -> ready transition). A member that is not idle
    // has a worker that claims again, under the lock, after the change, so it sees it.
    // Written under the bus's lock; atomic because an idle worker polls it without the lock
    // before it parks (it changes once per transition, so the poll costs publishers nothing).
    // Every publish reads it: on a cache line of its own, away from `cursor`, which the
    // member's claims write.
    alignas(64) std::atomic<bool> idle{false};
    alignas(64) std::size_t cursor = 0; // the partition to look at first: round robin
};

// A push member (`event_bus::subscribe`): its worker coroutines live in `scope`; the
// `subscription` handle owns this state (workers hold a raw pointer: an owning one would let
// the last worker destroy the scope it is finishing in).
class subscription_state : public group_member {
public:
    // Leaves the group (idempotent): no more records are taken; workers finish the record in
    // hand and exit.
    virtual void leave() = 0;

    // A failure that ended this member (offset_out_of_range, a dead-letter topic's record
    // exhausting its retries); the first one is kept and rethrown by stop().
    void set_failure(std::exception_ptr e) {
        std::lock_guard lock(m_mutex);
        if (!m_failure) {
            m_failure = std::move(e);
        }
    }
    [[nodiscard]] std::exception_ptr take_failure() {
        std::lock_guard lock(m_mutex);
        return std::exchange(m_failure, nullptr);
    }

    async_scope scope;
    std::atomic<bool> stopped{false}; // stop() or cancel() completed

private:
    std::mutex m_mutex;
    std::exception_ptr m_failure; // guarded by m_mutex
};

} // namespace eddy::detail
