// eddy/postgres/detail/loop.hpp - the I/O thread of a postgres_storage: it owns the pool's
// connections and the LISTEN connection, sends statements with libpq's non-blocking calls
// (PQsendQueryParams, or PQsendPrepare once per connection and statement then
// PQsendQueryPrepared; PQflush, PQconsumeInput, PQisBusy, PQgetResult), waits for socket
// readiness with poll(2), reconnects broken connections (PQconnectStartParams/PQconnectPoll),
// and resumes the coroutine awaiting each statement on this thread.
#pragma once

#include <algorithm>     // std::find
#include <chrono>        // std::chrono::steady_clock, std::chrono::milliseconds
#include <coroutine>     // std::coroutine_handle
#include <cstddef>       // std::size_t
#include <cstdint>       // std::uint64_t
#include <deque>         // std::deque
#include <exception>     // std::exception_ptr, std::make_exception_ptr, std::rethrow_exception
#include <functional>    // std::function
#include <memory>        // std::shared_ptr, std::make_shared
#include <mutex>         // std::mutex, std::lock_guard, std::unique_lock
#include <string>        // std::string, std::to_string
#include <thread>        // std::thread
#include <unordered_map> // std::unordered_map
#include <utility>       // std::move, std::exchange
#include <vector>        // std::vector

#include <set> // std::set

#include <poll.h>        // poll
#include <sys/eventfd.h> // eventfd
#include <unistd.h>      // read, write, close

#include <eddy/core/error.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/postgres_error.hpp>

namespace eddy::detail {

// One statement awaited by a coroutine; lives in that coroutine's frame (see pg_lease::query).
struct pg_query {
    std::size_t slot = 0;
    std::string sql;
    pg_params params;
    std::string context;
    pg_rows rows;
    std::exception_ptr error;
    std::coroutine_handle<> waiter;
    bool subscription = false; // a read of a live subscription (see pg_loop_state::reading)
    bool first = false;        // the first statement of its lease (see start_query)
    bool prepare = false;      // eddy's own SQL: prepared once per connection (see pg_slot)
    std::uint64_t seq = 0;     // its number among those reads
};

struct pg_acquirer {
    std::size_t slot = 0;
    std::exception_ptr error;
    std::coroutine_handle<> waiter;
};

// A connection of the loop. Touched only on the I/O thread once the loop runs.
struct pg_slot {
    enum class state { idle, busy, connecting, down };
    pg_conn_ptr conn;
    state st = state::idle;
    bool broken = false;   // lost while leased: every statement fails until released
    bool flushing = false; // PQflush has more to send
    bool listener = false;
    PostgresPollingStatusType connect_poll = PGRES_POLLING_WRITING;
    pg_query* query = nullptr; // the statement in flight (busy)
    pg_result_ptr result;      // the last result of the statement in flight
    pg_result_ptr failure;     // its first failed result
    // Prepared statements of this session (SQL text -> name; cleared on reconnection). Parsing
    // and planning are most of the server's time for eddy's short statements, so each of
    // eddy's own statements is prepared on first use (a prepared statement outlives a rolled
    // back transaction). The user's SQL never is (its tables may change under it). Bounded:
    // past the bound, new texts are sent unprepared.
    static constexpr std::size_t max_prepared = 128;
    std::unordered_map<std::string, std::string> prepared;
    std::string preparing; // the name being prepared for `query` (busy), or empty
    // Names given so far: never reused, since a statement the map forgot may still exist.
    std::uint64_t named = 0;
};

// What the I/O thread shares with the storage. Held by the thread too, so a storage released on
// the I/O thread itself can detach it.
struct pg_loop_state {
    std::mutex mutex;
    std::deque<pg_query*> submitted;            // guarded by mutex
    std::vector<std::coroutine_handle<>> ready; // guarded by mutex
    std::deque<pg_acquirer*> acquirers;         // guarded by mutex
    std::vector<std::size_t> free;              // guarded by mutex
    std::vector<std::size_t> released;          // guarded by mutex
    bool stopping = false;                      // guarded by mutex
    std::thread::id loop_id;                    // guarded by mutex
    int wake_fd = -1;

