// eddy/postgres/detail/group_commit.hpp - group commit of the plain appends of a storage's event
// stores: those that arrive while one of its commits runs wait in the storage's queue
// (pg_engine::shared_state), and the next commit takes them all (in order, up to a bound) into
// one transaction of set-based statements.
#pragma once

#include <algorithm> // std::sort, std::unique, std::max
#include <coroutine> // std::coroutine_handle, std::suspend_always, std::noop_coroutine
#include <cstddef>   // std::size_t
#include <cstdint>   // std::uint64_t, std::int64_t, std::uint32_t
#include <deque>     // std::deque
#include <exception> // std::exception_ptr, std::rethrow_exception, std::terminate
#include <map>       // std::map
#include <memory>    // std::shared_ptr, std::make_shared, std::make_unique
#include <mutex>     // std::mutex, std::lock_guard
#include <optional>  // std::optional
#include <set>       // std::set
#include <string>    // std::string, std::to_string
#include <utility>   // std::move, std::exchange
#include <vector>    // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/append_result.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/event_rows.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/detail/loop.hpp>
#include <eddy/postgres/detail/unit_op.hpp>
#include <eddy/postgres/postgres_error.hpp>

namespace eddy::detail {

// One plain append, in the frame of its own coroutine (pg_group_append) until it completes.
struct pg_group_member {
    pg_group_member(std::string s, expected_version e, std::vector<pg_encoded_proposed> b)
        : stream_id(std::move(s)), expected(e), batch(std::move(b)) {
        for (const pg_encoded_proposed& p : batch) {
            bytes += p.event.bytes.size() + p.event.type_name.size() + 64;
        }
    }
    std::string stream_id;
    expected_version expected;
    std::vector<pg_encoded_proposed> batch;
    std::size_t bytes = stream_id.size(); // roughly what its rows send
    std::optional<append_result> result;  // set by the runner, then
    std::exception_ptr error;             // or this
    std::coroutine_handle<> waiter;       // while queued and committed
    bool hop = true; // false: resumed on the scheduler by a runner that has ended
};

// The queue of a storage's plain appends (one per storage, whatever the store). `running`: a runner
// (pg_group_run) is committing them; it takes the next batch once the last one's appends are
// completed, and stops when it finds the queue empty.
struct pg_group_queue {
    // A batch's bounds (one statement stays bounded; a larger single append goes alone).
    static constexpr std::size_t max_events = 256;
    static constexpr std::size_t max_bytes = std::size_t{1} << 20;

    std::mutex mutex;
    bool running = false;                 // guarded by mutex
    std::deque<pg_group_member*> waiting; // guarded by mutex
};

// The runner of a queue: a coroutine started suspended, resumed by the append that found the
// queue idle (by symmetric transfer, once that append is suspended), and freeing itself when it
// finishes. It never throws: every append gets its result or its error.
struct pg_group_runner {
    struct promise_type {
        pg_group_runner get_return_object() noexcept {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }
    };
    std::coroutine_handle<promise_type> handle;
};

inline pg_group_runner pg_group_run(std::shared_ptr<pg_engine> e,
                                    std::shared_ptr<pg_group_queue> q);

// Queues an append; the first one to find no runner starts one (which runs on this thread
// until its first statement is sent). Resumes on the runner's thread once the append is
// committed (or failed).
class pg_group_join {
public:
    pg_group_join(std::shared_ptr<pg_engine> e, std::shared_ptr<pg_group_queue> q,
                  pg_group_member& m) noexcept
        : m_engine(std::move(e)), m_queue(std::move(q)), m_member(&m) {}
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
        m_member->waiter = h;
        bool start = false;
        {
            std::lock_guard lock(m_queue->mutex);
            m_queue->waiting.push_back(m_member);
            start = !std::exchange(m_queue->running, true);
        }
        if (!start) {
            return std::noop_coroutine();
        }
        return pg_group_run(m_engine, m_queue).handle;
    }
    void await_resume() const noexcept {}

private:
    std::shared_ptr<pg_engine> m_engine;
    std::shared_ptr<pg_group_queue> m_queue;
    pg_group_member* m_member;
};

