// eddy/core/detail/waiter_list.hpp - the intrusive, cancellable wait queue shared by
// async_mutex, async_semaphore, async_event, async_latch and channel.
#pragma once

#include <cassert>    // assert
#include <coroutine>  // std::coroutine_handle
#include <cstddef>    // std::size_t
#include <mutex>      // std::mutex, std::unique_lock
#include <optional>   // std::optional (the stop callback, engaged only while a wait may block)
#include <stop_token> // std::stop_token, std::stop_callback
#include <utility>    // std::move

namespace eddy::detail {

class waiter_list;

// One coroutine waiting on a primitive. The node is a base of the primitive's awaiter, so it
// lives in the awaiting coroutine's frame and a wait allocates nothing.
//
// Cancellation protocol (see park and cancel): the node is guarded by the primitive's mutex.
// m_linked says whether it is in the primitive's list; whoever unlinks it under that mutex
// (a normal wake-up via waiter_list::take_front, or cancel) is the one that resumes it, so
// exactly one of them does. The stop callback is registered *before* the node is published:
// once linked, another thread may resume the coroutine and destroy the node at any moment. A
// callback that fires before publication only sets m_stop_pending, which park checks under the
// mutex before linking. ~stop_callback blocks while the callback runs on another thread, so the
// node outlives every callback; the callback touches only this base, never the derived awaiter.
class waiter_node {
public:
    waiter_node() noexcept = default;
    // Awaiters may be copied or moved before they are awaited (never while waiting): the copy
    // starts afresh.
    waiter_node(const waiter_node& other) noexcept {
        assert(!other.m_linked && "eddy: an awaiter was copied or moved while it was waiting");
        static_cast<void>(other);
    }
    waiter_node& operator=(const waiter_node&) = delete;

    // Suspends `handle` on `list` unless `try_complete(wake)` (called with `mutex` held) finishes
    // the operation first; it may hand back one node to resume once the mutex is released. When
    // stop is requested on `token` before the node could be published, the wait ends at once
    // with cancelled() set. Returns whether the coroutine must stay suspended.
    template <class TryComplete>
    [[nodiscard]] bool park(std::coroutine_handle<> handle, std::stop_token token,
                            std::mutex& mutex, waiter_list& list, TryComplete&& try_complete);

    // The next node of the list or chain holding this one (under the primitive's mutex).
    [[nodiscard]] waiter_node* next() const noexcept { return m_next; }

    // True when the wait ended because stop was requested; read by await_resume.
    [[nodiscard]] bool cancelled() const noexcept { return m_cancelled; }

    // Resumes the nodes of a chain returned by waiter_list::take_front, in order. Called
    // without the primitive's mutex held: each coroutine runs inline until it next suspends.
    static void resume_all(waiter_node* chain) {
        while (chain != nullptr) {
            // Read the link first: resuming may destroy the node.
            waiter_node* next = chain->m_next;
            chain->m_handle.resume();
            chain = next;
        }
    }

private:
    friend class waiter_list;

    struct on_stop {
        waiter_node* m_node;
        void operator()() const noexcept { m_node->cancel(); }
    };

    void cancel() noexcept;

    template <class TryComplete>
    bool complete(std::unique_lock<std::mutex>& lock, TryComplete& try_complete) {
        waiter_node* wake = nullptr;
        if (!try_complete(wake)) {
            return false;
        }
        lock.unlock();
        resume_all(wake);
        return true;
    }

    waiter_node* m_prev = nullptr;
    waiter_node* m_next = nullptr;
    std::coroutine_handle<> m_handle;
    std::mutex* m_mutex = nullptr;
    waiter_list* m_list = nullptr;
    bool m_linked = false;       // guarded by *m_mutex
    bool m_stop_pending = false; // guarded by *m_mutex
    bool m_cancelled = false;    // written before the coroutine resumes
    std::optional<std::stop_callback<on_stop>> m_on_stop;
};

// FIFO list of waiter_nodes, doubly linked so a cancelled waiter unlinks in O(1). Guarded by
// the owning primitive's mutex.
class waiter_list {
public:
    waiter_list() noexcept = default;
    waiter_list(const waiter_list&) = delete;
    waiter_list& operator=(const waiter_list&) = delete;

    [[nodiscard]] bool empty() const noexcept { return m_head == nullptr; }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] waiter_node* front() const noexcept { return m_head; }

    void push_back(waiter_node& node) noexcept {
        assert(!node.m_linked);
        node.m_prev = m_tail;
        node.m_next = nullptr;
        (m_tail != nullptr ? m_tail->m_next : m_head) = &node;
        m_tail = &node;
        node.m_linked = true;
        ++m_size;
    }

    void erase(waiter_node& node) noexcept {
        assert(node.m_linked);
        (node.m_prev != nullptr ? node.m_prev->m_next : m_head) = node.m_next;
        (node.m_next != nullptr ? node.m_next->m_prev : m_tail) = node.m_prev;
        node.m_linked = false;
        --m_size;
    }

    // Unlinks up to `count` nodes from the front and returns them as a null-terminated chain in
    // FIFO order, for waiter_node::resume_all once the mutex is released. From here on only the
    // caller may resume them; a stop request that arrives later finds them unlinked and loses.
    [[nodiscard]] waiter_node*
    take_front(std::size_t count = static_cast<std::size_t>(-1)) noexcept {
        waiter_node* chain = m_head;
        waiter_node* last = nullptr;
        for (; count > 0 && m_head != nullptr; --count) {
            last = m_head;
            last->m_linked = false;
            m_head = last->m_next;
            --m_size;
        }
        if (last == nullptr) {
            return nullptr;
        }
        last->m_next = nullptr;
        if (m_head != nullptr) {
            m_head->m_prev = nullptr;
        } else {
            m_tail = nullptr;
        }
        return chain;
    }

private:
    waiter_node* m_head = nullptr;
    waiter_node* m_tail = nullptr;
    std::size_t m_size = 0;
};

template <class TryComplete>
bool waiter_node::park(std::coroutine_handle<> handle, std::stop_token token, std::mutex& mutex,
                       waiter_list& list, TryComplete&& try_complete) {
    m_handle = handle;
    m_mutex = &mutex;
    m_list = &list;
    std::unique_lock lock(mutex);
    if (complete(lock, try_complete)) {
        return false;
    }
    if (!token.stop_possible()) {
        list.push_back(*this);
        return true; // nothing of ours is touched after this: the unlock touches only `mutex`
    }
    if (token.stop_requested()) {
        m_cancelled = true;
        return false;
    }
    // Register the callback before publishing; it may run inline right here (stop requested
    // meanwhile) or on another thread, and then finds the node unlinked and sets m_stop_pending.
    lock.unlock();
    m_on_stop.emplace(std::move(token), on_stop{this});
    lock.lock();
    if (complete(lock, try_complete)) {
        return false;
    }
    if (m_stop_pending) {
        m_cancelled = true;
        return false;
    }
    list.push_back(*this);
    return true;
}

// The stop callback: runs inside std::stop_source::request_stop on the requesting thread and,
// when it wins, resumes the cancelled coroutine inline there.
inline void waiter_node::cancel() noexcept {
    {
        std::lock_guard lock(*m_mutex);
        if (!m_linked) {
            // Not published yet (park will see the flag), or already woken normally (the flag
            // is then never read).
            m_stop_pending = true;
            return;
        }
        m_list->erase(*this);
        m_cancelled = true;
    }
    m_handle.resume();
}

} // namespace eddy::detail