    pg_conninfo conninfo;
    std::string listen_sql;
    std::string context;
    std::chrono::milliseconds poll_interval{250};
    std::function<void()> on_commit; // wakes subscriptions (I/O thread)
    // A notification with a payload (a commit's has none), or "*" when the listener connected
    // again and notifications may have been missed (I/O thread).
    std::function<void(const std::string&)> on_message;
    std::vector<pg_slot> slots; // the pool, then the listener; I/O thread only

    // Commit barrier: a commit that wrote events completes once the reads of live
    // subscriptions sent before it (or while it woke them) are answered and handled, so that
    // with an inline scheduler a waiting subscriber has seen the commit when it completes.
    std::uint64_t read_seq = 0;      // guarded by mutex
    std::set<std::uint64_t> reading; // guarded by mutex: those reads in flight
    struct settle_waiter {
        std::uint64_t barrier;
        std::coroutine_handle<> waiter;
    };
    std::vector<settle_waiter> settling; // guarded by mutex

    ~pg_loop_state() {
        if (wake_fd >= 0) {
            ::close(wake_fd);
        }
    }

    void wake() const noexcept {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof one);
    }

    // Any thread. Queues a statement for the I/O thread.
    void submit(pg_query* q) {
        bool on_loop = false;
        {
            std::lock_guard lock(mutex);
            if (q->subscription) {
                q->seq = ++read_seq;
                reading.insert(q->seq);
            }
            submitted.push_back(q);
            on_loop = std::this_thread::get_id() == loop_id;
        }
        if (!on_loop) {
            wake(); // the I/O thread sends what was submitted on it before it polls again
        }
    }

    // Any thread. A leased connection back: the I/O thread reconnects it or hands it on.
    void release(std::size_t slot) {
        {
            std::lock_guard lock(mutex);
            released.push_back(slot);
        }
        wake();
    }

    // I/O thread: the connection to the next waiting coroutine, or to the free list.
    void give(std::size_t slot) {
        std::lock_guard lock(mutex);
        if (!acquirers.empty()) {
            pg_acquirer* a = acquirers.front();
            acquirers.pop_front();
            a->slot = slot;
            ready.push_back(a->waiter);
        } else {
            free.push_back(slot);
        }
    }
};

// Awaits a free connection of the pool (FIFO); resumes on the I/O thread when it had to wait.
class pg_acquire_awaiter {
public:
    explicit pg_acquire_awaiter(pg_loop_state& s) noexcept : m_state(&s) {}
    bool await_ready() noexcept {
        std::lock_guard lock(m_state->mutex);
        if (m_state->free.empty() || !m_state->acquirers.empty()) {
            return false;
        }
        m_acquirer.slot = m_state->free.back();
        m_state->free.pop_back();
        return true;
    }
    bool await_suspend(std::coroutine_handle<> h) {
        m_acquirer.waiter = h;
        std::lock_guard lock(m_state->mutex);
        if (!m_state->free.empty() && m_state->acquirers.empty()) {
            m_acquirer.slot = m_state->free.back();
            m_state->free.pop_back();
            return false;
        }
        m_state->acquirers.push_back(&m_acquirer);
        return true;
    }
    std::size_t await_resume() {
        if (m_acquirer.error) {
            std::rethrow_exception(m_acquirer.error);
        }
        return m_acquirer.slot;
    }

private:
    pg_loop_state* m_state;
    pg_acquirer m_acquirer;
};

// Awaits one statement on a leased connection; resumes on the I/O thread.
class pg_query_awaiter {
public:
    pg_query_awaiter(pg_loop_state& s, std::size_t slot, std::string sql, pg_params params,
                     std::string context, bool subscription = false, bool first = false,
                     bool prepare = false)
        : m_state(&s) {
        m_query.subscription = subscription;
        m_query.first = first;
        m_query.prepare = prepare;
        m_query.slot = slot;
        m_query.sql = std::move(sql);
        m_query.params = std::move(params);
        m_query.context = std::move(context);
    }
    // Movable only before it is awaited (g++ 12 wants a move for a coroutine's local).
    pg_query_awaiter(pg_query_awaiter&&) = default;
    pg_query_awaiter& operator=(pg_query_awaiter&&) = delete;