// A one-dimensional array in PostgreSQL's binary format (what array_recv reads), sent as a
// binary parameter: the server copies its elements instead of parsing an array literal (and
// decoding a bytea's hex form), the largest part of a batch's parsing. Text elements are
// still checked to be valid in the server's encoding.
class pg_binary_array {
public:
    // Element types (pg_type OIDs).
    static constexpr std::uint32_t bytea_oid = 17, int8_oid = 20, int4_oid = 23, text_oid = 25,
                                   uuid_oid = 2950;

    explicit pg_binary_array(std::uint32_t element_oid) : m_oid(element_oid) {}

    // A text or bytea element (as is).
    pg_binary_array& raw(const std::string& v) {
        put32(m_body, static_cast<std::uint32_t>(v.size()));
        m_body += v;
        ++m_count;
        return *this;
    }
    pg_binary_array& int8(std::uint64_t v) {
        put32(m_body, 8);
        put32(m_body, static_cast<std::uint32_t>(v >> 32));
        put32(m_body, static_cast<std::uint32_t>(v));
        ++m_count;
        return *this;
    }
    pg_binary_array& int4(std::uint32_t v) {
        put32(m_body, 4);
        put32(m_body, v);
        ++m_count;
        return *this;
    }
    pg_binary_array& id(const uuid& v) {
        put32(m_body, 16);
        m_body.append(reinterpret_cast<const char*>(v.bytes.data()), v.bytes.size());
        ++m_count;
        return *this;
    }
    // The array: dimensions (none when empty), no nulls, the element type, the elements.
    [[nodiscard]] std::string bytes() const {
        std::string out;
        put32(out, m_count == 0 ? 0 : 1);
        put32(out, 0);
        put32(out, m_oid);
        if (m_count != 0) {
            put32(out, static_cast<std::uint32_t>(m_count));
            put32(out, 1); // lower bound
        }
        return out + m_body;
    }

private:
    static void put32(std::string& out, std::uint32_t v) {
        out += static_cast<char>(v >> 24);
        out += static_cast<char>((v >> 16) & 0xFF);
        out += static_cast<char>((v >> 8) & 0xFF);
        out += static_cast<char>(v & 0xFF);
    }

    std::uint32_t m_oid;
    std::size_t m_count = 0;
    std::string m_body;
};

// A text[] of `items` in binary.
inline std::string pg_text_array(const std::vector<std::string>& items) {
    pg_binary_array a(pg_binary_array::text_oid);
    for (const std::string& item : items) {
        a.raw(item);
    }
    return a.bytes();
}

// One batch: its members, what was decided for each, and the arrays of its events' columns
// (binary arrays, one element per event, for one prepared insert of any size).
struct pg_group_plan {
    explicit pg_group_plan(std::vector<pg_group_member*> m)
        : members(std::move(m)), errors(members.size()), results(members.size()) {}

    struct accepted {
        std::size_t member;
        std::uint64_t version; // the stream's version after it
        std::size_t offset;    // of its first event among the batch's
        std::size_t count;
    };
    struct stream_state {
        std::uint64_t version = 0;
        bool deleted = false;
        bool fresh = false;   // read as a row of defaults (perhaps created by this batch)
        bool kept = false;    // an append to it succeeded
        bool changed = false; // its version moved
    };

    std::vector<pg_group_member*> members;
    std::vector<std::exception_ptr> errors;            // a member's own failure
    std::vector<std::optional<append_result>> results; // known at once (a re-append)
    std::vector<accepted> pending;                     // results once positions are known
    std::size_t events = 0;
    // The columns of its events (in binary: see pg_binary_array).
    pg_binary_array streams{pg_binary_array::text_oid}, versions{pg_binary_array::int8_oid},
        ids{pg_binary_array::uuid_oid}, types{pg_binary_array::text_oid},
        schema_versions{pg_binary_array::int4_oid}, correlations{pg_binary_array::text_oid},
        causations{pg_binary_array::text_oid}, tenants{pg_binary_array::text_oid},
        traceparents{pg_binary_array::text_oid}, headers{pg_binary_array::text_oid},
        payloads{pg_binary_array::bytea_oid}, batch_first{pg_binary_array::int8_oid},
        batch_last{pg_binary_array::int8_oid};

