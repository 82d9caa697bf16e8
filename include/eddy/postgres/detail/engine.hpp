// eddy/postgres/detail/engine.hpp - what a postgres_storage shares with its stores and streams:
// the I/O loop and its pool, the commit notification, the id generator, the hop back to the
// caller's scheduler, and the transaction a unit of work runs in.
#pragma once

#include <algorithm>  // std::sort, std::adjacent_find, std::min
#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t
#include <exception>  // std::exception_ptr, std::rethrow_exception
#include <functional> // std::function
#include <map>        // std::map
#include <memory>     // std::shared_ptr, std::make_shared, std::unique_ptr
#include <mutex>      // std::mutex, std::lock_guard
#include <optional>   // std::optional
#include <string>     // std::string
#include <utility>    // std::move, std::exchange
#include <vector>     // std::vector

#include <eddy/core/async_event.hpp>
#include <eddy/core/detail/resume_on.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/duplicate_event_id.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/es/uuid_v7_generator.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/detail/loop.hpp>
#include <eddy/postgres/detail/schema.hpp>
#include <eddy/postgres/detail/unit_op.hpp>
#include <eddy/postgres/postgres_options.hpp>

namespace eddy::detail {

// Wakes subscriptions: the current event is set (and replaced) at each commit or poll tick.
class pg_notifier {
public:
    [[nodiscard]] std::shared_ptr<async_event> current() {
        std::lock_guard lock(m_mutex);
        return m_event;
    }
    void notify() {
        std::shared_ptr<async_event> woken;
        {
            std::lock_guard lock(m_mutex);
            woken = std::exchange(m_event, std::make_shared<async_event>());
        }
        woken->set(); // resumes the waiters here; each hops to its scheduler at once
    }

private:
    std::mutex m_mutex;
    std::shared_ptr<async_event> m_event = std::make_shared<async_event>();
};

// The outbox stores' `on_enqueue` callbacks of one storage. A commit that enqueued calls those
// of its outboxes itself, and its NOTIFY (payload "o:<token>:<outbox>") wakes those of the
// other storages (processes) on the schema; a storage ignores its own token's notifications
// (it called its callbacks already).
class pg_outbox_listeners {
public:
    explicit pg_outbox_listeners(std::string token) : m_token(std::move(token)) {}

    [[nodiscard]] const std::string& token() const noexcept { return m_token; }
    // The NOTIFY payload of an enqueue into `outbox`.
    [[nodiscard]] std::string payload(const std::string& outbox) const {
        return "o:" + m_token + ":" + outbox;
    }

    std::uint64_t add(std::string outbox, std::function<void()> f) {
        std::lock_guard lock(m_mutex);
        const std::uint64_t id = ++m_next;
        m_entries.emplace(
            id, entry{std::move(outbox), std::make_shared<std::function<void()>>(std::move(f))});
        return id;
    }
    void remove(std::uint64_t id) {
        std::lock_guard lock(m_mutex);
        m_entries.erase(id);
    }

    // Calls the callbacks of `outboxes` (each once), outside the lock.
    void call(const std::vector<std::string>& outboxes, bool all = false) {
        std::vector<std::shared_ptr<std::function<void()>>> due;
        {
            std::lock_guard lock(m_mutex);
            for (const auto& [id, e] : m_entries) {
                if (all ||
                    std::find(outboxes.begin(), outboxes.end(), e.outbox) != outboxes.end()) {
                    due.push_back(e.f);
                }
            }
        }
        for (const auto& f : due) {
            (*f)();
        }
    }

    // A notification received by the LISTEN connection (I/O thread).
    void notified(const std::string& payload) {
        if (payload == "*") {
            call({}, true); // the listener reconnected: anything may have been enqueued
            return;
        }
        const std::string prefix = "o:" + m_token + ":";
        if (payload.rfind("o:", 0) != 0 || payload.rfind(prefix, 0) == 0) {
            return; // not an enqueue, or this storage's own (already called)
        }
        const std::size_t colon = payload.find(':', 2);
        if (colon != std::string::npos) {
            call({payload.substr(colon + 1)});
        }
    }

private:
    struct entry {
        std::string outbox;
        std::shared_ptr<std::function<void()>> f;
    };
    std::mutex m_mutex;
    std::string m_token;
    std::map<std::uint64_t, entry> m_entries; // guarded by m_mutex
    std::uint64_t m_next = 0;                 // guarded by m_mutex
};

class pg_engine;

// The transaction of one unit of work, as its writes see it.
struct pg_tx {
    // An event to insert when the unit's positions are taken (at the end of the unit).
    struct staged_event {
        std::string stream_id;
        std::uint64_t stream_version = 0;
        uuid id;
        std::string type_name;
        std::uint32_t schema_version = 1;
        std::string payload;
        std::string correlation_id, causation_id, tenant, traceparent, headers;
        std::size_t batch_offset = 0; // of the batch's first event in `events`
        std::size_t batch_size = 0;
    };
    // An append whose positions are known once the unit's are taken.
    struct pending_append {
        std::size_t slot;
        std::uint64_t stream_version;
        std::size_t offset; // its first event's index in `events`
        std::size_t count;
    };

