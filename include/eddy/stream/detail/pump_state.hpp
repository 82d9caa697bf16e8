// eddy/stream/detail/pump_state.hpp - background pumps feeding one consumer: the machinery
// shared by eddy::buffer, eddy::merge and eddy::flat_map.
#pragma once

#include <coroutine>   // std::coroutine_handle
#include <cstddef>     // std::size_t, std::ptrdiff_t
#include <deque>       // std::deque (the queue; the credits, which must not move)
#include <exception>   // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <memory>      // std::shared_ptr
#include <mutex>       // std::mutex, std::lock_guard
#include <optional>    // std::optional
#include <stop_token>  // std::stop_source, std::stop_token
#include <type_traits> // std::is_same_v
#include <utility>     // std::move

#include <eddy/core/async_semaphore.hpp>
#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/detached_task.hpp>
#include <eddy/core/detail/stop_token_of.hpp>
#include <eddy/core/detail/waiter_list.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy::detail {

// State shared by background producers (detached tasks, each holding a shared_ptr) and the one
// consumer (the operator's stream body, also holding one): whoever finishes last frees it.
//
// Flow control: every queued value holds one permit of a "credit" semaphore, taken by its
// producer *before* it pulled its source and given back when the consumer takes the value. So
// the values pulled but not yet taken never exceed the credits' initial permits, whatever the
// speeds: that is the operators' whole look-ahead (buffer: one credit of n permits; merge and
// flat_map: one credit of one permit per source or inner slot).
//
// Errors: the first failure of a producer is kept and stop is requested on all of them; the
// consumer gets the values queued before it, then the error. Values pushed after it are
// dropped. The consumer's stream body requests stop when it is destroyed or ends (stop_on_exit),
// so producers waiting on timers, credits or their sources end with operation_cancelled.
template <class T>
class pump_state {
public:
    class pop_awaiter;

    // `producers` counted as running from the start; `credits` semaphores of `permits` each.
    pump_state(std::size_t producers, std::size_t credits, std::ptrdiff_t permits)
        : m_active(producers) {
        for (std::size_t i = 0; i < credits; ++i) {
            m_credits.emplace_back(permits);
        }
    }
    pump_state(const pump_state&) = delete;
    pump_state& operator=(const pump_state&) = delete;

    [[nodiscard]] std::stop_token stop_token() const noexcept { return m_stop.get_token(); }
    void request_stop() noexcept { m_stop.request_stop(); }

    // Credits live as long as the state: a queued value may outlive its producer's frame.
    [[nodiscard]] async_semaphore& credit(std::size_t i) noexcept { return m_credits[i]; }

    // One more producer runs (flat_map's inner streams); called by a producer still running.
    void add_producer() {
        std::lock_guard lock(m_mutex);
        ++m_active;
    }

    // Queues `value`, which holds one permit of `credit`, and hands it to a waiting consumer.
    void push(T&& value, async_semaphore& credit) {
        waiter_node* wake = nullptr;
        bool dropped = false;
        {
            std::lock_guard lock(m_mutex);
            if (m_error) {
                dropped = true; // after the first error nothing more is delivered
            } else {
                m_queue.push_back(entry{std::move(value), &credit});
                wake = wake_consumer_locked();
            }
        }
        if (dropped) {
            credit.release();
        }
        waiter_node::resume_all(wake);
    }

    // A producer failed: the first error is kept and every producer is asked to stop.
    void fail(std::exception_ptr error) noexcept {
        waiter_node* wake = nullptr;
        bool first = false;
        {
            std::lock_guard lock(m_mutex);
            if (!m_error) {
                m_error = std::move(error);
                first = true;
                wake = wake_consumer_locked();
            }
        }
        if (first) {
            m_stop.request_stop(); // may resume other producers inline; the lock is not held
        }
        waiter_node::resume_all(wake);
    }

    // A producer finished (after destroying its source); the last one ends the stream.
    void producer_done() noexcept {
        waiter_node* wake = nullptr;
        {
            std::lock_guard lock(m_mutex);
            --m_active;
            wake = wake_consumer_locked();
        }
        waiter_node::resume_all(wake);
    }

    // `co_await pop()` yields the next value, or an empty optional once every producer
    // finished and the queue is drained; rethrows the first producer error (after the values
    // queued before it); throws operation_cancelled when the consumer's stop token is stopped
    // while it waits. One consumer at a time.
    [[nodiscard]] pop_awaiter pop() noexcept { return pop_awaiter(*this); }

private:
    struct entry {
        T m_value;
        async_semaphore* m_credit;
    };

