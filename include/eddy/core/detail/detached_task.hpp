// eddy/core/detail/detached_task.hpp - background work that frees itself when it finishes.
#pragma once

#include <coroutine> // std::suspend_never
#include <exception> // std::terminate
#include <utility>   // std::move

#include <eddy/core/task.hpp>

namespace eddy::detail {

// A coroutine that runs at once and destroys its own frame when it finishes; nobody awaits it.
// For library-internal work whose lifetime is tied to shared state and a stop token rather than
// to a frame (stream operators that pull ahead of their consumer): such work reports its outcome
// through that shared state, so an exception escaping it is a bug (terminate).
struct detached_task {
    struct promise_type {
        detached_task get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }
    };
};

inline detached_task run_detached(task<> work) { co_await std::move(work); }

// Starts `work` on the calling thread, which runs it until its first suspension; whoever
// resumes it finishes it. `work` sees the stop token it was given (`with_stop_token`), none
// otherwise, and must not throw.
inline void start_detached(task<> work) { run_detached(std::move(work)); }

} // namespace eddy::detail