    const pg_lease* lease;
    pg_engine* engine;
    commit_result* result;
    std::vector<staged_event> events;
    std::vector<pending_append> appends;
    std::vector<std::string> enqueued; // outboxes written to (their listeners are called)
};

class pg_engine {
public:
    using op_list = std::vector<std::unique_ptr<pg_unit_op>>;

    pg_engine(std::string conninfo, const postgres_options& o, resume_function resume)
        : m_schema(o.schema), m_resume(std::move(resume)),
          m_notifier(std::make_shared<pg_notifier>()),
          m_outbox(std::make_shared<pg_outbox_listeners>(m_ids.next().to_string())) {
        check_schema_name(m_schema);
        if (o.pool_size == 0) {
            throw error("eddy::postgres: postgres_options::pool_size must be at least 1");
        }
        m_context = "schema '" + m_schema + "'";
        // The schema first on the search path: the user's SQL (a read model's tables) is in it.
        pg_conninfo info{std::move(conninfo), "eddy (" + m_schema + ")", m_schema};
        std::vector<pg_conn_ptr> connections;
        connections.push_back(info.connect_blocking("connecting for " + m_context));
        pg_migrate(connections.back().get(), m_schema);
        while (connections.size() < o.pool_size) {
            connections.push_back(info.connect_blocking("connecting for " + m_context));
        }
        const std::string listen = "LISTEN \"" + m_schema + "\"";
        pg_conn_ptr listener = info.connect_blocking("connecting for " + m_context);
        pg_exec_blocking(listener.get(), listen, {}, "listening for commits in " + m_context);
        connections.push_back(std::move(listener));
        auto notifier = m_notifier;
        auto outbox = m_outbox;
        m_loop = std::make_unique<pg_loop>(
            std::move(connections), std::move(info), listen, m_context, o.poll_interval,
            [notifier] { notifier->notify(); },
            [outbox](const std::string& payload) { outbox->notified(payload); });
    }

    // `sql` with "{s}" as the quoted schema.
    [[nodiscard]] std::string sql(const char* text) const { return in_schema(text, m_schema); }
    // The same for a string literal (a statement of eddy's sent at every commit), built once.
    [[nodiscard]] const std::string& cached_sql(const char* literal) const {
        std::lock_guard lock(m_cached_mutex);
        auto [it, added] = m_cached.try_emplace(literal);
        if (added) {
            it->second = in_schema(literal, m_schema);
        }
        return it->second; // map nodes stay put
    }
    [[nodiscard]] const std::string& schema() const noexcept { return m_schema; }
    [[nodiscard]] const std::string& channel() const noexcept { return m_schema; }
    [[nodiscard]] const std::shared_ptr<pg_loop_state>& loop_state() const noexcept {
        return m_loop->state();
    }
    [[nodiscard]] std::shared_ptr<async_event> commits() const { return m_notifier->current(); }
    [[nodiscard]] uuid next_id() { return m_ids.next(); }
    [[nodiscard]] const std::shared_ptr<pg_outbox_listeners>& outbox_listeners() const noexcept {
        return m_outbox;
    }
    // Awaited: back onto the storage's scheduler (after a statement resumed on the I/O thread).
    [[nodiscard]] resume_awaiter hop() const noexcept { return resume_awaiter(m_resume); }
    // The storage's one T (default-constructed at the first call), shared by every object on
    // the storage that asks for it (the event stores' group-commit queue).
    template <class T>
    [[nodiscard]] std::shared_ptr<T> shared_state() {
        std::lock_guard lock(m_shared_mutex);
        std::shared_ptr<void>& slot = m_shared[&shared_state_key<T>];
        if (!slot) {
            slot = std::make_shared<T>();
        }
        return std::static_pointer_cast<T>(slot);
    }

