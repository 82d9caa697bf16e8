// eddy/core/detail/resume_on.hpp - moving a coroutine suspended on a foreign thread (a
// storage's worker, an I/O thread) back onto its scheduler.
#pragma once

#include <coroutine>  // std::coroutine_handle
#include <exception>  // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <functional> // std::function

#include <eddy/core/detail/detached_task.hpp>

namespace eddy::detail {

// Resumes `h` on `s`. The code after `co_await s->schedule()` runs on the scheduler's thread,
// with no eddy::task between the two: awaiting a task that only hops could continue `h` on the
// foreign thread that started it (whichever of two threads comes second continues a task's
// awaiter, and the scheduler may finish the hop before the starter returns). A scheduler that
// refuses (shut down) resumes `h` here, with its error in `failed`.
template <class Scheduler>
detached_task resume_on(Scheduler* s, std::coroutine_handle<> h, std::exception_ptr* failed) {
    try {
        co_await s->schedule();
    } catch (...) {
        *failed = std::current_exception();
    }
    h.resume();
}

// A type-erased resume_on for one scheduler (an engine keeps one, given by its storage).
using resume_function = std::function<void(std::coroutine_handle<>, std::exception_ptr*)>;

template <class Scheduler>
[[nodiscard]] resume_function resume_on_function(Scheduler& s) {
    return [s = &s](std::coroutine_handle<> h, std::exception_ptr* failed) {
        resume_on(s, h, failed);
    };
}

// `co_await resume_awaiter(f)` continues where `f` resumes it (rethrowing its error).
class resume_awaiter {
public:
    explicit resume_awaiter(const resume_function& f) noexcept : m_resume(&f) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { (*m_resume)(h, &m_failed); }
    void await_resume() const {
        if (m_failed) {
            std::rethrow_exception(m_failed);
        }
    }

private:
    const resume_function* m_resume;
    std::exception_ptr m_failed;
};

} // namespace eddy::detail
