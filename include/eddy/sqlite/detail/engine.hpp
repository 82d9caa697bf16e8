// eddy/sqlite/detail/engine.hpp - what a sqlite_storage shares with its stores and streams: the
// writer and reader threads, the commit notification, the id generator and the hop back to the
// caller's scheduler.
#pragma once

#include <coroutine>  // std::coroutine_handle
#include <cstdint>    // std::int64_t, std::uint64_t
#include <exception>  // std::exception_ptr, std::rethrow_exception
#include <functional> // std::function
#include <map>        // std::map
#include <memory>     // std::shared_ptr, std::make_shared, std::make_unique
#include <mutex>      // std::mutex, std::lock_guard
#include <optional>   // std::optional
#include <string>     // std::string
#include <utility>    // std::move, std::exchange
#include <vector>     // std::vector

#include <eddy/core/async_event.hpp>
#include <eddy/core/detail/resume_on.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/es/uuid_v7_generator.hpp>
#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/detail/schema.hpp>
#include <eddy/sqlite/detail/worker.hpp>
#include <eddy/sqlite/sqlite_options.hpp>

namespace eddy::detail {

// Wakes subscriptions: the current event is set (and replaced) after each commit that wrote
// (this process's, or another's found by polling); listeners (outbox relays) are called too.
class sqlite_notifier {
public:
    [[nodiscard]] std::shared_ptr<async_event> current() {
        std::lock_guard lock(m_mutex);
        return m_event;
    }
    void notify() {
        std::shared_ptr<async_event> woken;
        std::vector<std::shared_ptr<std::function<void()>>> listeners;
        {
            std::lock_guard lock(m_mutex);
            woken = std::exchange(m_event, std::make_shared<async_event>());
            listeners.reserve(m_listeners.size());
            for (const auto& [id, f] : m_listeners) {
                listeners.push_back(f);
            }
        }
        woken->set(); // resumes the waiters here; each hops to its scheduler at once
        for (const auto& f : listeners) {
            (*f)();
        }
    }
    std::uint64_t add_listener(std::function<void()> f) {
        std::lock_guard lock(m_mutex);
        const std::uint64_t id = ++m_last_listener;
        m_listeners.emplace(id, std::make_shared<std::function<void()>>(std::move(f)));
        return id;
    }
    void remove_listener(std::uint64_t id) {
        std::lock_guard lock(m_mutex);
        m_listeners.erase(id);
    }

private:
    std::mutex m_mutex;
    std::shared_ptr<async_event> m_event = std::make_shared<async_event>();
    std::map<std::uint64_t, std::shared_ptr<std::function<void()>>> m_listeners;
    std::uint64_t m_last_listener = 0;
};

// A job awaited by a coroutine: runs `fn` on the worker, then resumes the coroutine there.
template <class R>
class sqlite_op final : public sqlite_job {
public:
    sqlite_op(sqlite_worker& w, std::function<R(connection&)> fn, bool writes, bool plain_append)
        : m_worker(&w), m_fn(std::move(fn)) {
        this->writes = writes;
        this->plain_append = plain_append;
    }

    void execute(connection& c) override { m_result.emplace(m_fn(c)); }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        waiter = h;
        m_worker->post(this); // may resume h on the worker before returning: touch nothing after
    }
    R await_resume() {
        if (error) {
            std::rethrow_exception(error);
        }
        return std::move(*m_result);
    }

private:
    sqlite_worker* m_worker;
    std::function<R(connection&)> m_fn;
    std::optional<R> m_result;
};

// A reader job started at once and awaited later (a stream reads its next page while its
// consumer handles the current one). The job owns itself while queued, so dropping the
// prefetch before the job ran is safe.
template <class R>
class sqlite_prefetch {
    struct job final : sqlite_job {
        std::function<R(connection&)> fn;
        std::optional<R> result;
        std::mutex mutex;
        bool done = false;         // guarded by mutex
        std::shared_ptr<job> self; // set while queued

        void execute(connection& c) override { result.emplace(fn(c)); }
        void complete() override {
            const std::shared_ptr<job> keep = std::move(self);
            std::coroutine_handle<> resume;
            {
                std::lock_guard lock(mutex);
                done = true;
                resume = waiter;
            }
            if (resume) {
                resume.resume();
            }
        }
    };

public:
    sqlite_prefetch(sqlite_worker& worker, std::function<R(connection&)> fn)
        : m_job(std::make_shared<job>()) {
        m_job->fn = std::move(fn);
        m_job->self = m_job;
        try {
            worker.post(m_job.get());
        } catch (...) {
            m_job->self.reset();
            throw;
        }
    }

    // Awaits the job; `suspended` says whether the caller now runs on the worker thread.
    class awaiter {
    public:
        awaiter(std::shared_ptr<job> j, bool& suspended)
            : m_job(std::move(j)), m_suspended(&suspended) {}
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> h) {
            std::lock_guard lock(m_job->mutex);
            if (m_job->done) {
                return false;
            }
            m_job->waiter = h;
            *m_suspended = true;
            return true;
        }
        R await_resume() {
            if (m_job->error) {
                std::rethrow_exception(m_job->error);
            }
            return std::move(*m_job->result);
        }