    // Awaited through a pointer: g++ 12 copies an lvalue awaiter otherwise.
    struct awaiter {
        pg_query_awaiter* self;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) const {
            self->m_query.waiter = h;
            self->m_state->submit(&self->m_query); // may resume h on the I/O thread at once
        }
        pg_rows await_resume() const {
            if (self->m_query.error) {
                std::rethrow_exception(self->m_query.error);
            }
            return std::move(self->m_query.rows);
        }
    };
    awaiter operator co_await() & noexcept { return awaiter{this}; }

private:
    pg_loop_state* m_state;
    pg_query m_query;
};

// Awaits the reads of live subscriptions sent so far (see pg_loop_state::reading); resumes on
// the I/O thread when it had to wait.
class pg_settle_awaiter {
public:
    explicit pg_settle_awaiter(pg_loop_state& s) noexcept : m_state(&s) {}
    bool await_ready() const {
        std::lock_guard lock(m_state->mutex);
        return m_state->reading.empty();
    }
    bool await_suspend(std::coroutine_handle<> h) {
        std::lock_guard lock(m_state->mutex);
        if (m_state->reading.empty()) {
            return false;
        }
        m_state->settling.push_back({m_state->read_seq, h});
        return true;
    }
    void await_resume() const noexcept {}

private:
    pg_loop_state* m_state;
};

// A leased connection: released (to the pool, or to be reconnected) when destroyed.
class pg_lease {
public:
    pg_lease(std::shared_ptr<pg_loop_state> s, std::size_t slot) noexcept
        : m_state(std::move(s)), m_slot(slot) {}
    pg_lease(pg_lease&& o) noexcept
        : m_state(std::move(o.m_state)), m_slot(o.m_slot), m_used(o.m_used) {}
    pg_lease& operator=(pg_lease&&) = delete;
    ~pg_lease() { reset(); }

    void reset() noexcept {
        if (m_state) {
            m_state->release(m_slot);
            m_state.reset();
        }
    }
    // Build as a named local, then co_await it (g++ 12: no temporaries with strings inside a
    // co_await expression).
    // `subscription`: a read of a live subscription (commits wait for it; see settle).
    [[nodiscard]] pg_query_awaiter query(std::string sql, pg_params params = {},
                                         bool subscription = false) const {
        pg_query_awaiter q(*m_state, m_slot, std::move(sql), std::move(params), m_state->context,
                           subscription, !m_used);
        m_used = true;
        return q;
    }
    // Like query, for eddy's own SQL (a bounded set of texts, on tables eddy migrates only
    // forward): prepared once per connection, then executed by name.
    [[nodiscard]] pg_query_awaiter prepared(std::string sql, pg_params params = {},
                                            bool subscription = false) const {
        pg_query_awaiter q(*m_state, m_slot, std::move(sql), std::move(params), m_state->context,
                           subscription, !m_used, true);
        m_used = true;
        return q;
    }

private:
    std::shared_ptr<pg_loop_state> m_state;
    std::size_t m_slot;
    mutable bool m_used = false; // one owner (a coroutine) at a time
};

class pg_loop {
public:
    // `connections`: the pool's (connected, any mode), then the listener's (LISTEN done).
    pg_loop(std::vector<pg_conn_ptr> connections, pg_conninfo conninfo, std::string listen_sql,
            std::string context, std::chrono::milliseconds poll_interval,
            std::function<void()> on_commit,
            std::function<void(const std::string&)> on_message = {})
        : m_state(std::make_shared<pg_loop_state>()) {
        pg_loop_state& s = *m_state;
        s.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (s.wake_fd < 0) {
            throw error("eddy::postgres: eventfd failed");
        }
        s.conninfo = std::move(conninfo);
        s.listen_sql = std::move(listen_sql);
        s.context = std::move(context);
        s.poll_interval = poll_interval;
        s.on_commit = std::move(on_commit);
        s.on_message = std::move(on_message);
        for (std::size_t i = 0; i < connections.size(); ++i) {
            pg_slot slot;
            PQsetnonblocking(connections[i].get(), 1);
            slot.conn = std::move(connections[i]);
            slot.listener = i + 1 == connections.size();
            if (!slot.listener) {
                s.free.push_back(s.slots.size());
            }
            s.slots.push_back(std::move(slot));
        }
        m_thread = std::thread(&pg_loop::run, m_state);
    }
    pg_loop(const pg_loop&) = delete;
    pg_loop& operator=(const pg_loop&) = delete;

