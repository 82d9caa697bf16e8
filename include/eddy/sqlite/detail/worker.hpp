// eddy/sqlite/detail/worker.hpp - a thread owning one SQLite connection and running the jobs
// posted to it: the writer (jobs batched into transactions: group commit) or the reader.
#pragma once

#include <algorithm>          // std::none_of
#include <atomic>             // std::atomic
#include <chrono>             // std::chrono::steady_clock
#include <condition_variable> // std::condition_variable
#include <coroutine>          // std::coroutine_handle
#include <cstdint>            // std::int64_t, std::uint64_t
#include <deque>              // std::deque
#include <exception>          // std::exception_ptr, std::current_exception
#include <functional>         // std::function
#include <memory>             // std::shared_ptr, std::unique_ptr
#include <mutex>              // std::mutex, std::unique_lock
#include <string>             // std::string
#include <thread>             // std::thread
#include <utility>            // std::move
#include <vector>             // std::vector

#include <sqlite3.h>

#include <eddy/core/error.hpp>
#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/sqlite_options.hpp>

namespace eddy::detail {

// Work for a worker thread. An awaited job lives in the frame of the coroutine awaiting it (see
// sqlite_op): `complete` resumes that coroutine, after which the job must not be touched.
struct sqlite_job {
    virtual void execute(connection& c) = 0; // on the worker thread; may throw
    virtual void complete() { waiter.resume(); }
    std::exception_ptr error;
    std::coroutine_handle<> waiter;
    bool writes = true; // a writer job that changed nothing need not wake subscribers
    // A plain event-store append (writer only): it writes only its events and its stream's row,
    // keeps the connection's position cache exact, and may execute again after a rollback (its
    // result is then replaced). The writer runs consecutive ones without a savepoint each.
    bool plain_append = false;

protected:
    ~sqlite_job() = default;
};

// What the threads share with the storage: the queue, the stop flag and the commit hook. Held by
// the thread itself (shared_ptr), so a storage released on its own worker thread can detach it.
struct sqlite_worker_state {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<sqlite_job*> queue; // guarded by mutex
    bool stopping = false;         // guarded by mutex
    std::unique_ptr<connection> conn;
    sqlite_options options;
    std::function<void()> after_commit;       // writer: wakes subscribers; reader: unused
    std::function<void(connection&)> on_idle; // reader: polls for other processes' commits
    // Writer statistics (observability, and tests of group commit).
    std::atomic<std::uint64_t> transactions{0}; // write transactions committed
    std::atomic<std::uint64_t> jobs{0};         // jobs that committed in them
};

class sqlite_worker {
public:
    sqlite_worker(std::unique_ptr<connection> conn, const sqlite_options& o, bool writer,
                  std::function<void()> after_commit, std::function<void(connection&)> on_idle)
        : m_state(std::make_shared<sqlite_worker_state>()) {
        m_state->conn = std::move(conn);
        m_state->options = o;
        m_state->after_commit = std::move(after_commit);
        m_state->on_idle = std::move(on_idle);
        m_thread =
            std::thread(writer ? &sqlite_worker::write_loop : &sqlite_worker::read_loop, m_state);
    }
    sqlite_worker(const sqlite_worker&) = delete;
    sqlite_worker& operator=(const sqlite_worker&) = delete;