    // Member k against its stream as the batch's earlier members left it (pg_append_op's
    // checks, in its order: an exact re-append, then the expected version).
    void decide(pg_engine& e, std::size_t k, stream_state& st,
                const std::map<uuid, pg_stored_event>& found) {
        const pg_group_member& m = *members[k];
        const std::uint64_t actual = st.deleted ? 0 : st.version;
        try {
            std::map<uuid, pg_stored_event> mine;
            for (const pg_encoded_proposed& p : m.batch) {
                auto it = found.find(p.id);
                if (!p.id.is_nil() && it != found.end()) {
                    mine.emplace(*it);
                }
            }
            append_result again;
            if (pg_stored_batch(m.stream_id, m.batch, mine, again)) {
                results[k] = again;
                st.kept = true;
                return;
            }
            if (!m.expected.accepts(actual)) {
                throw concurrency_conflict(m.stream_id, m.expected, actual);
            }
        } catch (...) {
            errors[k] = std::current_exception();
            return;
        }
        st.kept = true;
        if (m.batch.empty()) {
            pending.push_back(accepted{k, actual, events, 0});
            return;
        }
        for (std::size_t i = 0; i < m.batch.size(); ++i) {
            const pg_encoded_proposed& p = m.batch[i];
            streams.raw(m.stream_id);
            versions.int8(st.version + i + 1);
            ids.id(p.id.is_nil() ? e.next_id() : p.id);
            types.raw(p.event.type_name);
            schema_versions.int4(p.event.schema_version);
            correlations.raw(p.metadata.correlation_id);
            causations.raw(p.metadata.causation_id);
            tenants.raw(p.metadata.tenant);
            traceparents.raw(p.metadata.traceparent);
            headers.raw(pg_encode_headers(p.metadata.headers));
            payloads.raw(p.event.bytes);
            batch_first.int8(events);
            batch_last.int8(events + m.batch.size() - 1);
        }
        st.version += m.batch.size();
        st.deleted = false;
        st.changed = true;
        pending.push_back(accepted{k, st.version, events, m.batch.size()});
        events += m.batch.size();
    }
};