    // One statement on a connection of the pool (no transaction), then the hop.
    // `subscription`: a read of a live subscription (a commit waits for it; see commit).
    // `prepare`: eddy's own SQL, prepared once per connection (see pg_lease::prepared).
    static task<pg_rows> read(std::shared_ptr<pg_engine> e, std::string sql, pg_params params,
                              bool subscription = false, bool prepare = false) {
        std::optional<pg_rows> rows;
        std::exception_ptr failure;
        try {
            pg_acquire_awaiter acquire(*e->loop_state());
            const std::size_t slot = co_await acquire;
            pg_lease lease(e->loop_state(), slot);
            pg_query_awaiter q =
                prepare ? lease.prepared(std::move(sql), std::move(params), subscription)
                        : lease.query(std::move(sql), std::move(params), subscription);
            rows.emplace(co_await q);
        } catch (...) {
            failure = std::current_exception();
        }
        co_await e->hop();
        if (failure) {
            std::rethrow_exception(failure);
        }
        co_return std::move(*rows);
    }

    // Runs `ops` in one transaction: the writes, then the events' positions (taken together,
    // inserted, notified), then the writes that need positions, then COMMIT. A commit that
    // wrote events wakes this storage's subscriptions and completes once their reads sent
    // before it completes are answered and handled (with an inline scheduler a waiting
    // subscriber has seen the events by then, whether this commit or the notification woke it).
    static task<commit_result> commit(std::shared_ptr<pg_engine> e, std::shared_ptr<op_list> ops,
                                      std::size_t appends) {
        commit_result result;
        result.appends.resize(appends);
        bool wrote = false;
        std::vector<std::string> enqueued;
        auto body = [e = e.get(), ops = ops.get(), r = &result, w = &wrote,
                     q = &enqueued](pg_lease* lease) { return run_ops(e, lease, ops, r, w, q); };
        task<std::exception_ptr> transaction = in_transaction(e.get(), std::move(body));
        const std::exception_ptr failure = co_await std::move(transaction);
        if (!failure && wrote) {
            e->m_loop->commit_notify();
            pg_settle_awaiter settle(*e->loop_state());
            co_await settle;
        }
        co_await e->hop();
        if (failure) {
            std::rethrow_exception(failure);
        }
        if (!enqueued.empty()) {
            e->m_outbox->call(enqueued);
        }
        co_return result;
    }

    // Runs `body(lease)` (a task<void>) in a transaction on a connection of the pool: BEGIN,
    // the body, COMMIT; ROLLBACK when anything failed after BEGIN. The failure is returned,
    // not thrown: the connection is back in the pool by then, before the caller wakes anyone.
    template <class Body>
    static task<std::exception_ptr> in_transaction(pg_engine* e, Body body) {
        std::exception_ptr failure;
        std::optional<pg_lease> lease;
        bool open = false;
        try {
            pg_acquire_awaiter acquire(*e->loop_state());
            const std::size_t slot = co_await acquire;
            lease.emplace(e->loop_state(), slot);
            pg_query_awaiter begin = lease->query("BEGIN");
            co_await begin;
            open = true;
            task<void> work = body(&*lease);
            co_await std::move(work);
            pg_query_awaiter commit = lease->query("COMMIT");
            co_await commit;
            open = false;
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure && open) {
            pg_query_awaiter rollback = lease->query("ROLLBACK");
            try {
                co_await rollback;
            } catch (...) { // NOLINT: a broken connection rolled back already
            }
        }
        co_return failure;
    }

    // Runs `op` alone in a transaction of its own (a store's multi-statement write).
    static task<void> run_alone(std::shared_ptr<pg_engine> e, std::unique_ptr<pg_unit_op> op) {
        auto ops = std::make_shared<op_list>();
        ops->push_back(std::move(op));
        task<commit_result> t = commit(std::move(e), std::move(ops), 0);
        (void)co_await std::move(t);
    }

private:
    static task<void> insert_events(pg_engine* e, pg_tx* tx);

    // A unit's writes inside its transaction: those before positions, the events, the rest.
    static task<void> run_ops(pg_engine* e, pg_lease* lease, op_list* ops, commit_result* result,
                              bool* wrote, std::vector<std::string>* enqueued) {
        pg_tx tx{lease, e, result, {}, {}, {}};
        for (auto& op : *ops) {
            if (!op->after_positions()) {
                co_await op->run(&tx);
            }
        }
        *wrote = !tx.events.empty();
        co_await insert_events(e, &tx);
        for (auto& op : *ops) {
            if (op->after_positions()) {
                co_await op->run(&tx);
            }
        }
        *enqueued = std::move(tx.enqueued);
    }