    private:
        std::shared_ptr<job> m_job;
        bool* m_suspended;
    };
    [[nodiscard]] awaiter wait(bool& suspended) const { return awaiter(m_job, suspended); }

private:
    std::shared_ptr<job> m_job;
};

class sqlite_engine {
public:
    sqlite_engine(std::string path, const sqlite_options& o, resume_function resume)
        : m_path(std::move(path)), m_resume(std::move(resume)),
          m_notifier(std::make_shared<sqlite_notifier>()) {
        auto writer = std::make_unique<connection>(m_path, o);
        migrate(*writer);
        auto reader = std::make_unique<connection>(m_path, o);
        auto notifier = m_notifier;
        // data_version changes when another connection (ours or another process's) commits.
        auto last_version = std::make_shared<std::int64_t>(data_version(*reader));
        m_writer = std::make_unique<sqlite_worker>(
            std::move(writer), o, true, [notifier] { notifier->notify(); }, nullptr);
        m_reader = std::make_unique<sqlite_worker>(
            std::move(reader), o, false, nullptr, [notifier, last_version](connection& c) {
                try {
                    const std::int64_t v = data_version(c);
                    if (v != *last_version) {
                        *last_version = v;
                        notifier->notify();
                    }
                } catch (...) { // NOLINT: a failed poll is retried at the next one
                }
            });
    }

    // Runs `fn` on the writer thread (inside the group's transaction, in a savepoint of its
    // own), then resumes the caller on its scheduler. `writes`: whether to wake subscribers.
    template <class R>
    static task<R> write(std::shared_ptr<sqlite_engine> e, std::function<R(connection&)> fn,
                         bool writes = true) {
        return run<R>(std::move(e), true, std::move(fn), writes, false);
    }

    // `write` for a plain event-store append (see sqlite_job::plain_append: `fn` writes only
    // through append_rows with the connection's position cache, and may run again).
    template <class R>
    static task<R> write_plain_append(std::shared_ptr<sqlite_engine> e,
                                      std::function<R(connection&)> fn) {
        return run<R>(std::move(e), true, std::move(fn), true, true);
    }

    // `write` for the writes whose result is only success (`fn` returns true).
    static task<void> write_void(std::shared_ptr<sqlite_engine> e,
                                 std::function<bool(connection&)> fn, bool writes = false) {
        task<bool> w = write<bool>(std::move(e), std::move(fn), writes);
        co_await std::move(w);
    }

    // Runs `fn` on the reader thread (no transaction unless `fn` opens one).
    template <class R>
    static task<R> read(std::shared_ptr<sqlite_engine> e, std::function<R(connection&)> fn) {
        return run<R>(std::move(e), false, std::move(fn), false, false);
    }

    // Starts `fn` on the reader thread now; the result is awaited from the prefetch.
    template <class R>
    [[nodiscard]] sqlite_prefetch<R> prefetch(std::function<R(connection&)> fn) {
        return sqlite_prefetch<R>(*m_reader, std::move(fn));
    }

    // Awaited: continues on the storage's scheduler (after a wait resumed on a worker thread).
    [[nodiscard]] resume_awaiter hop() const noexcept { return resume_awaiter(m_resume); }

    [[nodiscard]] const sqlite_worker& writer() const noexcept { return *m_writer; }
    [[nodiscard]] std::shared_ptr<async_event> commits() const { return m_notifier->current(); }
    [[nodiscard]] const std::shared_ptr<sqlite_notifier>& notifier() const noexcept {
        return m_notifier;
    }
    [[nodiscard]] uuid next_id() { return m_ids.next(); }
    [[nodiscard]] const std::string& path() const noexcept { return m_path; }

private:
    static std::int64_t data_version(connection& c) {
        statement& s = c.cached("PRAGMA data_version");
        std::int64_t v = 0;
        if (s.step()) {
            v = s.int64(0);
            s.reset();
        }
        return v;
    }

    template <class R>
    static task<R> run(std::shared_ptr<sqlite_engine> e, bool on_writer,
                       std::function<R(connection&)> fn, bool writes, bool plain_append) {
        std::optional<R> result;
        std::exception_ptr failure;
        {
            sqlite_op<R> op(on_writer ? *e->m_writer : *e->m_reader, std::move(fn), writes,
                            plain_append);
            try {
                result.emplace(co_await op);
            } catch (...) {
                failure = std::current_exception();
            }
        }
        // Resumed on a worker thread: leave it at once (the worker runs the next job meanwhile).
        co_await e->hop();
        if (failure) {
            std::rethrow_exception(failure);
        }
        co_return std::move(*result);
    }

    std::string m_path;
    resume_function m_resume;
    std::shared_ptr<sqlite_notifier> m_notifier;
    uuid_v7_generator m_ids;
    // Declared last: destroyed first, so the threads end before what they use.
    std::unique_ptr<sqlite_worker> m_writer;
    std::unique_ptr<sqlite_worker> m_reader;
};

} // namespace eddy::detail