// The batch's statements, inside its transaction: lock (and create) its streams in one
// statement, in byte order of their ids (a deterministic order: batches of any process never
// deadlock with each other, nor with units appending to one stream); read the stored events of
// its explicit ids in one; decide each append in queue order against the versions read and
// those the batch's earlier appends left (as if they ran one after the other); then one
// statement takes the positions of all its events (allocate_positions: after the xid, under
// the allocation's advisory lock, as a unit's), NOTIFYs, inserts them all, sets the streams'
// new versions and removes a stream row it created only for appends that failed (as their
// rolled-back transactions would have left it: absent). An append whose check fails gets its
// own error (nothing of it is written) and does not fail the others.
inline task<void> pg_group_write(pg_engine* e, const pg_lease* lease, pg_group_plan* plan) {
    std::vector<std::string> ids;
    std::string explicit_ids = "{";
    for (const pg_group_member* m : plan->members) {
        ids.push_back(m->stream_id);
        const std::string mine = pg_uuid_array(m->batch);
        if (mine.size() > 2) {
            explicit_ids += (explicit_ids.size() > 1 ? "," : "") + mine.substr(1, mine.size() - 2);
        }
    }
    explicit_ids += "}";
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    // Rows locked (inserted or updated) in the order of the array: ORDER BY its ordinality.
    pg_query_awaiter lock = lease->prepared(
        e->cached_sql("INSERT INTO {s}.streams (stream_id) SELECT u.s FROM "
                      "unnest($1::text[]) WITH ORDINALITY AS u(s, n) ORDER BY u.n "
                      "ON CONFLICT (stream_id) DO UPDATE SET version = {s}.streams.version "
                      "RETURNING stream_id, version, deleted, deleted_before, "
                      "truncate_before, max_count"),
        pg_params().bytes(pg_text_array(ids)));
    const pg_rows locked = co_await lock;
    std::map<std::string, pg_group_plan::stream_state> streams;
    for (int i = 0; i < locked.size(); ++i) {
        pg_group_plan::stream_state st;
        st.version = locked.u64(i, 1);
        st.deleted = locked.boolean(i, 2);
        st.fresh = st.version == 0 && !st.deleted && locked.u64(i, 3) == 0 &&
                   locked.u64(i, 4) == 0 && locked.u64(i, 5) == 0;
        streams.emplace(locked.text(i, 0), st);
    }
    if (streams.size() != ids.size()) {
        throw error("eddy::postgres: a batch of appends locked " + std::to_string(streams.size()) +
                    " of its " + std::to_string(ids.size()) + " streams");
    }
    std::map<uuid, pg_stored_event> found;
    if (explicit_ids.size() > 2) {
        pg_query_awaiter find =
            lease->prepared(e->cached_sql(pg_find_events_sql), pg_params().text(explicit_ids));
        const pg_rows rows = co_await find;
        found = pg_stored_events_of(rows);
    }
    for (std::size_t k = 0; k < plan->members.size(); ++k) {
        plan->decide(*e, k, streams.at(plan->members[k]->stream_id), found);
    }
    pg_binary_array changed(pg_binary_array::text_oid);
    pg_binary_array versions(pg_binary_array::int8_oid);
    std::vector<std::string> dropped;
    for (const auto& [id, st] : streams) {
        if (st.changed) {
            changed.raw(id);
            versions.int8(st.version);
        } else if (st.fresh && !st.kept) {
            dropped.push_back(id);
        }
    }
    std::uint64_t base = 0;
    if (plan->events > 0) {
        pg_params p;
        p.integer(static_cast<std::int64_t>(plan->events))
            .text(e->channel())
            .bytes(plan->streams.bytes())
            .bytes(plan->versions.bytes())
            .bytes(plan->ids.bytes())
            .bytes(plan->types.bytes())
            .bytes(plan->schema_versions.bytes())
            .bytes(plan->correlations.bytes())
            .bytes(plan->causations.bytes())
            .bytes(plan->tenants.bytes())
            .bytes(plan->traceparents.bytes())
            .bytes(plan->headers.bytes())
            .bytes(plan->payloads.bytes())
            .bytes(plan->batch_first.bytes())
            .bytes(plan->batch_last.bytes())
            .bytes(changed.bytes())
            .bytes(versions.bytes())
            .bytes(pg_text_array(dropped));
        // One statement whatever the batch's size (prepared once per connection): the
        // positions first (a materialized CTE runs once), then the writes that use them.
        pg_query_awaiter write = lease->prepared(
            e->cached_sql(
                "WITH p AS MATERIALIZED (SELECT {s}.allocate_positions($1) AS first, "
                "pg_notify($2, '')), "
                "ins AS (INSERT INTO {s}.events (position, stream_id, stream_version, event_id, "
                "type_name, schema_version, correlation_id, causation_id, tenant, traceparent, "
                "headers, payload, batch_first, batch_last) "
                "SELECT p.first + u.n - 1, u.s, u.v, u.id, u.t, u.sv, u.c, u.ca, u.te, u.tp, "
                "u.h::jsonb, u.b, p.first + u.bf, p.first + u.bl FROM p, unnest($3::text[], "
                "$4::bigint[], $5::uuid[], $6::text[], $7::integer[], $8::text[], $9::text[], "
                "$10::text[], $11::text[], $12::text[], $13::bytea[], $14::bigint[], "
                "$15::bigint[]) WITH ORDINALITY AS u(s, v, id, t, sv, c, ca, te, tp, h, b, bf, "
                "bl, n)), "
                "upd AS (UPDATE {s}.streams AS st SET version = x.v, deleted = false FROM "
                "unnest($16::text[], $17::bigint[]) AS x(s, v) WHERE st.stream_id = x.s), "
                "del AS (DELETE FROM {s}.streams WHERE stream_id = ANY($18::text[]) AND "
                "version = 0 AND NOT deleted AND deleted_before = 0 AND truncate_before = 0 AND "
                "max_count = 0) "
                "SELECT first FROM p"),
            std::move(p));
        const pg_rows first = co_await write;
        base = first.u64(0, 0) - 1;
    } else {
        if (!dropped.empty()) {
            // Rows of defaults only: whether created now or before, absent is the same stream.
            pg_query_awaiter drop = lease->prepared(
                e->cached_sql("DELETE FROM {s}.streams WHERE stream_id = ANY($1::text[]) AND "
                              "version = 0 AND NOT deleted AND deleted_before = 0 AND "
                              "truncate_before = 0 AND max_count = 0"),
                pg_params().bytes(pg_text_array(dropped)));
            co_await drop;
        }
        if (!plan->pending.empty()) { // empty appends only: after the last position, as a unit's
            pg_query_awaiter last =
                lease->prepared(e->cached_sql("SELECT coalesce(max(position), 0) FROM {s}.events"));
            const pg_rows rows = co_await last;
            base = rows.u64(0, 0);
        }
    }
    for (const pg_group_plan::accepted& a : plan->pending) {
        plan->results[a.member] =
            append_result{a.version, base + a.offset + 1, base + a.offset + a.count};
    }
}

