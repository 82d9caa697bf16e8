// eddy/core/thread_pool.hpp - a fixed set of threads that resume coroutines, with timers.
#pragma once

#include <atomic>             // std::atomic (idle count read without the lock)
#include <chrono>             // std::chrono::steady_clock
#include <condition_variable> // std::condition_variable
#include <coroutine>          // std::coroutine_handle
#include <cstddef>            // std::size_t
#include <exception>          // std::terminate
#include <mutex>              // std::mutex, std::unique_lock
#include <stop_token>         // std::stop_token
#include <thread>             // std::thread
#include <vector>             // std::vector

#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/timer_awaiter.hpp>
#include <eddy/core/detail/timer_heap.hpp>
#include <eddy/core/error.hpp>

namespace eddy {

/// A pool of `n` threads resuming coroutines, plus one timer thread for `schedule_after`.
/// Work scheduled from outside the pool goes to a shared FIFO queue; work a pool thread
/// schedules goes to that thread's own FIFO queue (no lock), which is shared with the other
/// threads whenever one of them is idle. There is no finer work stealing: a coroutine that
/// blocks its thread delays that thread's local queue until it is shared.
///
/// `co_await pool.schedule()` resumes the caller on one of the pool's threads;
/// `co_await pool.schedule_after(d)` resumes it there once `d` has passed, or earlier with
/// `eddy::operation_cancelled` when the awaiting task's stop token is triggered. Queuing never
/// allocates (the queue node lives in the awaiter).
/// Shutdown (`shutdown()` or the destructor): armed timers are cancelled (their waits throw
/// `operation_cancelled` on a pool thread), then the threads run the queue until it is empty,
/// including work that queued work queues, and exit. `schedule()` once every thread has exited
/// throws `eddy::error`; arming a timer during shutdown cancels it at once.
/// Lifetime: the pool must outlive every coroutine that may still be queued on it.
/// Precondition: `shutdown()` and the destructor are not called from a pool thread (`shutdown()`
/// throws `eddy::error`; the destructor, which cannot throw, calls `std::terminate`).
/// Thread-safety: every member may be called from any thread.
///
///     eddy::thread_pool pool(4);
///     auto work = [](eddy::thread_pool& p) -> eddy::task<int> {
///         co_await p.schedule(); // now on a pool thread
///         co_return 42;
///     };
///     int v = eddy::sync_wait(work(pool));
class thread_pool {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using duration = clock::duration;

    /// Starts `threads` worker threads and the timer thread. Zero threads is bad input.
    explicit thread_pool(std::size_t threads) {
        if (threads == 0) {
            throw error("eddy::thread_pool: needs at least one thread");
        }
        m_running = threads;
        m_workers.reserve(threads);
        for (std::size_t i = 0; i < threads; ++i) {
            m_workers.emplace_back([this] { worker_loop(); });
        }
        m_timer_thread = std::thread([this] { timer_loop(); });
    }

    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;
    /// Shuts down as `shutdown()` does. On a pool thread: `std::terminate` (a programming error
    /// that a destructor cannot report by throwing).
    ~thread_pool() {
        if (on_pool_thread()) {
            std::terminate();
        }
        stop();
    }

    [[nodiscard]] std::size_t thread_count() const noexcept { return m_workers.size(); }

    /// True on one of this pool's worker threads.
    [[nodiscard]] bool on_pool_thread() const noexcept { return current() == this; }

    [[nodiscard]] time_point now() const noexcept { return clock::now(); }

    class schedule_awaiter : private detail::work_node {
    public:
        explicit schedule_awaiter(thread_pool& pool) noexcept : m_pool(&pool) {}
        bool await_ready() const noexcept { return false; }
        EDDY_AWAIT_SUSPEND_NOINLINE void await_suspend(std::coroutine_handle<> h) {
            m_handle = h;
            m_pool->post(*this);
        }
        void await_resume() const noexcept {}

    private:
        thread_pool* m_pool;
    };

    /// `co_await pool.schedule()` resumes the caller on a pool thread.
    [[nodiscard]] schedule_awaiter schedule() noexcept { return schedule_awaiter{*this}; }

    /// `co_await pool.schedule_after(d)` resumes the caller on a pool thread after `d`.
    [[nodiscard]] detail::timer_awaiter<thread_pool> schedule_after(duration d) noexcept {
        return schedule_at(now() + d);
    }

    /// `co_await pool.schedule_at(t)` resumes the caller on a pool thread at `t`.
    [[nodiscard]] detail::timer_awaiter<thread_pool> schedule_at(time_point t) noexcept {
        return detail::timer_awaiter<thread_pool>{*this, t};
    }

    /// Cancels armed timers, runs the queue dry and joins every thread. Idempotent; concurrent
    /// callers return once the first has finished.
    void shutdown() {
        if (on_pool_thread()) {
            throw error("eddy::thread_pool: shutdown called from one of the pool's own threads");
        }
        stop();
    }

private:
    friend class detail::timer_awaiter<thread_pool>;