    // Nothing is in flight (every operation holds the storage). On the I/O thread itself (the
    // last owner was a coroutine resumed there) the thread cannot be joined: it ends by itself.
    ~pg_loop() {
        {
            std::lock_guard lock(m_state->mutex);
            m_state->stopping = true;
        }
        m_state->wake();
        if (m_thread.get_id() == std::this_thread::get_id()) {
            m_thread.detach();
        } else {
            m_thread.join();
        }
    }

    [[nodiscard]] const std::shared_ptr<pg_loop_state>& state() const noexcept { return m_state; }

    // Wakes subscriptions after a commit of this storage.
    void commit_notify() { m_state->on_commit(); }

private:
    using clock = std::chrono::steady_clock;

    static void resume_query(pg_loop_state& s, pg_query* q) {
        const bool subscription = q->subscription;
        const std::uint64_t seq = q->seq;
        q->waiter.resume(); // q is gone after this
        if (subscription) {
            std::lock_guard lock(s.mutex);
            s.reading.erase(seq);
            const std::uint64_t oldest = s.reading.empty() ? ~std::uint64_t{0} : *s.reading.begin();
            std::erase_if(s.settling, [&s, oldest](const pg_loop_state::settle_waiter& w) {
                if (w.barrier < oldest) {
                    s.ready.push_back(w.waiter);
                    return true;
                }
                return false;
            });
        }
    }

    static void fail_query(pg_loop_state& s, pg_query* q, std::exception_ptr e) {
        q->error = std::move(e);
        resume_query(s, q);
    }

    static void start_query(pg_loop_state& s, pg_query* q) {
        pg_slot& slot = s.slots[q->slot];
        if (q->first && slot.st == pg_slot::state::idle && !usable(slot)) {
            // Dropped by the server while it sat in the pool (nothing of this lease was sent on
            // it): connect again, then send (or fail q if no connection can be made).
            start_connect(s, q->slot, q);
            return;
        }
        if (slot.broken || slot.st != pg_slot::state::idle ||
            PQstatus(slot.conn.get()) != CONNECTION_OK) {
            slot.broken = true;
            fail_query(s, q,
                       std::make_exception_ptr(pg_connection_error(slot.conn.get(), q->context)));
            return;
        }
        const std::string* name = nullptr;
        if (q->prepare) {
            auto known = slot.prepared.find(q->sql);
            if (known != slot.prepared.end()) {
                name = &known->second;
            } else if (slot.prepared.size() < pg_slot::max_prepared) {
                start_prepare(s, slot, q);
                return;
            }
        }
        const pg_params::view v = q->params.pointers();
        const int n = static_cast<int>(q->params.size());
        const int sent =
            name != nullptr
                ? PQsendQueryPrepared(slot.conn.get(), name->c_str(), n, v.values.data(),
                                      v.lengths.data(), q->params.formats(), 0)
                : PQsendQueryParams(slot.conn.get(), q->sql.c_str(), n, nullptr, v.values.data(),
                                    v.lengths.data(), q->params.formats(), 0);
        if (sent == 0) {
            slot.broken = PQstatus(slot.conn.get()) != CONNECTION_OK;
            fail_query(s, q,
                       std::make_exception_ptr(pg_connection_error(slot.conn.get(), q->context)));
            return;
        }
        const int flushed = PQflush(slot.conn.get());
        if (flushed < 0) {
            slot.broken = true;
            fail_query(s, q,
                       std::make_exception_ptr(pg_connection_error(slot.conn.get(), q->context)));
            return;
        }
        slot.st = pg_slot::state::busy;
        slot.query = q;
        slot.flushing = flushed == 1; // the rest is sent when the socket is writable
    }

