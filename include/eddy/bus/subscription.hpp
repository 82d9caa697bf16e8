// eddy/bus/subscription.hpp - eddy::subscription, the handle of a push member of a consumer
// group.
#pragma once

#include <cassert>   // assert
#include <exception> // std::exception_ptr, std::rethrow_exception
#include <memory>    // std::shared_ptr
#include <utility>   // std::move

#include <eddy/bus/detail/group_member.hpp>
#include <eddy/core/task.hpp>

namespace eddy {

/// The handle of one push member of a consumer group (`event_bus::subscribe`): while it is
/// active, the bus hands it records of the partitions assigned to it. Not a template, so code
/// that only starts and stops consumers does not depend on the bus type.
///
/// `co_await sub.stop()` leaves the group gracefully: the member takes no further record, the
/// records it is handling (including their retries and backoff waits) run to their end and are
/// committed, then its partitions move to the remaining members. `co_await sub.cancel()`
/// leaves at once: stop is requested on the stop token its handlers see, a backoff wait ends,
/// and a record whose handler ends with `eddy::operation_cancelled` is NOT committed: it is
/// delivered again to another member (or to the next member to join). A handler that ignores
/// the request finishes and is committed as usual.
/// Lazy: both return tasks; nothing happens until awaited. Where the awaiter resumes: on the
/// thread that finished the member's last handler (a bus scheduler thread), or inline if none
/// was running.
/// Errors: both rethrow what ended the member early: `eddy::offset_out_of_range` (its group
/// was behind retention and `on_out_of_range` is `none`), the last error of a record of a
/// dead-letter topic (which has no dead-letter topic of its own) that exhausted its retries,
/// or an exception escaping the bus's own work (e.g. scheduling on a `thread_pool` that shut
/// down).
/// Preconditions (programming errors): destroying or assigning over an active subscription
/// without a completed `stop()`/`cancel()` (assert; the member's work would otherwise outlive
/// its owner and the program terminates); at most one `stop()`/`cancel()` awaited at a time;
/// not awaited inside one of this subscription's own handlers (it would wait for itself).
/// Lifetime: the bus must outlive the subscription's stop. Move-only.
/// Thread-safety: `stop()`/`cancel()` from any thread, one at a time.
///
///     eddy::subscription sub = bus.subscribe<order>("orders", "billing", bill);
///     ...
///     co_await sub.stop();
class subscription {
public:
    subscription() noexcept = default;
    /// Wraps a member's state (called by a bus).
    explicit subscription(std::shared_ptr<detail::subscription_state> state) noexcept
        : m_state(std::move(state)) {}
    subscription(subscription&& other) noexcept = default;
    subscription& operator=(subscription&& other) noexcept {
        assert(!active() && "eddy::subscription: assigned over before stop() completed");
        m_state = std::move(other.m_state);
        return *this;
    }
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    ~subscription() {
        assert(!active() && "eddy::subscription: destroyed before co_await stop() completed");
    }

    /// True from `subscribe` until a `stop()` or `cancel()` completed.
    [[nodiscard]] bool active() const noexcept {
        return m_state && !m_state->stopped.load(std::memory_order_acquire);
    }

    /// Leaves the group after the records in hand are handled and committed.
    [[nodiscard]] task<void> stop() { return finish(m_state, false); }

    /// Leaves the group now: in-flight handlers see a stop request; what they do not finish is
    /// redelivered to another member.
    [[nodiscard]] task<void> cancel() { return finish(m_state, true); }

private:
    static task<void> finish(std::shared_ptr<detail::subscription_state> state, bool cancel) {
        assert(state && "eddy::subscription: stop() on an empty (moved-from) subscription");
        if (cancel) {
            state->scope.request_stop();
        }
        state->leave();
        std::exception_ptr failure;
        try {
            co_await state->scope.join();
        } catch (...) {
            failure = std::current_exception();
        }
        state->stopped.store(true, std::memory_order_release);
        if (!failure) {
            failure = state->take_failure();
        }
        if (failure) {
            std::rethrow_exception(failure);
        }
    }

    std::shared_ptr<detail::subscription_state> m_state;
};

} // namespace eddy
