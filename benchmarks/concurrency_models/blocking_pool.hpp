// benchmarks/concurrency_models/blocking_pool.hpp - the "fixed pool of blocking threads" model:
// N threads taking std::function jobs from one mutex+condvar queue; a job that waits for I/O
// blocks its thread.
#pragma once

#include <condition_variable> // std::condition_variable
#include <cstddef>            // std::size_t
#include <deque>              // std::deque
#include <functional>         // std::function
#include <mutex>              // std::mutex, std::unique_lock
#include <thread>             // std::jthread
#include <utility>            // std::move
#include <vector>             // std::vector

namespace models {

class blocking_pool {
public:
    explicit blocking_pool(std::size_t threads) {
        m_threads.reserve(threads);
        for (std::size_t i = 0; i < threads; ++i) {
            m_threads.emplace_back([this] { work(); });
        }
    }
    blocking_pool(const blocking_pool&) = delete;
    blocking_pool& operator=(const blocking_pool&) = delete;
    ~blocking_pool() {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_ready.notify_all();
    }

    void post(std::function<void()> job) {
        {
            std::lock_guard lock(m_mutex);
            m_jobs.push_back(std::move(job));
            ++m_pending;
        }
        m_ready.notify_one();
    }

    /// Blocks until every posted job has finished.
    void wait_idle() {
        std::unique_lock lock(m_mutex);
        m_idle.wait(lock, [this] { return m_pending == 0; });
    }

private:
    void work() {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock lock(m_mutex);
                m_ready.wait(lock, [this] { return m_stopping || !m_jobs.empty(); });
                if (m_jobs.empty()) {
                    return;
                }
                job = std::move(m_jobs.front());
                m_jobs.pop_front();
            }
            job();
            std::lock_guard lock(m_mutex);
            if (--m_pending == 0) {
                m_idle.notify_all();
            }
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_ready;
    std::condition_variable m_idle;
    std::deque<std::function<void()>> m_jobs;
    std::size_t m_pending = 0;
    bool m_stopping = false;
    std::vector<std::jthread> m_threads; // last: joined before the rest is destroyed
};

} // namespace models
