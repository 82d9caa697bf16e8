// eddy/nats/detail/nats_worker.hpp - a dedicated thread running blocking libnats calls (pull
// fetches, acknowledgements, administration) for coroutines, which then hop back to their
// scheduler.
#pragma once

#include <condition_variable> // std::condition_variable
#include <coroutine>          // std::coroutine_handle
#include <deque>              // std::deque
#include <exception>          // std::exception_ptr, std::current_exception
#include <functional>         // std::function
#include <memory>             // std::shared_ptr, std::make_shared
#include <mutex>              // std::mutex, std::unique_lock
#include <thread>             // std::thread
#include <utility>            // std::move

#include <eddy/core/error.hpp>

namespace eddy::detail {

// One blocking call for a worker; lives in the frame of the coroutine awaiting it.
struct nats_job {
    std::function<void()> run;
    std::exception_ptr error;
    std::coroutine_handle<> waiter;
};

struct nats_worker_state {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<nats_job*> queue; // guarded by mutex
    bool stopping = false;       // guarded by mutex
};

// libnats 3.4's pull fetch blocks its thread until a record comes or its wait ends: each group
// member fetches on a thread of its own, never on a scheduler thread.
class nats_worker {
public:
    nats_worker() : m_state(std::make_shared<nats_worker_state>()), m_thread(&loop, m_state) {}
    nats_worker(const nats_worker&) = delete;
    nats_worker& operator=(const nats_worker&) = delete;
    // Runs what is queued, then stops. On its own thread (its owner was released by a coroutine
    // resumed there) it cannot join itself: detached, it ends alone and frees what it holds.
    ~nats_worker() {
        {
            std::lock_guard lock(m_state->mutex);
            m_state->stopping = true;
        }
        m_state->wake.notify_all();
        if (m_thread.get_id() == std::this_thread::get_id()) {
            m_thread.detach();
        } else {
            m_thread.join();
        }
    }

    // `co_await worker.run(f)` runs `f` on the worker thread and resumes there; yields what `f`
    // threw (or nothing), so the caller can hop back to its scheduler before rethrowing.
    struct awaiter {
        nats_worker* worker;
        nats_job job;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) {
            job.waiter = h;
            worker->post(&job); // may resume h on the worker before this returns: touch nothing
        }
        std::exception_ptr await_resume() noexcept { return job.error; }
    };
    [[nodiscard]] awaiter run(std::function<void()> f) {
        return awaiter{this, {std::move(f), {}, {}}};
    }

private:
    void post(nats_job* job) {
        {
            std::lock_guard lock(m_state->mutex);
            if (m_state->stopping) {
                throw error("eddy::nats: the worker thread has stopped");
            }
            m_state->queue.push_back(job);
        }
        m_state->wake.notify_one();
    }

    static void loop(std::shared_ptr<nats_worker_state> s) {
        for (;;) {
            nats_job* job = nullptr;
            {
                std::unique_lock lock(s->mutex);
                s->wake.wait(lock, [&s] { return s->stopping || !s->queue.empty(); });
                if (s->queue.empty()) {
                    return;
                }
                job = s->queue.front();
                s->queue.pop_front();
            }
            try {
                job->run();
            } catch (...) {
                job->error = std::current_exception();
            }
            job->waiter.resume(); // job is gone after this
        }
    }

    std::shared_ptr<nats_worker_state> m_state;
    std::thread m_thread;
};

} // namespace eddy::detail
