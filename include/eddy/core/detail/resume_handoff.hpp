// eddy/core/detail/resume_handoff.hpp - who continues the awaiter when a resumed coroutine stops.
#pragma once

#include <atomic>    // std::atomic
#include <coroutine> // std::coroutine_handle, std::noop_coroutine

namespace eddy::detail {

// The protocol between an awaiter that resumes a coroutine (a task being awaited, a stream
// producer being pulled) and that coroutine when it stops (finishes, or yields a value).
//
// Why not plain symmetric transfer: it is not a guaranteed tail call on g++ 12 at -O0/-O1 or
// under ASan, so a loop of a million synchronously completing awaits overflows the stack.
// A coroutine that stops inside run()'s resume() (on this thread) sets a plain flag — a
// thread-local names the coroutine being run, so no atomic is needed — and run() tells the
// awaiter not to suspend: the loop runs in constant stack. A coroutine that suspended may stop
// on another thread at any moment: then whoever comes second of (run(), stop()) continues the
// awaiter, decided by one atomic exchange.
class resume_handoff {
public:
    // Resumes `self` until it stops or suspends elsewhere; returns whether the awaiter must
    // suspend. Precondition: `self` is suspended and no other run() of it is in progress.
    bool run(std::coroutine_handle<> self, std::coroutine_handle<> awaiter) noexcept {
        m_awaiter = awaiter;
        m_stopped_inline = false;
        // The last exchange happened-before this call (the awaiter saw it, or was resumed by
        // the thread that made it), so a relaxed reset is enough.
        m_stopped.store(false, std::memory_order_relaxed);
        resume_handoff*& slot = running();
        resume_handoff* const outer = slot;
        slot = this;
        self.resume();
        slot = outer;
        if (m_stopped_inline) {
            return false;
        }
        return !m_stopped.exchange(true, std::memory_order_acq_rel);
    }

    // Called by the coroutine when it stops; returns what to continue: the awaiter, or nothing
    // (the awaiter continues by itself). Touches nothing of the coroutine after the exchange.
    std::coroutine_handle<> stop() noexcept {
        if (running() == this) {
            m_stopped_inline = true; // same thread as run(): no race
            return std::noop_coroutine();
        }
        // acq_rel: publishes the result to the awaiter, and sees its m_awaiter.
        if (m_stopped.exchange(true, std::memory_order_acq_rel)) {
            return m_awaiter;
        }
        return std::noop_coroutine();
    }

private:
    // The innermost run() in progress on this thread.
    static resume_handoff*& running() noexcept {
        static thread_local resume_handoff* current = nullptr;
        return current;
    }

    std::coroutine_handle<> m_awaiter;
    std::atomic<bool> m_stopped{false};
    bool m_stopped_inline = false; // written and read only by the thread in run()
};

} // namespace eddy::detail
