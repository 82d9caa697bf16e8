// eddy/core/channel.hpp - eddy::channel<T>, a bounded MPMC queue with backpressure for coroutines.
#pragma once

#include <cassert>     // assert
#include <coroutine>   // std::coroutine_handle
#include <cstddef>     // std::size_t
#include <mutex>       // std::mutex, std::lock_guard, std::unique_lock
#include <optional>    // std::optional (ring buffer slots, receive results)
#include <type_traits> // std::is_nothrow_move_constructible_v, std::is_object_v
#include <utility>     // std::move
#include <vector>      // std::vector (the ring buffer, allocated once)

#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/stop_token_of.hpp>
#include <eddy/core/detail/waiter_list.hpp>
#include <eddy/core/error.hpp>

namespace eddy {

/// A bounded multi-producer multi-consumer queue: `co_await ch.send(v)` suspends the sender
/// while the buffer is full (backpressure); `co_await ch.receive()` yields the oldest value, or
/// an empty optional once the channel is closed and drained.
///
/// Lazy: `send()` and `receive()` return awaiters that do nothing until awaited.
/// Where the awaiter resumes: without suspending when the operation can complete at once;
/// otherwise inline on the thread whose operation completes it (a receiver is resumed by the
/// sender that hands it a value, a sender by the receiver that frees its slot; a waiting
/// sender's value goes straight to a receiver or into the freed slot), inline in `close()`, or
/// inline inside `std::stop_source::request_stop()` when cancelled. Waiters are served FIFO.
/// Values are moved, never copied; none is lost or delivered twice.
/// Closing: `close()` wakes every waiter. Waiting and later senders get `eddy::channel_closed`
/// and their value is not delivered (it is destroyed with the awaiter); receivers get the values
/// still buffered, then an empty optional.
/// Cancellation: a waiting send or receive whose coroutine's stop token is stopped ends with
/// `eddy::operation_cancelled`; a cancelled send's value is not delivered, a cancelled receive
/// takes nothing. An operation that can complete at once does so even if stop was requested.
/// Preconditions: `capacity >= 1`, else `eddy::error` (no rendezvous channel); `T` is nothrow
/// move constructible (static_assert); no waiters when the channel is destroyed (assert).
/// Lifetime: the channel must outlive every awaiter of it.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::channel<int> ch(16);
///     eddy::task<> produce() { for (int i = 0; i < 100; ++i) co_await ch.send(i); ch.close(); }
///     eddy::task<> consume() {
///         for (auto v = co_await ch.receive(); v; v = co_await ch.receive()) use(*v);
///     }
template <class T>
class channel {
    static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_array_v<T>,
                  "eddy::channel<T>: T must be a non-const, non-array object type");
    static_assert(std::is_nothrow_move_constructible_v<T>,
                  "eddy::channel<T>: T must be nothrow move constructible (values are moved "
                  "while the channel's lock is held)");

public:
    using value_type = T;
    class send_awaiter;
    class receive_awaiter;

    /// Creates an open, empty channel buffering up to `capacity` values (allocated here, once).
    explicit channel(std::size_t capacity) : m_buffer(checked(capacity)) {}
    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;
    ~channel() {
        assert(m_senders.empty() && m_receivers.empty() && "eddy::channel destroyed with waiters");
    }

    /// `co_await ch.send(v)` delivers `v`, waiting while the buffer is full; throws
    /// `eddy::channel_closed` if the channel is or becomes closed first.
    [[nodiscard]] send_awaiter send(T value) noexcept {
        return send_awaiter(*this, std::move(value));
    }

    /// `co_await ch.receive()` yields the next value, or an empty optional once closed and drained.
    [[nodiscard]] receive_awaiter receive() noexcept { return receive_awaiter(*this); }

    /// Delivers `value` (moving from it) if that needs no waiting; returns false, leaving `value`
    /// untouched, when the buffer is full. Throws `eddy::channel_closed` when closed.
    [[nodiscard]] bool try_send(T& value) {
        std::unique_lock lock(m_mutex);
        if (m_closed) {
            throw channel_closed();
        }
        detail::waiter_node* wake = nullptr;
        if (!send_locked(value, wake)) {
            return false;
        }
        lock.unlock();
        detail::waiter_node::resume_all(wake);
        return true;
    }

    /// The next value if one is buffered, else an empty optional (open or closed).
    [[nodiscard]] std::optional<T> try_receive() {
        std::optional<T> out;
        std::unique_lock lock(m_mutex);
        detail::waiter_node* wake = nullptr;
        receive_locked(out, wake);
        lock.unlock();
        detail::waiter_node::resume_all(wake);
        return out;
    }

