// eddy/core/detail/frame_cache.hpp - a small per-thread cache of coroutine frames.
#pragma once

#include <cstddef> // std::size_t

#include <eddy/core/detail/config.hpp>
#include <new> // ::operator new, ::operator delete

namespace eddy::detail {

// Recycles task frames: a loop awaiting short tasks allocates and frees a frame of the same
// size each time, and a cached block halves the cost of an await (see benchmarks/core_bench).
// A few blocks per thread, matched by exact size; a block freed on another thread goes to that
// thread's cache. Off under AddressSanitizer so that use-after-free of a frame stays visible.
class frame_cache {
public:
    static void* allocate(std::size_t size) {
#if EDDY_FRAME_CACHE
        if (slot* cache = local()) {
            for (slot* s = cache; s != cache + capacity; ++s) {
                if (s->m_size == size) {
                    s->m_size = 0;
                    return s->m_block;
                }
            }
        }
#endif
        return ::operator new(size);
    }

    static void deallocate(void* block, [[maybe_unused]] std::size_t size) noexcept {
#if EDDY_FRAME_CACHE
        if (slot* cache = local()) {
            for (slot* s = cache; s != cache + capacity; ++s) {
                if (s->m_size == 0) {
                    s->m_block = block;
                    s->m_size = size;
                    return;
                }
            }
        }
#endif
        ::operator delete(block);
    }

private:
    static constexpr std::size_t capacity = 4;

    struct slot {
        void* m_block = nullptr;
        std::size_t m_size = 0; // 0: empty
    };

    // Trivially destructible, so it stays usable while the thread's other thread_local objects
    // are destroyed; the flusher returns the blocks to the heap at thread exit and closes it.
    struct slots {
        slot m_slots[capacity];
        bool m_closed = false;
    };
    struct flusher {
        slots* m_cache;
        ~flusher() {
            m_cache->m_closed = true;
            for (slot& s : m_cache->m_slots) {
                if (s.m_size != 0) {
                    ::operator delete(s.m_block);
                    s.m_size = 0;
                }
            }
        }
    };

    // nullptr once the thread is exiting (later frees go straight to the heap).
    static slot* local() noexcept {
        static thread_local slots cache;
        static thread_local flusher flush{&cache}; // its destructor runs at thread exit
        return cache.m_closed ? nullptr : cache.m_slots;
    }
};

// Base of the promise types whose frames go through the cache (task, stream).
struct recycled_frame {
    static void* operator new(std::size_t size) { return frame_cache::allocate(size); }
    static void operator delete(void* frame, std::size_t size) noexcept {
        frame_cache::deallocate(frame, size);
    }
};

} // namespace eddy::detail