// The next batch: the waiting appends in order, at least one, while they fit the bounds and
// share no event id (a later append re-using an earlier one's id must see it stored, so it goes
// to the next batch). Empty when none waits (the runner is then marked stopped).
inline std::vector<pg_group_member*> pg_group_take(pg_group_queue& q) {
    std::vector<pg_group_member*> batch;
    std::size_t events = 0;
    std::size_t bytes = 0;
    std::set<uuid> ids;
    std::lock_guard lock(q.mutex);
    while (!q.waiting.empty()) {
        pg_group_member* m = q.waiting.front();
        const std::size_t n = std::max<std::size_t>(1, m->batch.size());
        bool fits = batch.empty() || (events + n <= pg_group_queue::max_events &&
                                      bytes + m->bytes <= pg_group_queue::max_bytes);
        for (const pg_encoded_proposed& p : m->batch) {
            fits = fits && (p.id.is_nil() || ids.count(p.id) == 0);
        }
        if (!fits) {
            break;
        }
        for (const pg_encoded_proposed& p : m->batch) {
            if (!p.id.is_nil()) {
                ids.insert(p.id);
            }
        }
        events += n;
        bytes += m->bytes;
        batch.push_back(m);
        q.waiting.pop_front();
    }
    if (batch.empty()) {
        q.running = false;
    }
    return batch;
}

// Marks the queue idle (its runner ending) when no append waits.
inline bool pg_group_idle_if_empty(pg_group_queue& q) {
    std::lock_guard lock(q.mutex);
    if (!q.waiting.empty()) {
        return false;
    }
    q.running = false;
    return true;
}

// Whether a batch's failure may be one append's (a server error: a constraint, an encoding, a
// deadlock with a unit): then each append is committed alone. A lost connection (or any
// other failure) fails them all, as it would have failed each.
inline bool pg_group_retry_alone(const std::exception_ptr& failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const postgres_error& e) {
        return !e.connection_lost();
    } catch (...) {
        return false;
    }
}

// Commits one member alone (pg_append_op, as a unit with that single append would).
inline task<append_result> pg_group_alone(std::shared_ptr<pg_engine> e, pg_group_member* m) {
    auto ops = std::make_shared<pg_engine::op_list>();
    ops->push_back(std::make_unique<pg_append_op>(m->stream_id, m->expected, std::move(m->batch)));
    task<commit_result> commit = pg_engine::commit(std::move(e), std::move(ops), 1);
    commit_result r = co_await std::move(commit);
    co_return r.appends[0];
}