    std::string m_schema;
    std::string m_context;
    resume_function m_resume;
    std::shared_ptr<pg_notifier> m_notifier;
    uuid_v7_generator m_ids;
    std::shared_ptr<pg_outbox_listeners> m_outbox;
    mutable std::mutex m_cached_mutex;
    mutable std::map<const char*, std::string> m_cached; // guarded by m_cached_mutex
    // One slot per type (keyed by the address of its shared_state_key).
    template <class T>
    static constexpr char shared_state_key = 0;
    std::mutex m_shared_mutex;
    std::map<const void*, std::shared_ptr<void>> m_shared; // guarded by m_shared_mutex
    // Declared last: destroyed first, so the I/O thread ends before what it uses.
    std::unique_ptr<pg_loop> m_loop;
};

// Takes the unit's positions (one allocation for all its events), inserts the events, notifies
// listeners (delivered at COMMIT) and fills in the appends' results.
inline task<void> pg_engine::insert_events(pg_engine* e, pg_tx* tx) {
    std::uint64_t base = 0;
    if (tx->events.empty()) {
        if (tx->appends.empty()) {
            co_return;
        }
        pg_query_awaiter last =
            tx->lease->prepared(e->cached_sql("SELECT coalesce(max(position), 0) FROM {s}.events"));
        const pg_rows rows = co_await last;
        base = rows.u64(0, 0);
    } else {
        std::vector<std::pair<uuid, std::size_t>> ids;
        for (std::size_t i = 0; i < tx->events.size(); ++i) {
            ids.emplace_back(tx->events[i].id, i);
        }
        std::sort(ids.begin(), ids.end());
        const auto twice =
            std::adjacent_find(ids.begin(), ids.end(),
                               [](const auto& a, const auto& b) { return a.first == b.first; });
        if (twice != ids.end()) {
            throw duplicate_event_id(twice->first, tx->events[twice->second].stream_id,
                                     duplicate_event_id::reason::repeated,
                                     "the id appears twice in the batch or unit of work");
        }
        pg_params p;
        p.integer(static_cast<std::int64_t>(tx->events.size())).text(e->channel());
        pg_query_awaiter allocate = tx->lease->prepared(
            e->cached_sql("SELECT {s}.allocate_positions($1), pg_notify($2, '')"), std::move(p));
        const pg_rows first = co_await allocate;
        base = first.u64(0, 0) - 1;
        constexpr std::size_t chunk = 500; // 14 parameters a row; at most 65535 a statement
        for (std::size_t from = 0; from < tx->events.size(); from += chunk) {
            const std::size_t to = std::min(tx->events.size(), from + chunk);
            std::string text = e->cached_sql(
                "INSERT INTO {s}.events (position, stream_id, stream_version, event_id, "
                "type_name, schema_version, correlation_id, causation_id, tenant, traceparent, "
                "headers, payload, batch_first, batch_last) VALUES ");
            pg_params values;
            for (std::size_t i = from; i < to; ++i) {
                pg_tx::staged_event& ev = tx->events[i];
                const std::size_t n = (i - from) * 14;
                auto at = [n](std::size_t k) { return "$" + std::to_string(n + k); };
                text += (i == from ? "(" : ", (") + at(1) + "::bigint, " + at(2) + "::text, " +
                        at(3) + "::bigint, " + at(4) + "::uuid, " + at(5) + "::text, " + at(6) +
                        "::integer, " + at(7) + "::text, " + at(8) + "::text, " + at(9) +
                        "::text, " + at(10) + "::text, " + at(11) + "::jsonb, " + at(12) +
                        "::bytea, " + at(13) + "::bigint, " + at(14) + "::bigint)";
                values.integer(static_cast<std::int64_t>(base + i + 1))
                    .text(std::move(ev.stream_id))
                    .integer(static_cast<std::int64_t>(ev.stream_version))
                    .text(ev.id.to_string())
                    .text(std::move(ev.type_name))
                    .integer(ev.schema_version)
                    .text(std::move(ev.correlation_id))
                    .text(std::move(ev.causation_id))
                    .text(std::move(ev.tenant))
                    .text(std::move(ev.traceparent))
                    .text(std::move(ev.headers))
                    .bytes(std::move(ev.payload))
                    .integer(static_cast<std::int64_t>(base + ev.batch_offset + 1))
                    .integer(static_cast<std::int64_t>(base + ev.batch_offset + ev.batch_size));
            }
            // Prepared (one text per row count) only for a few rows: a larger insert's parsing
            // is small beside its rows, and its prepared form would hold server memory.
            constexpr std::size_t prepared_rows = 16;
            pg_query_awaiter insert = to - from <= prepared_rows
                                          ? tx->lease->prepared(std::move(text), std::move(values))
                                          : tx->lease->query(std::move(text), std::move(values));
            co_await insert;
        }
    }
    for (const pg_tx::pending_append& a : tx->appends) {
        tx->result->appends[a.slot] =
            append_result{a.stream_version, base + a.offset + 1, base + a.offset + a.count};
    }
}

} // namespace eddy::detail