    // Lets the thread finish what is queued, then stops it. On the worker's own thread (the
    // last owner of the storage was a coroutine resumed there) it cannot be joined: detached, it
    // ends by itself and frees the state it holds.
    ~sqlite_worker() {
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

    [[nodiscard]] std::size_t queued() const {
        std::lock_guard lock(m_state->mutex);
        return m_state->queue.size();
    }
    [[nodiscard]] std::uint64_t transactions() const noexcept {
        return m_state->transactions.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t committed_jobs() const noexcept {
        return m_state->jobs.load(std::memory_order_relaxed);
    }

    void post(sqlite_job* job) {
        {
            std::lock_guard lock(m_state->mutex);
            if (m_state->stopping) {
                throw error("eddy::sqlite: the storage is closed");
            }
            m_state->queue.push_back(job);
        }
        m_state->wake.notify_one();
    }

private:
    // Takes up to `max` jobs, waiting for one (and polling on idle) until stopping.
    static std::vector<sqlite_job*> take(sqlite_worker_state& s, std::size_t max) {
        std::vector<sqlite_job*> out;
        std::unique_lock lock(s.mutex);
        while (s.queue.empty() && !s.stopping) {
            if (s.on_idle) {
                if (s.wake.wait_for(lock, s.options.poll_interval) == std::cv_status::timeout &&
                    s.queue.empty()) {
                    lock.unlock();
                    s.on_idle(*s.conn);
                    lock.lock();
                }
            } else {
                s.wake.wait(lock);
            }
        }
        move_queued(s, out, max);
        return out;
    }

    // Under s.mutex: queued jobs into `jobs`, oldest first, until it holds `max`.
    static void move_queued(sqlite_worker_state& s, std::vector<sqlite_job*>& jobs,
                            std::size_t max) {
        while (!s.queue.empty() && jobs.size() < max) {
            jobs.push_back(s.queue.front());
            s.queue.pop_front();
        }
    }

    static void finish(const std::vector<sqlite_job*>& jobs) {
        for (sqlite_job* j : jobs) {
            j->complete(); // j is gone after this
        }
    }

    static void read_loop(std::shared_ptr<sqlite_worker_state> s) {
        for (;;) {
            std::vector<sqlite_job*> jobs = take(*s, 1);
            if (jobs.empty()) {
                return;
            }
            try {
                jobs[0]->execute(*s->conn);
            } catch (...) {
                jobs[0]->error = std::current_exception();
            }
            finish(jobs);
        }
    }

    // Rolls back what is open after a failure; SQLite may already have done it.
    static void rollback(connection& c) {
        if (!c.autocommit()) {
            sqlite3_exec(c.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        }
    }

    // Takes the jobs queued meanwhile into the running group (up to `max` in all), without
    // waiting: appenders resumed by the previous group's commit join this one instead of
    // forming the next, so groups stay large (one commit, one fsync, for more jobs).
    static bool take_more(sqlite_worker_state& s, std::vector<sqlite_job*>& jobs, std::size_t max) {
        std::lock_guard lock(s.mutex);
        const std::size_t before = jobs.size();
        move_queued(s, jobs, max);
        return jobs.size() > before;
    }

    // Executes `j` in a savepoint of its own. False when SQLite rolled the whole transaction
    // back; throws when a savepoint statement fails (the caller then rolls back everything).
    static bool run_alone(connection& c, sqlite_job& j) {
        c.cached("SAVEPOINT eddy_unit").run();
        try {
            j.execute(c);
            c.cached("RELEASE eddy_unit").run();
        } catch (...) {
            j.error = std::current_exception();
            c.positions().forget();
            if (c.autocommit()) {
                return false; // SQLite rolled the whole transaction back (disk full, I/O error)
            }
            c.cached("ROLLBACK TO eddy_unit").run();
            c.cached("RELEASE eddy_unit").run();
        }
        if (!j.plain_append) {
            c.positions().forget(); // a unit's SQL may have changed anything
        }
        return true;
    }

    // Executes plain append `i` without a savepoint: jobs 0..i-1 of the group are plain appends
    // too, so the transaction holds nothing that cannot be done again. Every check of a plain
    // append (expected version, event ids) reads before its first write, so one that fails there
    // left nothing to undo. One that fails after writing (a constraint, a full disk) is undone
    // with the whole transaction; a new one begins and the jobs before it execute again, each
    // in a savepoint of its own, from then on as every job after it.
    static bool run_bare(connection& c, std::vector<sqlite_job*>& jobs, std::size_t i, bool& bare) {
        sqlite_job& j = *jobs[i];
        // A failed statement leaves nothing (SQLite undoes it, or the whole transaction), and
        // only completed statements count as changes: an unchanged count means nothing written.
        const std::int64_t before = c.total_changes();
        try {
            j.execute(c);
            return true;
        } catch (...) {
            j.error = std::current_exception();
        }
        if (!c.autocommit() && c.total_changes() == before) {
            return true; // failed by a check, before its first write
        }
        bare = false;
        rollback(c);
        c.exec("BEGIN IMMEDIATE", "beginning a write transaction on");
        c.positions().forget();
        // From the transaction's start, in the same order: each gets the result (or the error)
        // it has in what commits. `j` keeps its error and is not executed again.
        for (std::size_t k = 0; k < i; ++k) {
            jobs[k]->error = nullptr;
            if (!run_alone(c, *jobs[k])) {
                return false;
            }
        }
        return true;
    }

    // Runs the group's jobs in one write transaction (taking in the jobs queued meanwhile, up to
    // `max`), each with its own result or error, then commits what succeeded.
    static void run_group(sqlite_worker_state& s, std::vector<sqlite_job*>& jobs, std::size_t max,
                          bool& wrote) {
        connection& c = *s.conn;
        try {
            c.exec("BEGIN IMMEDIATE", "beginning a write transaction on");
        } catch (...) {
            for (sqlite_job* j : jobs) {
                j->error = std::current_exception();
            }
            return;
        }
        c.positions().forget(); // another process may have appended since our last transaction
        bool bare = true;       // every write so far is a plain append's (see run_bare)
        std::exception_ptr failed;
        try {
            bool alive = true;
            for (std::size_t i = 0; alive; ++i) {
                if (i == jobs.size() && !take_more(s, jobs, max)) {
                    break;
                }
                if (jobs[i]->plain_append && bare) {
                    alive = run_bare(c, jobs, i, bare);
                } else {
                    bare = false;
                    alive = run_alone(c, *jobs[i]);
                }
            }
            if (!alive) {
                failed = std::make_exception_ptr(error(
                    "eddy::sqlite: the write transaction on '" + c.path() +
                    "' was rolled back by SQLite after an error in another unit of its group"));
            }
        } catch (...) {
            failed = std::current_exception(); // a SAVEPOINT or BEGIN failed: give up the group
            rollback(c);
        }
        if (!failed) {
            if (std::none_of(jobs.begin(), jobs.end(),
                             [](const sqlite_job* j) { return !j->error; })) {
                rollback(c); // every unit failed: nothing to commit (and nothing to fsync)
            } else {
                try {
                    c.exec("COMMIT", "committing to");
                    s.transactions.fetch_add(1, std::memory_order_relaxed);
                } catch (...) {
                    failed = std::current_exception();
                    rollback(c);
                }
            }
        }
        for (sqlite_job* j : jobs) {
            if (failed && !j->error) {
                j->error = failed;
            }
            wrote = wrote || (!j->error && j->writes);
            if (!j->error) {
                s.jobs.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }

    static void write_loop(std::shared_ptr<sqlite_worker_state> s) {
        std::size_t max = s->options.group_commit ? s->options.max_group : 1;
        max = max == 0 ? 1 : max;
        for (;;) {
            std::vector<sqlite_job*> jobs = take(*s, max);
            if (jobs.empty()) {
                return;
            }
            bool wrote = false;
            run_group(*s, jobs, max, wrote);
            if (wrote && s->after_commit) {
                s->after_commit();
            }
            finish(jobs);
        }
    }

    std::shared_ptr<sqlite_worker_state> m_state;
    std::thread m_thread;
};

} // namespace eddy::detail