// Commits `batch` in one transaction (pg_group_write), as pg_engine::commit does a unit's: a
// commit that wrote events wakes this storage's subscriptions and waits for their reads (see
// pg_engine::commit), then hops to the scheduler. A batch of one append is committed as a unit
// with that append would be (the same statements). Every member gets its result or its error.
inline task<void> pg_group_commit(std::shared_ptr<pg_engine> e,
                                  std::vector<pg_group_member*> batch) {
    if (batch.size() == 1) {
        // Alone (nothing else waited): a unit's append, statement for statement.
        pg_group_member* m = batch.front();
        try {
            task<append_result> alone = pg_group_alone(e, m);
            m->result = co_await std::move(alone);
        } catch (...) {
            m->error = std::current_exception();
        }
        co_return;
    }
    pg_group_plan plan(batch);
    auto body = [e = e.get(), p = &plan](pg_lease* lease) { return pg_group_write(e, lease, p); };
    task<std::exception_ptr> transaction = pg_engine::in_transaction(e.get(), std::move(body));
    const std::exception_ptr failure = co_await std::move(transaction);
    if (!failure && plan.events > 0) {
        e->loop_state()->on_commit();
        pg_settle_awaiter settle(*e->loop_state());
        co_await settle;
    }
    co_await e->hop();
    if (!failure) {
        for (std::size_t k = 0; k < batch.size(); ++k) {
            if (plan.errors[k]) {
                batch[k]->error = plan.errors[k];
            } else {
                batch[k]->result = plan.results[k];
            }
        }
        co_return;
    }
    if (batch.size() > 1 && pg_group_retry_alone(failure)) {
        for (pg_group_member* m : batch) {
            try {
                task<append_result> alone = pg_group_alone(e, m);
                m->result = co_await std::move(alone);
            } catch (...) {
                m->error = std::current_exception();
            }
        }
        co_return;
    }
    for (pg_group_member* m : batch) {
        m->error = failure;
    }
}

// The runner: commits batch after batch while appends wait. After a commit (on the storage's
// scheduler), it resumes the batch's appends, which hop to the scheduler each, then (after a
// batch of several) hops there itself behind them: appends that append again at once are
// queued by then, for the next batch (no timer: a batch is whatever waits when the previous
// commit is done). After a lone append with none waiting, it ends and resumes that append
// itself: a lone appender appending again finds the queue idle and starts the next commit at
// once, with no hop more than a unit's commit takes.
inline pg_group_runner pg_group_run(std::shared_ptr<pg_engine> e,
                                    std::shared_ptr<pg_group_queue> q) {
    for (;;) {
        std::vector<pg_group_member*> batch = pg_group_take(*q);
        if (batch.empty()) {
            co_return;
        }
        task<void> commit = pg_group_commit(e, batch);
        co_await std::move(commit);
        if (batch.size() == 1 && pg_group_idle_if_empty(*q)) {
            // A lone append and nothing waiting: the runner ends, and the append goes on here
            // (on the scheduler), as after a unit's commit; its next append (or anyone's)
            // starts the next runner.
            batch.front()->hop = false;
            batch.front()->waiter.resume();
            co_return;
        }
        for (pg_group_member* m : batch) {
            m->waiter.resume();
        }
        co_await e->hop();
    }
}

// A plain append through the queue (`me` lives in the caller's frame). Resumes on the storage's
// scheduler.
inline task<append_result> pg_group_append(std::shared_ptr<pg_engine> e,
                                           std::shared_ptr<pg_group_queue> q, pg_group_member* me) {
    pg_group_join join(e, std::move(q), *me);
    co_await join;
    if (me->hop) {
        co_await e->hop(); // off the runner's thread: it goes on with the next batch
    }
    if (me->error) {
        std::rethrow_exception(me->error);
    }
    co_return *me->result;
}

} // namespace eddy::detail