    // Prepares q's statement on its (idle, working) connection; q is sent once it is prepared
    // (see finish_query). Names are never reused within a session.
    static void start_prepare(pg_loop_state& s, pg_slot& slot, pg_query* q) {
        std::string name = "eddy_" + std::to_string(++slot.named);
        if (PQsendPrepare(slot.conn.get(), name.c_str(), q->sql.c_str(),
                          static_cast<int>(q->params.size()), nullptr) == 0) {
            slot.broken = PQstatus(slot.conn.get()) != CONNECTION_OK;
            fail_query(s, q,
                       std::make_exception_ptr(pg_connection_error(slot.conn.get(), q->context)));
            return;
        }
        const int flushed = PQflush(slot.conn.get());
        if (flushed < 0) {
            slot.broken = true;
            fail_query(s, q,
                       std::make_exception_ptr(pg_connection_error(slot.conn.get(), q->context)));
            return;
        }
        slot.st = pg_slot::state::busy;
        slot.query = q;
        slot.preparing = std::move(name);
        slot.flushing = flushed == 1;
    }

    // Whether an idle connection still works: reads what the server may have sent meanwhile (a
    // termination notice and the end of the stream), without blocking.
    static bool usable(pg_slot& slot) {
        PGconn* c = slot.conn.get();
        return !slot.broken && PQstatus(c) == CONNECTION_OK && PQconsumeInput(c) != 0 &&
               PQstatus(c) == CONNECTION_OK;
    }

    // Whether `sql` may drop the session's prepared statements (DEALLOCATE, DISCARD ALL; any
    // case): a false positive costs preparing again.
    static bool may_drop_prepared(const std::string& sql) {
        std::string lower = sql;
        for (char& c : lower) {
            c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        }
        return lower.find("deallocate") != std::string::npos ||
               lower.find("discard") != std::string::npos;
    }

    // The statement in flight on `slot` is answered (or the connection failed).
    static void finish_query(pg_loop_state& s, pg_slot& slot, bool lost) {
        pg_query* q = std::exchange(slot.query, nullptr);
        slot.st = pg_slot::state::idle;
        slot.flushing = false;
        pg_result_ptr result = std::move(slot.result);
        pg_result_ptr failure = std::move(slot.failure);
        std::string prepared = std::exchange(slot.preparing, std::string());
        if (lost || PQstatus(slot.conn.get()) != CONNECTION_OK) {
            slot.broken = true;
        }
        if (q == nullptr) {
            return; // the listener's LISTEN
        }
        if (!q->prepare && may_drop_prepared(q->sql)) {
            slot.prepared.clear(); // the user's DEALLOCATE or DISCARD: prepare again
        }
        if (!prepared.empty() && !failure && !slot.broken && result) {
            // Prepared: now the statement itself (q is no longer its lease's first).
            slot.prepared.emplace(q->sql, std::move(prepared));
            q->first = false;
            start_query(s, q);
            return;
        }
        if (failure) {
            const char* state = PQresultErrorField(failure.get(), PG_DIAG_SQLSTATE);
            if (state != nullptr && std::string(state) == "26000") {
                // Unknown prepared statement: the session's were dropped (by the user's SQL);
                // prepare again from now on.
                slot.prepared.clear();
            }
            const bool no_state = state == nullptr;
            q->error = std::make_exception_ptr(
                no_state && slot.broken ? pg_connection_error(slot.conn.get(), q->context)
                                        : pg_result_error(failure.get(), q->context));
        } else if (slot.broken || !result) {
            q->error = std::make_exception_ptr(pg_connection_error(slot.conn.get(), q->context));
        } else {
            q->rows = pg_rows(std::move(result));
        }
        resume_query(s, q);
    }

