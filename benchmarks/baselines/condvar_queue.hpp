// benchmarks/baselines/condvar_queue.hpp - the textbook bounded queue the channel and bus
// benchmarks measure against: a ring buffer under one mutex with not_full/not_empty condition
// variables, notify_one after every push and pop.
#pragma once

#include <condition_variable> // std::condition_variable
#include <cstddef>            // std::size_t
#include <mutex>              // std::mutex, std::unique_lock, std::lock_guard
#include <optional>           // std::optional
#include <utility>            // std::move
#include <vector>             // std::vector

namespace eddy::bench {

template <class T>
class condvar_queue {
public:
    explicit condvar_queue(std::size_t capacity) : m_buffer(capacity) {}

    void push(T value) {
        {
            std::unique_lock lock(m_mutex);
            m_not_full.wait(lock, [this] { return m_size < m_buffer.size(); });
            m_buffer[(m_head + m_size) % m_buffer.size()] = std::move(value);
            ++m_size;
        }
        m_not_empty.notify_one();
    }

    /// The oldest value, or an empty optional once closed and drained.
    std::optional<T> pop() {
        std::optional<T> value;
        {
            std::unique_lock lock(m_mutex);
            m_not_empty.wait(lock, [this] { return m_size > 0 || m_closed; });
            if (m_size == 0) {
                return std::nullopt;
            }
            value.emplace(std::move(m_buffer[m_head]));
            m_head = (m_head + 1) % m_buffer.size();
            --m_size;
        }
        m_not_full.notify_one();
        return value;
    }

    void close() {
        {
            std::lock_guard lock(m_mutex);
            m_closed = true;
        }
        m_not_empty.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_not_full;
    std::condition_variable m_not_empty;
    std::vector<T> m_buffer;
    std::size_t m_head = 0;
    std::size_t m_size = 0;
    bool m_closed = false;
};

} // namespace eddy::bench
