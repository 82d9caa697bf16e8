// eddy/bus/detail/spin_mutex.hpp - the event bus's lock: a std::mutex that spins briefly before
// it sleeps.
#pragma once

#include <mutex> // std::mutex

namespace eddy::detail {

// The bus's critical sections are short (tens of nanoseconds), and a producer and a consumer
// take the lock at high rates: a plain std::mutex then puts the loser to sleep in the kernel
// and makes the winner's unlock a futex call. Trying a few times first keeps both in user
// space; after that it blocks like std::mutex (so a descheduled holder costs no CPU).
// Lockable (lock, try_lock, unlock): std::lock_guard works, and sanitizers see the std::mutex.
class spin_mutex {
public:
    void lock() {
        for (int i = 0; i < spins; ++i) {
            if (m_mutex.try_lock()) {
                return;
            }
            relax();
        }
        m_mutex.lock();
    }
    bool try_lock() { return m_mutex.try_lock(); }
    void unlock() { m_mutex.unlock(); }

private:
    static constexpr int spins = 64;

    static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }

    std::mutex m_mutex;
};

} // namespace eddy::detail
