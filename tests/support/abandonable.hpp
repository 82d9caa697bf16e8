// tests/support/abandonable.hpp - runs a task that a test may abandon midway: destroying the
// handle destroys the whole suspended chain of frames, as a crash of the owner would leave
// things (no unwinding through catch blocks, no further side effects).
#pragma once

#include <coroutine> // std::coroutine_handle, std::suspend_never, std::suspend_always
#include <exception> // std::exception_ptr, std::current_exception
#include <utility>   // std::exchange, std::move

#include <eddy/core/task.hpp>

namespace eddy::test {

/// A started coroutine that keeps its frame at the end, owned by this handle.
class abandonable {
public:
    struct promise_type {
        std::exception_ptr error;
        abandonable get_return_object() {
            return abandonable(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { error = std::current_exception(); }
    };

    abandonable(abandonable&& o) noexcept : m_h(std::exchange(o.m_h, {})) {}
    abandonable& operator=(abandonable&&) = delete;
    ~abandonable() {
        if (m_h) {
            m_h.destroy(); // finished or not
        }
    }

    [[nodiscard]] bool done() const { return m_h.done(); }
    [[nodiscard]] std::exception_ptr error() const { return m_h.promise().error; }

private:
    explicit abandonable(std::coroutine_handle<promise_type> h) : m_h(h) {}
    std::coroutine_handle<promise_type> m_h;
};

/// Starts `t` on the calling thread; it runs until it first suspends.
inline abandonable start_abandonable(eddy::task<> t) { co_await std::move(t); }

/// The awaiter of a wait that never ends (nobody keeps its handle): only abandoning the
/// chain gets rid of it.
using never = std::suspend_always;

} // namespace eddy::test