    /// Closes the channel (idempotent) and resumes every waiter inline before returning.
    void close() {
        detail::waiter_node* senders = nullptr;
        detail::waiter_node* receivers = nullptr;
        {
            std::lock_guard lock(m_mutex);
            m_closed = true;
            senders = m_senders.take_front();
            for (auto* n = senders; n != nullptr; n = n->next()) {
                static_cast<send_awaiter*>(n)->m_rejected = true; // read after it resumes
            }
            receivers = m_receivers.take_front(); // the buffer is empty while receivers wait
        }
        detail::waiter_node::resume_all(receivers);
        detail::waiter_node::resume_all(senders);
    }

    /// The number of buffered values (a snapshot).
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(m_mutex);
        return m_size;
    }

    /// The most values the buffer holds.
    [[nodiscard]] std::size_t capacity() const noexcept { return m_buffer.size(); }

    /// Whether `close()` has been called.
    [[nodiscard]] bool is_closed() const {
        std::lock_guard lock(m_mutex);
        return m_closed;
    }

private:
    static std::size_t checked(std::size_t capacity) {
        if (capacity == 0) {
            throw error("eddy::channel: capacity must be at least 1");
        }
        return capacity;
    }

    // Invariants (under m_mutex): receivers wait only while the buffer is empty, senders only
    // while it is full. Both helpers run with m_mutex held and return whether they completed.
    bool send_locked(T& value, detail::waiter_node*& wake) noexcept {
        if (!m_receivers.empty()) {
            auto* receiver = static_cast<receive_awaiter*>(m_receivers.front());
            receiver->m_result.emplace(std::move(value));
            wake = m_receivers.take_front(1);
            return true;
        }
        if (m_size == m_buffer.size()) {
            return false;
        }
        m_buffer[(m_head + m_size) % m_buffer.size()].emplace(std::move(value));
        ++m_size;
        return true;
    }

    bool receive_locked(std::optional<T>& out, detail::waiter_node*& wake) noexcept {
        if (m_size == 0) {
            return m_closed; // closed and drained: complete with nothing
        }
        std::optional<T>& slot = m_buffer[m_head];
        out.emplace(std::move(*slot));
        slot.reset();
        m_head = (m_head + 1) % m_buffer.size();
        --m_size;
        if (!m_senders.empty()) { // the buffer was full: the oldest sender fills the freed slot
            auto* sender = static_cast<send_awaiter*>(m_senders.front());
            m_buffer[(m_head + m_size) % m_buffer.size()].emplace(std::move(sender->m_value));
            ++m_size;
            wake = m_senders.take_front(1);
        }
        return true;
    }

    mutable std::mutex m_mutex;
    std::vector<std::optional<T>> m_buffer; // ring: m_size values from m_head; guarded
    std::size_t m_head = 0;                 // guarded by m_mutex
    std::size_t m_size = 0;                 // guarded by m_mutex
    bool m_closed = false;                  // guarded by m_mutex
    detail::waiter_list m_senders;
    detail::waiter_list m_receivers;
};

/// Awaiter of `channel<T>::send()`; yields nothing, or throws `channel_closed` /
/// `operation_cancelled`.
template <class T>
class channel<T>::send_awaiter : private detail::waiter_node {
public:
    send_awaiter(channel& ch, T&& value) noexcept : m_channel(&ch), m_value(std::move(value)) {}

    bool await_ready() const noexcept { return false; }

    template <class Promise>
    EDDY_AWAIT_SUSPEND_NOINLINE bool await_suspend(std::coroutine_handle<Promise> h) {
        return park(h, detail::stop_token_of(h), m_channel->m_mutex, m_channel->m_senders,
                    [this](detail::waiter_node*& wake) {
                        if (m_channel->m_closed) {
                            m_rejected = true;
                            return true;
                        }
                        return m_channel->send_locked(m_value, wake);
                    });
    }

    void await_resume() const {
        if (cancelled()) {
            throw operation_cancelled();
        }
        if (m_rejected) {
            throw channel_closed();
        }
    }

private:
    friend class channel;
    channel* m_channel;
    T m_value;
    bool m_rejected = false; // closed before delivery; written under the channel's mutex
};

/// Awaiter of `channel<T>::receive()`; yields `std::optional<T>` (empty once closed and drained)
/// or throws `operation_cancelled`.
template <class T>
class channel<T>::receive_awaiter : private detail::waiter_node {
public:
    explicit receive_awaiter(channel& ch) noexcept : m_channel(&ch) {}

    bool await_ready() const noexcept { return false; }

    template <class Promise>
    EDDY_AWAIT_SUSPEND_NOINLINE bool await_suspend(std::coroutine_handle<Promise> h) {
        return park(h, detail::stop_token_of(h), m_channel->m_mutex, m_channel->m_receivers,
                    [this](detail::waiter_node*& wake) {
                        return m_channel->receive_locked(m_result, wake);
                    });
    }

    [[nodiscard]] std::optional<T> await_resume() {
        if (cancelled()) {
            throw operation_cancelled();
        }
        return std::move(m_result);
    }

private:
    friend class channel;
    channel* m_channel;
    std::optional<T> m_result; // filled under the channel's mutex by a sender, or by us
};

} // namespace eddy
