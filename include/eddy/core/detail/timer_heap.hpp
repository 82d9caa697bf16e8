// eddy/core/detail/timer_heap.hpp - intrusive work and timer nodes and a cancellable timer heap.
#pragma once

#include <chrono>    // std::chrono::steady_clock
#include <coroutine> // std::coroutine_handle
#include <cstddef>   // std::size_t
#include <cstdint>   // std::uint64_t
#include <utility>   // std::swap
#include <vector>    // std::vector

namespace eddy::detail {

// A unit of ready work. It lives inside the awaiter that queued it (in the coroutine frame),
// so queuing never allocates.
struct work_node {
    work_node* m_next = nullptr;
    std::coroutine_handle<> m_handle;
};

// Intrusive FIFO of work nodes. Not synchronised: the owner holds its lock.
class work_queue {
public:
    [[nodiscard]] bool empty() const noexcept { return m_head == nullptr; }

    void push(work_node& node) noexcept {
        node.m_next = nullptr;
        if (m_tail) {
            m_tail->m_next = &node;
        } else {
            m_head = &node;
        }
        m_tail = &node;
    }

    // Moves every node of `other` to the back of this queue, in order; O(1).
    void splice(work_queue& other) noexcept {
        if (other.empty()) {
            return;
        }
        if (m_tail) {
            m_tail->m_next = other.m_head;
        } else {
            m_head = other.m_head;
        }
        m_tail = other.m_tail;
        other.m_head = other.m_tail = nullptr;
    }

    // Precondition: not empty.
    work_node& pop() noexcept {
        work_node& node = *m_head;
        m_head = node.m_next;
        if (!m_head) {
            m_tail = nullptr;
        }
        return node;
    }

private:
    work_node* m_head = nullptr;
    work_node* m_tail = nullptr;
};

struct timer_node : work_node {
    static constexpr std::size_t not_armed = static_cast<std::size_t>(-1);

    std::chrono::steady_clock::time_point m_deadline;
    std::uint64_t m_sequence = 0; // equal deadlines fire in arming order
    std::size_t m_index = not_armed;
    bool m_cancelled = false;
};

// Binary min-heap of armed timers ordered by (deadline, arming order). Each node knows its
// index, so a cancelled timer is removed in O(log n) without searching. Not synchronised.
class timer_heap {
public:
    [[nodiscard]] bool empty() const noexcept { return m_heap.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return m_heap.size(); }
    [[nodiscard]] timer_node& top() const noexcept { return *m_heap.front(); }

    void push(timer_node& node) {
        node.m_sequence = m_next_sequence++;
        node.m_index = m_heap.size();
        m_heap.push_back(&node);
        sift_up(node.m_index);
    }

    // Removes `node` if armed; returns whether it was.
    bool erase(timer_node& node) noexcept {
        if (node.m_index == timer_node::not_armed) {
            return false;
        }
        const std::size_t index = node.m_index;
        const std::size_t last = m_heap.size() - 1;
        if (index != last) {
            place(index, m_heap[last]);
            m_heap.pop_back();
            sift_down(index);
            sift_up(index);
        } else {
            m_heap.pop_back();
        }
        node.m_index = timer_node::not_armed;
        return true;
    }

    timer_node& pop() noexcept {
        timer_node& node = top();
        erase(node);
        return node;
    }

private:
    static bool before(const timer_node* a, const timer_node* b) noexcept {
        return a->m_deadline < b->m_deadline ||
               (a->m_deadline == b->m_deadline && a->m_sequence < b->m_sequence);
    }

    void place(std::size_t index, timer_node* node) noexcept {
        m_heap[index] = node;
        node->m_index = index;
    }

    void sift_up(std::size_t index) noexcept {
        while (index > 0) {
            const std::size_t parent = (index - 1) / 2;
            if (!before(m_heap[index], m_heap[parent])) {
                break;
            }
            timer_node* p = m_heap[parent];
            place(parent, m_heap[index]);
            place(index, p);
            index = parent;
        }
    }

    void sift_down(std::size_t index) noexcept {
        const std::size_t n = m_heap.size();
        for (;;) {
            std::size_t best = index;
            const std::size_t left = 2 * index + 1;
            const std::size_t right = left + 1;
            if (left < n && before(m_heap[left], m_heap[best])) {
                best = left;
            }
            if (right < n && before(m_heap[right], m_heap[best])) {
                best = right;
            }
            if (best == index) {
                return;
            }
            timer_node* b = m_heap[best];
            place(best, m_heap[index]);
            place(index, b);
            index = best;
        }
    }

    std::vector<timer_node*> m_heap;
    std::uint64_t m_next_sequence = 0;
};

} // namespace eddy::detail
