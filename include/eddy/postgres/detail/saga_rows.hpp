// eddy/postgres/detail/saga_rows.hpp - the saga tables' SQL on encoded contexts (no template):
// start and record (each a transaction), the history read in one statement.
#pragma once

#include <cstddef>  // std::size_t
#include <cstdint>  // std::int64_t
#include <memory>   // std::shared_ptr
#include <optional> // std::optional
#include <string>   // std::string
#include <utility>  // std::move
#include <vector>   // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/detail/loop.hpp>
#include <eddy/postgres/detail/unit_op.hpp>
#include <eddy/saga/saga_transition.hpp>

namespace eddy::detail {

// Kinds are stored by name (eddy::to_string: readable in psql).
inline saga_transition_kind pg_saga_kind_of(const std::string& name) {
    if (const auto k = saga_transition_kind_from(name)) {
        return *k;
    }
    throw error("eddy::postgres_saga_log: unknown transition kind '" + name + "' in the log");
}

// A transition with its context encoded.
struct pg_encoded_transition {
    saga_transition_kind kind = saga_transition_kind::saga_started;
    std::string step;
    std::size_t attempt = 0;
    std::int64_t at = 0;
    std::optional<std::string> context;
    std::string error;
};

struct pg_encoded_history {
    std::string id;
    std::string definition;
    std::vector<pg_encoded_transition> transitions;
};

// Inserts transition `t` as entry `n` (a parameter, or SQL computing it) of saga `seq`.
inline task<void> pg_insert_transition(pg_tx* tx, std::int64_t seq, std::int64_t n,
                                       const pg_encoded_transition* t) {
    pg_params p;
    p.integer(seq)
        .integer(n)
        .text(std::string(to_string(t->kind)))
        .text(t->step)
        .integer(static_cast<std::int64_t>(t->attempt))
        .integer(t->at);
    if (t->context) {
        p.bytes(*t->context);
    } else {
        p.null();
    }
    p.text(t->error);
    pg_query_awaiter insert = tx->lease->query(
        tx->engine->sql("INSERT INTO {s}.saga_transitions (saga_seq, n, kind, step, attempt, at, "
                        "context, error) VALUES ($1, $2, $3, $4, $5, $6, $7::bytea, $8)"),
        std::move(p));
    co_await insert;
}

struct pg_saga_start_op final : pg_unit_op {
    pg_saga_start_op(std::string l, std::string i, std::string d, pg_encoded_transition f)
        : log(std::move(l)), id(std::move(i)), definition(std::move(d)), first(std::move(f)) {}
    task<void> run(pg_tx* tx) override { return start(this, tx); }
    static task<void> start(pg_saga_start_op* op, pg_tx* tx) {
        pg_params p;
        p.text(op->log)
            .text(op->id)
            .text(op->definition)
            .text(is_final(op->first.kind) ? "t" : "f");
        pg_query_awaiter insert = tx->lease->query(
            tx->engine->sql("INSERT INTO {s}.sagas (log, saga_id, definition, finished) VALUES "
                            "($1, $2, $3, $4::boolean) ON CONFLICT (log, saga_id) DO NOTHING "
                            "RETURNING seq"),
            std::move(p));
        const pg_rows rows = co_await insert;
        if (rows.empty()) {
            throw error("eddy::postgres_saga_log: saga id '" + op->id + "' is already in the log");
        }
        task<void> t = pg_insert_transition(tx, rows.i64(0, 0), 0, &op->first);
        co_await std::move(t);
    }
    std::string log;
    std::string id;
    std::string definition;
    pg_encoded_transition first;
};

// The saga's row is locked first, so records of one saga (from any process) number their
// entries one after the other.
struct pg_saga_record_op final : pg_unit_op {
    pg_saga_record_op(std::string l, std::string i, pg_encoded_transition e)
        : log(std::move(l)), id(std::move(i)), entry(std::move(e)) {}
    task<void> run(pg_tx* tx) override { return record(this, tx); }
    static task<void> record(pg_saga_record_op* op, pg_tx* tx) {
        pg_params p;
        p.text(op->log).text(op->id);
        pg_query_awaiter find = tx->lease->query(
            tx->engine->sql("SELECT seq FROM {s}.sagas WHERE log = $1 AND saga_id = $2 FOR UPDATE"),
            std::move(p));
        const pg_rows saga = co_await find;
        if (saga.empty()) {
            throw error("eddy::postgres_saga_log: no saga with id '" + op->id + "'");
        }
        const std::int64_t seq = saga.i64(0, 0);
        pg_params q;
        q.integer(seq);
        pg_query_awaiter last = tx->lease->query(
            tx->engine->sql(
                "SELECT coalesce(max(n), -1) + 1 FROM {s}.saga_transitions WHERE saga_seq = $1"),
            std::move(q));
        const pg_rows next = co_await last;
        task<void> t = pg_insert_transition(tx, seq, next.i64(0, 0), &op->entry);
        co_await std::move(t);
        pg_params u;
        u.integer(seq).text(is_final(op->entry.kind) ? "t" : "f");
        pg_query_awaiter finish = tx->lease->query(
            tx->engine->sql("UPDATE {s}.sagas SET finished = $2::boolean WHERE seq = $1"),
            std::move(u));
        co_await finish;
    }
    std::string log;
    std::string id;
    pg_encoded_transition entry;
};

// The saga and its entries in one statement (one snapshot).
inline std::string pg_saga_load_sql(const pg_engine& e) {
    return e.sql("SELECT s.definition, t.kind, t.step, t.attempt, t.at, t.context, t.error, "
                 "t.context IS NULL FROM {s}.sagas s LEFT JOIN {s}.saga_transitions t ON "
                 "t.saga_seq = s.seq WHERE s.log = $1 AND s.saga_id = $2 ORDER BY t.n");
}

inline std::optional<pg_encoded_history> pg_saga_history_of(const pg_rows& r, std::string id) {
    if (r.empty()) {
        return std::nullopt;
    }
    pg_encoded_history h;
    h.id = std::move(id);
    h.definition = r.text(0, 0);
    for (int i = 0; i < r.size(); ++i) {
        if (r.null(i, 1)) {
            continue; // a saga without entries (never written so: start inserts the first)
        }
        pg_encoded_transition t;
        t.kind = pg_saga_kind_of(r.text(i, 1));
        t.step = r.text(i, 2);
        t.attempt = static_cast<std::size_t>(r.u64(i, 3));
        t.at = r.i64(i, 4);
        if (!r.boolean(i, 7)) {
            t.context = r.bytes(i, 5);
        }
        t.error = r.text(i, 6);
        h.transitions.push_back(std::move(t));
    }
    return h;
}

} // namespace eddy::detail