    // shutdown() off the pool's threads. Queuing a cancelled timer cannot fail here: the
    // workers exit only after the timers have been drained below.
    void stop() {
        // A second concurrent caller waits here until the first has joined every thread.
        std::lock_guard shutting_down(m_shutdown_mutex);
        {
            std::lock_guard lock(m_timer_mutex);
            if (!m_timers_stopping) {
                m_timers_stopping = true;
                while (!m_timers.empty()) {
                    detail::timer_node& node = m_timers.pop();
                    node.m_cancelled = true;
                    enqueue(node); // cannot fail: see enqueue()
                }
            }
        }
        m_timer_cv.notify_all();
        if (m_timer_thread.joinable()) {
            m_timer_thread.join();
        }
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_cv.notify_all();
        for (std::thread& worker : m_workers) {
            if (worker.joinable()) {
                worker.join();
            }
        }
    }

    static thread_pool*& current() noexcept {
        static thread_local thread_pool* pool = nullptr;
        return pool;
    }

    // The queue of the pool thread running this code (nullptr elsewhere).
    static detail::work_queue*& local() noexcept {
        static thread_local detail::work_queue* queue = nullptr;
        return queue;
    }

    void post(detail::work_node& node) {
        if (!enqueue(node)) {
            throw error("eddy::thread_pool: work scheduled after the pool shut down");
        }
    }

    // A pool thread's own posts go to its local queue: no lock, no notification. That is the
    // common case (a coroutine on the pool hopping or yielding) and what makes a hop cheap.
    // Other threads post to the shared queue. Returns false once every worker has exited.
    // The timer paths (noexcept) call it directly and ignore the result: a timer is armed only
    // before shutdown drains the timers, and the workers exit only after that.
    bool enqueue(detail::work_node& node) noexcept {
        if (current() == this) {
            local()->push(node);
            return true;
        }
        bool wake = false;
        {
            std::lock_guard lock(m_mutex);
            if (m_running == 0) {
                return false;
            }
            m_queue.push(node);
            wake = m_idle.load(std::memory_order_relaxed) > 0;
        }
        // Only a sleeping worker needs a notification; a busy one checks the queue before it
        // sleeps (under the lock), so nothing is lost.
        if (wake) {
            m_cv.notify_one();
        }
        return true;
    }

    void worker_loop() {
        current() = this;
        detail::work_queue mine;
        local() = &mine;
        unsigned local_streak = 0;
        for (;;) {
            // Local work first, but look at the shared queue every 64 items so work posted from
            // outside is not starved by a busy local queue.
            if (!mine.empty() && ++local_streak % 64 != 0) {
                detail::work_node& next = mine.pop();
                share_surplus(mine);
                next.m_handle.resume();
                continue;
            }
            std::unique_lock lock(m_mutex);
            if (!m_queue.empty()) {
                std::coroutine_handle<> next = m_queue.pop().m_handle;
                lock.unlock();
                next.resume();
                continue;
            }
            if (!mine.empty()) {
                continue;
            }
            if (m_stopping) {
                --m_running;
                break;
            }
            m_idle.fetch_add(1, std::memory_order_relaxed);
            m_cv.wait(lock);
            m_idle.fetch_sub(1, std::memory_order_relaxed);
        }
        local() = nullptr;
    }

    // When another worker sleeps, the rest of the local queue moves to the shared queue (one
    // O(1) splice) and wakes it, so a burst of local work still spreads over the pool.
    void share_surplus(detail::work_queue& mine) {
        if (mine.empty() || m_idle.load(std::memory_order_relaxed) == 0) {
            return;
        }
        {
            std::lock_guard lock(m_mutex);
            m_queue.splice(mine);
        }
        m_cv.notify_all();
    }

    void timer_loop() {
        std::unique_lock lock(m_timer_mutex);
        while (!m_timers_stopping) {
            if (m_timers.empty()) {
                m_timer_cv.wait(lock);
                continue;
            }
            const time_point deadline = m_timers.top().m_deadline;
            if (deadline <= clock::now()) {
                detail::timer_node& node = m_timers.pop();
                enqueue(node); // cannot fail: see enqueue()
                continue;
            }
            m_timer_cv.wait_until(lock, deadline);
        }
    }

    // Scheduler protocol of detail::timer_awaiter.
    bool arm_timer(detail::timer_node& node, const std::stop_token& token) {
        bool earliest = false;
        {
            std::lock_guard lock(m_timer_mutex);
            if (m_timers_stopping || token.stop_requested()) {
                return false;
            }
            m_timers.push(node);
            earliest = &m_timers.top() == &node;
        }
        if (earliest) {
            m_timer_cv.notify_one();
        }
        return true;
    }
    void cancel_timer(detail::timer_node& node) noexcept {
        // Under the timer lock: shutdown cancels every armed timer under it before the workers
        // stop, so a timer found armed here can still be queued.
        std::lock_guard lock(m_timer_mutex);
        if (m_timers.erase(node)) {
            node.m_cancelled = true;
            enqueue(node); // cannot fail: see enqueue()
        }
    }

    std::mutex m_shutdown_mutex;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    detail::work_queue m_queue;
    std::atomic<std::size_t> m_idle{0}; // changed under m_mutex, read without it by post()
    std::size_t m_running = 0;
    bool m_stopping = false;
    std::vector<std::thread> m_workers;

    std::mutex m_timer_mutex;
    std::condition_variable m_timer_cv;
    detail::timer_heap m_timers;
    bool m_timers_stopping = false;
    std::thread m_timer_thread;
};

} // namespace eddy
