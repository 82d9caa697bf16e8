// eddy/bus/detail/spin_mutex.hpp - the event bus's lock: one atomic word that spins briefly
// before it sleeps (futex-style, through std::atomic::wait).
#pragma once

#include <atomic> // std::atomic (the lock word, its wait and notify)

namespace eddy::detail {

// The bus's critical sections are short (tens of nanoseconds), and a producer and a consumer
// take the lock at high rates. Uncontended, lock is one compare-exchange and unlock one
// exchange (pthread_mutex_trylock + unlock cost twice that here, and a publish takes the lock
// once per record). Contended, a waiter first spins (reading, not writing, the word, so the
// holder keeps its cache line), then marks the word contended and sleeps in
// std::atomic::wait; only an unlock that finds it marked calls notify (the 3-state mutex of
// Drepper's "Futexes Are Tricky"), so a descheduled holder costs the waiters no CPU.
// Lockable (lock, try_lock, unlock): std::lock_guard works; sanitizers see the atomics
// (acquire on lock, release on unlock).
class spin_mutex {
public:
    void lock() noexcept {
        int expected = free;
        if (!m_state.compare_exchange_strong(expected, locked, std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
            lock_contended();
        }
    }
    bool try_lock() noexcept {
        int expected = free;
        return m_state.compare_exchange_strong(expected, locked, std::memory_order_acquire,
                                               std::memory_order_relaxed);
    }
    void unlock() noexcept {
        if (m_state.exchange(free, std::memory_order_release) == contended) {
            wake_one();
        }
    }

private:
    static constexpr int free = 0;
    static constexpr int locked = 1;    // held, nobody sleeps on it
    static constexpr int contended = 2; // held, and a waiter may sleep on it
    static constexpr int spins = 64;

    void lock_contended() noexcept {
        for (int i = 0; i < spins; ++i) {
            relax();
            if (m_state.load(std::memory_order_relaxed) == free) {
                int expected = free;
                if (m_state.compare_exchange_weak(expected, locked, std::memory_order_acquire,
                                                  std::memory_order_relaxed)) {
                    return;
                }
            }
        }
        // Marks the word contended before sleeping: the holder's unlock then notifies. Taking
        // it this way leaves it marked (a later unlock may notify nobody: harmless).
        while (m_state.exchange(contended, std::memory_order_acquire) != free) {
            m_state.wait(contended, std::memory_order_relaxed);
        }
    }

    // Out of line: keeps the uncontended unlock small enough to inline.
    [[gnu::noinline]] void wake_one() noexcept { m_state.notify_one(); }

    static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }

    std::atomic<int> m_state{free};
};

} // namespace eddy::detail
