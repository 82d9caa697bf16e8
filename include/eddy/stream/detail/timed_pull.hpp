// eddy/stream/detail/timed_pull.hpp - one upstream pulled by background work, so that a pull
// can stay pending across the consumer's next() calls and be raced against a timer without
// losing its value (timeout, batch, window, debounce).
#pragma once

#include <chrono>     // std::chrono::steady_clock
#include <exception>  // std::exception_ptr, std::current_exception
#include <memory>     // std::shared_ptr, std::make_shared
#include <optional>   // std::optional
#include <stop_token> // std::stop_source
#include <utility>    // std::move

#include <eddy/core/async_event.hpp>
#include <eddy/core/detail/detached_task.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/when_any.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy::detail {

// What one pull of the upstream produced: a value, the end (no value, no error) or an error.
template <class T>
struct timed_result {
    std::optional<T> value;
    std::exception_ptr error;
    std::chrono::steady_clock::time_point at; // when the upstream answered, on the scheduler
};

// Owned by the body of a timed operator (a local of its coroutine). At most one pull is in
// flight; its result stays in the shared state until take(), so whichever of the value and a
// timer wins a race, the value is never in the losing branch: nothing is lost or delivered
// twice. Look-ahead: one element (the pull started before the consumer asked again).
//
// Lifetime: the upstream lives in state shared by this owner and the background pull. The
// destructor requests stop on the background pull (its upstream's timers and channel waits end
// with operation_cancelled) and never blocks; whoever finishes last frees the state and with it
// the upstream. An upstream that ignores its stop token keeps the state alive until it answers.
// Thread-safety: the owner's members are called by the one consumer. The background pull writes
// m_result before setting m_ready and never touches it afterwards; the owner reads it only once
// it observed m_ready set and resets the event before starting the next pull, so the event's
// mutex orders every access.
template <class T, class Scheduler>
class timed_pull {
public:
    using time_point = std::chrono::steady_clock::time_point;

    timed_pull(stream<T> upstream, Scheduler& s)
        : m_state(std::make_shared<state>(std::move(upstream), s)) {}
    timed_pull(const timed_pull&) = delete;
    timed_pull& operator=(const timed_pull&) = delete;
    ~timed_pull() { m_state->m_stop.request_stop(); }

    // Starts a background pull unless one is in flight or its result has not been taken yet.
    void request() {
        if (m_in_flight) {
            return;
        }
        m_in_flight = true;
        start_detached(with_stop_token(pull(m_state), m_state->m_stop.get_token()));
    }

    // Whether the requested pull has a result to take.
    [[nodiscard]] bool ready() const { return m_state->m_ready.is_set(); }

    // `co_await wait()` waits until ready(); a stop request on the awaiting coroutine's token
    // ends it with operation_cancelled.
    [[nodiscard]] async_event::wait_awaiter wait() noexcept { return m_state->m_ready.wait(); }

    // Waits until ready() or until `deadline` on the scheduler's clock; yields ready(), so a
    // result that lands while the timer wins is still reported (and taken) rather than lost.
    [[nodiscard]] task<bool> wait_until(time_point deadline) {
        return wait_until_impl(m_state.get(), deadline);
    }

    // Precondition: ready(). Takes the result; the next request() pulls again.
    [[nodiscard]] timed_result<T> take() {
        timed_result<T> result = std::move(m_state->m_result);
        m_state->m_result.value.reset();
        m_state->m_result.error = nullptr;
        m_state->m_ready.reset();
        m_in_flight = false;
        return result;
    }

private:
    struct state {
        state(stream<T> upstream, Scheduler& s)
            : m_upstream(std::move(upstream)), m_scheduler(&s) {}

        stream<T> m_upstream; // pulled only by the background work
        Scheduler* m_scheduler;
        std::stop_source m_stop;
        async_event m_ready;      // set once m_result holds the answer of the pull in flight
        timed_result<T> m_result; // written before m_ready.set(), read after it
    };

    // Static, parameters by value: the frame owns a reference to the state (no captures).
    static task<> pull(std::shared_ptr<state> st) {
        try {
            std::optional<T> value = co_await st->m_upstream.next();
            st->m_result.value = std::move(value);
        } catch (...) {
            st->m_result.error = std::current_exception();
        }
        st->m_result.at = st->m_scheduler->now();
        st->m_ready.set(); // may resume the owner inline; nothing of the state is touched after
    }

    static task<bool> wait_until_impl(state* st, time_point deadline) {
        if (st->m_ready.is_set()) {
            co_return true;
        }
        const time_point now = st->m_scheduler->now();
        if (deadline <= now) {
            co_return false;
        }
        // The loser is cancelled and when_any waits for it, so no wait outlives this frame. A
        // stop request of the consumer reaches both and ends this with operation_cancelled.
        auto winner =
            co_await when_any(st->m_ready.wait(), st->m_scheduler->schedule_after(deadline - now));
        static_cast<void>(winner);
        co_return st->m_ready.is_set();
    }

    std::shared_ptr<state> m_state;
    bool m_in_flight = false; // the owner's view: a pull was requested and not yet taken
};

} // namespace eddy::detail