    // Under m_mutex: completes the waiting consumer if it can complete; returns it to resume
    // once the mutex is released.
    waiter_node* wake_consumer_locked() {
        if (m_waiters.empty()) {
            return nullptr;
        }
        if (!take_locked(*static_cast<pop_awaiter*>(m_waiters.front()))) {
            return nullptr;
        }
        return m_waiters.take_front(1);
    }

    bool take_locked(pop_awaiter& to);

    std::mutex m_mutex;
    std::deque<entry> m_queue;  // guarded by m_mutex; bounded by the credits
    std::exception_ptr m_error; // guarded by m_mutex
    std::size_t m_active;       // producers not finished; guarded by m_mutex
    waiter_list m_waiters;      // the consumer, when it waits
    std::deque<async_semaphore> m_credits;
    std::stop_source m_stop;
};

/// Awaiter of `pump_state<T>::pop()`.
template <class T>
class pump_state<T>::pop_awaiter : private waiter_node {
public:
    explicit pop_awaiter(pump_state& state) noexcept : m_state(&state) {}

    bool await_ready() const noexcept { return false; }

    template <class Promise>
    EDDY_AWAIT_SUSPEND_NOINLINE bool await_suspend(std::coroutine_handle<Promise> h) {
        return park(h, stop_token_of(h), m_state->m_mutex, m_state->m_waiters,
                    [this](waiter_node*&) { return m_state->take_locked(*this); });
    }

    std::optional<T> await_resume() {
        if (cancelled()) {
            throw operation_cancelled();
        }
        if (m_credit != nullptr) {
            // May resume the value's producer inline, here: it pulls its source again.
            m_credit->release();
        }
        if (m_error) {
            std::rethrow_exception(std::move(m_error));
        }
        return std::move(m_value);
    }

private:
    friend class pump_state;
    pump_state* m_state;
    std::optional<T> m_value;
    async_semaphore* m_credit = nullptr;
    std::exception_ptr m_error;
};

template <class T>
bool pump_state<T>::take_locked(pop_awaiter& to) {
    if (!m_queue.empty()) {
        entry& front = m_queue.front();
        to.m_value.emplace(std::move(front.m_value));
        to.m_credit = front.m_credit;
        m_queue.pop_front();
        return true;
    }
    if (m_error) {
        to.m_error = m_error; // kept: a later pop sees the same error
        return true;
    }
    return m_active == 0;
}

// Requests stop on the producers when the consumer's body ends or is destroyed mid-way.
template <class T>
class stop_on_exit {
public:
    explicit stop_on_exit(pump_state<T>* state) noexcept : m_state(state) {}
    stop_on_exit(const stop_on_exit&) = delete;
    stop_on_exit& operator=(const stop_on_exit&) = delete;
    ~stop_on_exit() { m_state->request_stop(); }

private:
    pump_state<T>* m_state;
};

// Where a pump continues after it waited for a credit: where the consumer released it
// (no_hop), or back on a scheduler (eddy::buffer(n, scheduler)).
struct no_hop {};
template <class Scheduler>
struct scheduler_hop {
    Scheduler* m_scheduler;
};

// Pulls `source` into `state` until it ends, fails or stop is requested; takes a permit of
// `credit` before each pull. Never throws: a failure goes to state.fail(). Destroys `source`
// before it completes.
template <class T, class Hop>
task<> pump_values(pump_state<T>* state, stream<T> source, async_semaphore* credit, Hop hop) {
    try {
        stream<T> s = std::move(source); // a local: destroyed before this task completes
        const std::stop_token token = co_await get_stop_token();
        if constexpr (!std::is_same_v<Hop, no_hop>) {
            co_await hop.m_scheduler->schedule();
        }
        for (;;) {
            if (!credit->try_acquire()) {
                co_await credit->acquire();
                if constexpr (!std::is_same_v<Hop, no_hop>) {
                    co_await hop.m_scheduler->schedule();
                }
            }
            if (token.stop_requested()) {
                credit->release();
                break;
            }
            std::optional<T> value = co_await s.next();
            if (!value) {
                credit->release();
                break;
            }
            state->push(std::move(*value), *credit);
        }
    } catch (...) {
        state->fail(std::current_exception());
    }
}

// One background producer: pumps `source` with credit `credit_index`, then counts itself out.
// Its frame holds the state; its source is destroyed before the consumer can see the end.
template <class T, class Hop>
task<> pump_source(std::shared_ptr<pump_state<T>> state, stream<T> source, std::size_t credit_index,
                   Hop hop) {
    co_await pump_values(state.get(), std::move(source), &state->credit(credit_index), hop);
    state->producer_done();
}

// Starts `work` now, on the calling thread, seeing the state's stop token; it frees itself.
template <class T>
void start_pump(pump_state<T>& state, task<> work) {
    start_detached(with_stop_token(std::move(work), state.stop_token()));
}

} // namespace eddy::detail