    // Reads what the server sent on a busy or idle connection; true when it is broken.
    static bool consume(pg_loop_state& s, pg_slot& slot) {
        PGconn* c = slot.conn.get();
        if (PQconsumeInput(c) == 0) {
            return true;
        }
        if (slot.st == pg_slot::state::busy) {
            while (PQisBusy(c) == 0) {
                PGresult* r = PQgetResult(c);
                if (r == nullptr) {
                    finish_query(s, slot, false);
                    break;
                }
                pg_result_ptr owned(r);
                const ExecStatusType st = PQresultStatus(r);
                if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE ||
                    st == PGRES_NONFATAL_ERROR) {
                    if (!slot.failure) {
                        slot.failure = std::move(owned);
                    }
                } else {
                    slot.result = std::move(owned);
                }
            }
        }
        if (slot.listener) {
            bool notified = false;
            while (PGnotify* n = PQnotifies(c)) {
                const std::string payload = n->extra != nullptr ? n->extra : "";
                PQfreemem(n);
                if (payload.empty()) {
                    notified = true;
                } else if (s.on_message) {
                    s.on_message(payload);
                }
            }
            if (notified) {
                s.on_commit();
            }
        }
        return PQstatus(c) != CONNECTION_OK;
    }

    // `pending`: a lease's first statement, sent once connected.
    static void start_connect(pg_loop_state& s, std::size_t i, pg_query* pending = nullptr) {
        pg_slot& slot = s.slots[i];
        slot.conn.reset(s.conninfo.start());
        slot.prepared.clear(); // a new session
        slot.preparing.clear();
        slot.broken = false;
        slot.flushing = false;
        slot.query = pending;
        slot.result.reset();
        slot.failure.reset();
        if (!slot.conn || PQstatus(slot.conn.get()) == CONNECTION_BAD) {
            connect_failed(s, i);
            return;
        }
        slot.st = pg_slot::state::connecting;
        slot.connect_poll = PGRES_POLLING_WRITING;
    }

    // Retried at the next tick; a coroutine waiting for a connection learns why there is none.
    static void connect_failed(pg_loop_state& s, std::size_t i) {
        pg_slot& slot = s.slots[i];
        slot.st = pg_slot::state::down;
        if (slot.listener) {
            return;
        }
        const std::exception_ptr e = std::make_exception_ptr(
            pg_connection_error(slot.conn.get(), s.context + " (connecting)"));
        if (pg_query* q = std::exchange(slot.query, nullptr)) {
            // Leased: not retried at ticks (another coroutine would get it), but when released.
            slot.st = pg_slot::state::idle;
            slot.broken = true;
            fail_query(s, q, e);
            return;
        }
        std::lock_guard lock(s.mutex);
        if (!s.acquirers.empty()) {
            pg_acquirer* a = s.acquirers.front();
            s.acquirers.pop_front();
            a->error = e;
            s.ready.push_back(a->waiter);
        }
    }

    static void connected(pg_loop_state& s, std::size_t i) {
        pg_slot& slot = s.slots[i];
        PQsetnonblocking(slot.conn.get(), 1);
        slot.st = pg_slot::state::idle;
        if (pg_query* q = std::exchange(slot.query, nullptr)) {
            start_query(s, q); // a lease's first statement waited for this connection
            return;
        }
        if (slot.listener) {
            // LISTEN again (a statement without a waiter), and wake subscriptions: commits
            // notified while the listener was away are found by reading.
            if (PQsendQuery(slot.conn.get(), s.listen_sql.c_str()) == 0) {
                slot.broken = true;
                return;
            }
            slot.st = pg_slot::state::busy;
            slot.flushing = true;
            s.on_commit();
            if (s.on_message) {
                s.on_message("*");
            }
            return;
        }
        s.give(i);
    }

    // A connection found broken while nobody leases it: reconnect (it is taken off the free
    // list first); a leased one stays broken until released.
    static void broken_while_idle(pg_loop_state& s, std::size_t i) {
        pg_slot& slot = s.slots[i];
        if (slot.listener) {
            start_connect(s, i);
            return;
        }
        bool was_free = false;
        {
            std::lock_guard lock(s.mutex);
            auto it = std::find(s.free.begin(), s.free.end(), i);
            if (it != s.free.end()) {
                s.free.erase(it);
                was_free = true;
            }
        }
        slot.broken = true;
        if (was_free) {
            start_connect(s, i);
        }
    }

    static void handle(pg_loop_state& s, std::size_t i, short revents) {
        pg_slot& slot = s.slots[i];
        switch (slot.st) {
        case pg_slot::state::connecting: {
            slot.connect_poll = PQconnectPoll(slot.conn.get());
            if (slot.connect_poll == PGRES_POLLING_OK) {
                connected(s, i);
            } else if (slot.connect_poll == PGRES_POLLING_FAILED) {
                connect_failed(s, i);
            }
            return;
        }
        case pg_slot::state::busy: {
            if (slot.flushing && (revents & POLLOUT) != 0) {
                const int f = PQflush(slot.conn.get());
                if (f < 0) {
                    finish_query(s, slot, true);
                    return;
                }
                slot.flushing = f == 1;
            }
            if ((revents & (POLLIN | POLLERR | POLLHUP)) != 0 && consume(s, slot)) {
                if (slot.st == pg_slot::state::busy) {
                    finish_query(s, slot, true);
                }
                if (slot.listener) {
                    start_connect(s, i);
                }
            }
            return;
        }
        case pg_slot::state::idle: {
            if ((revents & (POLLIN | POLLERR | POLLHUP)) != 0 && !slot.broken && consume(s, slot)) {
                broken_while_idle(s, i);
            }
            return;
        }
        case pg_slot::state::down:
            return;
        }
    }

    static short events_of(const pg_slot& slot) {
        switch (slot.st) {
        case pg_slot::state::connecting:
            return slot.connect_poll == PGRES_POLLING_READING ? POLLIN : POLLOUT;
        case pg_slot::state::busy:
            return static_cast<short>(POLLIN | (slot.flushing ? POLLOUT : 0));
        case pg_slot::state::idle:
            return slot.broken ? 0 : POLLIN;
        case pg_slot::state::down:
            return 0;
        }
        return 0;
    }

    static void run(std::shared_ptr<pg_loop_state> state) {
        pg_loop_state& s = *state;
        {
            std::lock_guard lock(s.mutex);
            s.loop_id = std::this_thread::get_id();
        }
        auto next_tick = clock::now() + s.poll_interval;
        std::vector<pollfd> fds;
        std::vector<std::size_t> index;
        for (;;) {
            std::vector<std::coroutine_handle<>> ready;
            std::deque<pg_query*> submitted;
            std::vector<std::size_t> released;
            {
                std::lock_guard lock(s.mutex);
                if (s.stopping) {
                    return;
                }
                ready.swap(s.ready);
                submitted.swap(s.submitted);
                released.swap(s.released);
            }
            for (std::size_t i : released) {
                if (s.slots[i].broken || PQstatus(s.slots[i].conn.get()) != CONNECTION_OK) {
                    start_connect(s, i);
                } else {
                    s.give(i);
                }
            }
            for (pg_query* q : submitted) {
                start_query(s, q);
            }
            for (std::coroutine_handle<> h : ready) {
                h.resume();
            }
            int timeout = 0;
            {
                std::lock_guard lock(s.mutex);
                if (s.stopping) {
                    return;
                }
                if (s.ready.empty() && s.submitted.empty() && s.released.empty()) {
                    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        next_tick - clock::now());
                    timeout = left.count() < 0 ? 0 : static_cast<int>(left.count()) + 1;
                }
            }
            fds.clear();
            index.clear();
            fds.push_back(pollfd{s.wake_fd, POLLIN, 0});
            for (std::size_t i = 0; i < s.slots.size(); ++i) {
                const short ev = events_of(s.slots[i]);
                if (ev != 0) {
                    fds.push_back(pollfd{PQsocket(s.slots[i].conn.get()), ev, 0});
                    index.push_back(i);
                }
            }
            ::poll(fds.data(), fds.size(), timeout);
            if ((fds[0].revents & POLLIN) != 0) {
                std::uint64_t count = 0;
                [[maybe_unused]] const auto n = ::read(s.wake_fd, &count, sizeof count);
            }
            for (std::size_t k = 1; k < fds.size(); ++k) {
                if (fds[k].revents != 0) {
                    handle(s, index[k - 1], fds[k].revents);
                }
            }
            if (clock::now() >= next_tick) {
                next_tick = clock::now() + s.poll_interval;
                for (std::size_t i = 0; i < s.slots.size(); ++i) {
                    if (s.slots[i].st == pg_slot::state::down) {
                        start_connect(s, i);
                    }
                }
                s.on_commit(); // polling: waiting subscriptions read again
            }
        }
    }

    std::shared_ptr<pg_loop_state> m_state;
    std::thread m_thread;
};

} // namespace eddy::detail
