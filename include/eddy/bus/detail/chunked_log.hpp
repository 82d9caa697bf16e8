// eddy/bus/detail/chunked_log.hpp - a partition's records in place: a queue of fixed-size
// chunks whose elements never move.
#pragma once

#include <cstddef> // std::size_t
#include <deque>   // std::deque (the chunks)
#include <memory>  // std::allocator, std::construct_at, std::destroy_at
#include <utility> // std::move, std::exchange, std::forward

namespace eddy::detail {

// Appends at the back, drops at the front, indexes from the front; an element stays at its
// address until it is dropped (a consumer reads a record without the bus's lock while its
// partition is pinned). One allocation per `chunk` elements instead of one per record, and one
// spare chunk is kept so a log that drops as fast as it grows (retention) allocates nothing.
template <class E, std::size_t Chunk = 64>
class chunked_log {
public:
    chunked_log() = default;
    chunked_log(chunked_log&& other) noexcept
        : m_chunks(std::move(other.m_chunks)), m_head(std::exchange(other.m_head, 0)),
          m_size(std::exchange(other.m_size, 0)), m_spare(std::exchange(other.m_spare, nullptr)) {}
    chunked_log(const chunked_log&) = delete;
    chunked_log& operator=(const chunked_log&) = delete;
    chunked_log& operator=(chunked_log&&) = delete;
    ~chunked_log() {
        while (m_size != 0) {
            pop_front();
        }
        for (E* c : m_chunks) {
            release(c);
        }
        if (m_spare != nullptr) {
            release(m_spare);
        }
    }

    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] bool empty() const noexcept { return m_size == 0; }

    [[nodiscard]] E& operator[](std::size_t i) noexcept {
        const std::size_t at = m_head + i;
        return m_chunks[at / Chunk][at % Chunk];
    }
    [[nodiscard]] const E& operator[](std::size_t i) const noexcept {
        const std::size_t at = m_head + i;
        return m_chunks[at / Chunk][at % Chunk];
    }
    [[nodiscard]] E& front() noexcept { return (*this)[0]; }
    [[nodiscard]] const E& front() const noexcept { return (*this)[0]; }

    template <class... Args>
    E& emplace_back(Args&&... args) {
        const std::size_t at = m_head + m_size;
        if (at == m_chunks.size() * Chunk) {
            E* c = m_spare != nullptr ? std::exchange(m_spare, nullptr)
                                      : std::allocator<E>().allocate(Chunk);
            try {
                m_chunks.push_back(c);
            } catch (...) {
                release(c);
                throw;
            }
        }
        E* slot = &m_chunks[at / Chunk][at % Chunk];
        std::construct_at(slot, std::forward<Args>(args)...);
        ++m_size;
        // The slots ahead are new memory: fetched for writing now, their stores do not miss
        // when the producer's unlock waits for its stores (measured: the bus's 1-partition
        // per-record throughput rose ~20%).
        if (at % Chunk + 4 < Chunk) {
            const char* next = reinterpret_cast<const char*>(slot + 4);
            for (std::size_t line = 0; line < sizeof(E); line += 64) {
                __builtin_prefetch(next + line, 1);
            }
        }
        return *slot;
    }

    void pop_front() noexcept {
        std::destroy_at(&front());
        --m_size;
        if (++m_head == Chunk || m_size == 0) {
            // The first chunk is done (or the log is empty: restart at the first slot).
            if (m_head == Chunk) {
                E* c = m_chunks.front();
                m_chunks.pop_front();
                if (m_spare == nullptr) {
                    m_spare = c;
                } else {
                    release(c);
                }
            }
            m_head = 0;
        }
    }

private:
    static void release(E* c) noexcept { std::allocator<E>().deallocate(c, Chunk); }

    std::deque<E*> m_chunks;
    std::size_t m_head = 0; // index of the front element in m_chunks.front()
    std::size_t m_size = 0;
    E* m_spare = nullptr;
};

} // namespace eddy::detail
