// eddy/core/sync_wait.hpp - block the calling thread until an awaitable completes.
#pragma once

#include <condition_variable> // std::condition_variable
#include <mutex>              // std::mutex
#include <type_traits>        // std::conditional_t
#include <utility>            // std::forward

#include <eddy/core/awaitable.hpp>
#include <eddy/core/detail/driver_task.hpp>

namespace eddy {

namespace detail {

class sync_wait_event {
public:
    void set() {
        // Notify while holding the lock: the waiter may destroy this event as soon as it sees
        // the flag, so nothing of ours may touch it after the unlock.
        std::lock_guard lock(m_mutex);
        m_set = true;
        m_cv.notify_one();
    }
    void wait() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return m_set; });
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_set = false;
};

inline void set_sync_wait_event(void* event) noexcept {
    static_cast<sync_wait_event*>(event)->set();
}

} // namespace detail

/// Runs `awaitable` to completion on the calling thread and returns its result (a reference
/// result stays a reference), or rethrows its exception.
///
/// Eager: starts at once. The awaitable starts on the calling thread; whatever thread finishes
/// it, `sync_wait` returns on the calling thread, which blocks meanwhile.
/// Precondition: not called from a thread the awaitable needs to make progress (e.g. a
/// thread_pool's own worker with one thread, or a virtual_time_scheduler's driver): that
/// deadlocks. The awaitable carries no stop token; use `with_stop_token` on a task for one.
///
///     int v = eddy::sync_wait(compute());
template <class A>
decltype(auto) sync_wait(A&& awaitable) {
    if constexpr (!eddy::awaitable<A>) {
        static_assert(eddy::awaitable<A>,
                      "eddy::sync_wait: the argument is not awaitable (it needs await_ready, "
                      "await_suspend and await_resume, or an operator co_await)");
    } else {
        using result = await_result_t<A>;
        using value = std::conditional_t<std::is_lvalue_reference_v<result>, result,
                                         std::remove_cvref_t<result>>;
        auto driver = detail::make_driver_task<value>(std::forward<A>(awaitable));
        detail::sync_wait_event done;
        driver.start(&detail::set_sync_wait_event, &done);
        done.wait();
        return driver.result();
    }
}

} // namespace eddy
