// tests/support/detached.hpp - starts a task without waiting for it, so a test of a
// synchronisation primitive (event, latch, mutex, semaphore, channel) can leave a waiter suspended
// inside the primitive, resume it from the test body, and then inspect how it ended.
#pragma once

#include <eddy/core/task.hpp>

#include <coroutine> // std::suspend_never
#include <exception> // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <utility>   // std::move

namespace eddy::test {

/// What became of a task started with `start`: whether it finished, and the exception it
/// finished with, if any.
struct outcome {
    bool done = false;
    std::exception_ptr error;
};

/// A coroutine that runs eagerly and frees its frame when it finishes; nobody awaits it.
/// An exception escaping it is a bug in the test, hence `std::terminate`.
struct detached {
    struct promise_type {
        detached get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
};

/// Runs `t` on the calling thread until it first suspends; whoever resumes it finishes it.
/// `*out` must outlive the task; it records completion and any exception `t` ends with.
inline detached start(eddy::task<> t, outcome* out) {
    try {
        co_await std::move(t);
    } catch (...) {
        out->error = std::current_exception();
    }
    out->done = true;
}

/// True when `o` ended with an exception of type `E` (or derived from it).
template <class E>
bool failed_with(const outcome& o) {
    if (!o.error) {
        return false;
    }
    try {
        std::rethrow_exception(o.error);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

} // namespace eddy::test
