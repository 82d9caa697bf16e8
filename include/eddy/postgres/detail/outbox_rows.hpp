// eddy/postgres/detail/outbox_rows.hpp - the outbox table's SQL on encoded messages (no
// template): enqueue within a unit, claims with SKIP LOCKED leases and per-aggregate order,
// publish marks, release, stats, purge.
#pragma once

#include <algorithm> // std::sort, std::find_if
#include <cstddef>   // std::size_t
#include <cstdint>   // std::int64_t, std::uint32_t, std::uint64_t
#include <map>       // std::map
#include <memory>    // std::shared_ptr
#include <set>       // std::set
#include <string>    // std::string, std::to_string
#include <utility>   // std::move, std::pair
#include <vector>    // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/outbox/outbox_message.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/event_rows.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/detail/loop.hpp>
#include <eddy/postgres/detail/unit_op.hpp>
#include <eddy/postgres/detail/values.hpp>

namespace eddy::detail {

// An outbox message with its payload encoded (on the caller's thread) or not yet decoded.
struct pg_encoded_outbox_message {
    outbox_message<int> fields; // every field but the payload (the int is unused)
    std::string payload;
};

inline constexpr const char* pg_outbox_columns =
    "sequence, id, topic, aggregate_type, aggregate_id, event_type, payload, headers::text, "
    "created_at, published_at IS NOT NULL, attempts, last_error";

inline pg_encoded_outbox_message pg_outbox_row_of(const pg_rows& r, int i) {
    pg_encoded_outbox_message m;
    m.fields.sequence = r.u64(i, 0);
    m.fields.id = uuid::parse(r.text(i, 1)).value_or(uuid{});
    m.fields.topic = r.text(i, 2);
    m.fields.aggregate_type = r.text(i, 3);
    m.fields.aggregate_id = r.text(i, 4);
    m.fields.event_type = r.text(i, 5);
    m.payload = r.bytes(i, 6);
    m.fields.headers = pg_decode_headers(r.text(i, 7));
    m.fields.created = pg_time(r.i64(i, 8));
    m.fields.status = r.boolean(i, 9) ? outbox_status::published : outbox_status::pending;
    m.fields.attempts = static_cast<std::uint32_t>(r.u64(i, 10));
    m.fields.last_error = r.text(i, 11);
    return m;
}

inline std::vector<pg_encoded_outbox_message> pg_outbox_rows_of(const pg_rows& r) {
    std::vector<pg_encoded_outbox_message> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
        out.push_back(pg_outbox_row_of(r, i));
    }
    return out;
}

// The first part of an enqueue, before the unit's events take their positions: an id already
// in the outbox fails the unit before it costs anything.
struct pg_outbox_check_op final : pg_unit_op {
    explicit pg_outbox_check_op(std::vector<std::string> i) : ids(std::move(i)) {}
    task<void> run(pg_tx* tx) override { return check(this, tx); }
    static task<void> check(pg_outbox_check_op* op, pg_tx* tx) {
        pg_params p;
        p.text(pg_array(op->ids));
        pg_query_awaiter q = tx->lease->query(
            tx->engine->sql("SELECT id::text FROM {s}.outbox WHERE id = ANY($1::uuid[]) LIMIT 1"),
            std::move(p));
        const pg_rows rows = co_await q;
        if (!rows.empty()) {
            throw error("eddy::postgres_outbox_store: message " + rows.text(0, 0) +
                        " is already in the outbox");
        }
    }
    std::vector<std::string> ids;
};

// The second part, at the end of the unit (after every other write took its locks): locks the
// messages' aggregates (transaction advisory locks, in key order), inserts, notifies.
// The aggregate locks make one aggregate's enqueues commit in the order of their sequence
// values: a unit enqueueing for an aggregate takes its sequences only after every earlier unit
// enqueueing for it committed, so a claim that sees a message sees every earlier one of its
// aggregate (see claim).
struct pg_outbox_insert_op final : pg_unit_op {
    pg_outbox_insert_op(std::string o, std::vector<pg_encoded_outbox_message> m, std::int64_t t)
        : outbox(std::move(o)), messages(std::move(m)), now(t) {}
    [[nodiscard]] bool after_positions() const override { return true; }
    task<void> run(pg_tx* tx) override { return insert(this, tx); }

    static task<void> insert(pg_outbox_insert_op* op, pg_tx* tx) {
        pg_engine* e = tx->engine;
        std::vector<std::string> aggregates;
        for (const pg_encoded_outbox_message& m : op->messages) {
            aggregates.push_back(m.fields.aggregate_id);
        }
        pg_params lock;
        lock.text(e->schema() + "." + op->outbox)
            .text(pg_array(aggregates))
            .text(e->channel())
            .text(e->outbox_listeners()->payload(op->outbox));
        pg_query_awaiter locked = tx->lease->query(
            "SELECT count(pg_advisory_xact_lock(k1, k2)), pg_notify($3, $4) FROM (SELECT DISTINCT "
            "hashtext($1) AS k1, hashtext(a) AS k2 FROM unnest($2::text[]) AS a ORDER BY 1, 2) l",
            std::move(lock));
        co_await locked;
        constexpr std::size_t chunk = 1000; // 10 parameters a row; at most 65535 a statement
        for (std::size_t from = 0; from < op->messages.size(); from += chunk) {
            const std::size_t to = std::min(op->messages.size(), from + chunk);
            std::string text = e->sql("INSERT INTO {s}.outbox (outbox, id, topic, aggregate_type, "
                                      "aggregate_id, event_type, payload, headers, created_at) "
                                      "VALUES ");
            pg_params values;
            values.text(op->outbox).integer(op->now);
            for (std::size_t i = from; i < to; ++i) {
                pg_encoded_outbox_message& m = op->messages[i];
                const std::size_t n = 2 + (i - from) * 7;
                auto at = [n](std::size_t k) { return "$" + std::to_string(n + k); };
                text += (i == from ? "($1, " : ", ($1, ") + at(1) + "::uuid, " + at(2) + ", " +
                        at(3) + ", " + at(4) + ", " + at(5) + ", " + at(6) + "::bytea, " + at(7) +
                        "::jsonb, $2::bigint)";
                values.text(m.fields.id.to_string())
                    .text(m.fields.topic)
                    .text(m.fields.aggregate_type)
                    .text(m.fields.aggregate_id)
                    .text(m.fields.event_type)
                    .bytes(m.payload)
                    .text(pg_encode_headers(m.fields.headers));
            }
            text += " ON CONFLICT (id) DO NOTHING RETURNING id::text";
            pg_query_awaiter insert = tx->lease->query(std::move(text), std::move(values));
            const pg_rows rows = co_await insert;
            if (static_cast<std::size_t>(rows.size()) != to - from) {
                // Twice in the batch, or inserted by a unit committed since the check.
                std::set<std::string> inserted;
                for (int r = 0; r < rows.size(); ++r) {
                    inserted.insert(rows.text(r, 0));
                }
                std::string id;
                for (std::size_t i = from; i < to; ++i) {
                    id = op->messages[i].fields.id.to_string();
                    if (!inserted.erase(id)) {
                        break;
                    }
                }
                throw error("eddy::postgres_outbox_store: message " + id +
                            " is already in the outbox");
            }
        }
        tx->enqueued.push_back(op->outbox);
    }

    std::string outbox;
    std::vector<pg_encoded_outbox_message> messages;
    std::int64_t now;
};

// A claim, in a transaction of its own (see postgres_outbox_store for why it keeps the order).
struct pg_outbox_claim_op final : pg_unit_op {
    using result = std::vector<pg_encoded_outbox_message>;
    pg_outbox_claim_op(std::string o, std::string r, std::size_t m, std::int64_t n, std::int64_t u,
                       std::shared_ptr<result> out)
        : outbox(std::move(o)), relay(std::move(r)), max(m), now(n), until(u),
          claimed(std::move(out)) {}
    task<void> run(pg_tx* tx) override { return claim(this, tx); }

    static task<void> claim(pg_outbox_claim_op* op, pg_tx* tx) {
        pg_engine* e = tx->engine;
        // 1. Candidates, from snapshots (no locks): per aggregate, its pending messages up to
        //    the first one leased (to anyone), in sequence order, at most `max` in all.
        constexpr std::int64_t page = 256;
        std::vector<std::pair<std::int64_t, std::string>> candidates;
        std::set<std::string> blocked;
        std::int64_t after = 0;
        const std::string scan = e->sql(
            "SELECT sequence, aggregate_id, claimed_by <> '' AND lease_until > $2 FROM {s}.outbox "
            "WHERE outbox = $1 AND published_at IS NULL AND sequence > $3 ORDER BY sequence "
            "LIMIT $4");
        while (candidates.size() < op->max) {
            pg_params p;
            p.text(op->outbox).integer(op->now).integer(after).integer(page);
            pg_query_awaiter q = tx->lease->query(scan, std::move(p));
            const pg_rows rows = co_await q;
            for (int i = 0; i < rows.size() && candidates.size() < op->max; ++i) {
                after = rows.i64(i, 0);
                std::string aggregate = rows.text(i, 1);
                if (rows.boolean(i, 2) || blocked.contains(aggregate)) {
                    blocked.insert(std::move(aggregate));
                    continue;
                }
                candidates.emplace_back(after, std::move(aggregate));
            }
            if (rows.size() < page) {
                break;
            }
        }
        if (candidates.empty()) {
            co_return;
        }
        // 2. Lock them, skipping rows another claim (or a mark, a release) holds; a locked row
        //    is read in its latest committed version. A candidate that is skipped, or leased by
        //    now, holds the rest of its aggregate back; one published by now is passed over.
        std::vector<std::string> sequences;
        for (const auto& c : candidates) {
            sequences.push_back(std::to_string(c.first));
        }
        pg_params lp;
        lp.text(pg_array(sequences)).integer(op->now);
        pg_query_awaiter lock = tx->lease->query(
            e->sql("SELECT sequence, claimed_by <> '' AND lease_until > $2, published_at IS NOT "
                   "NULL FROM {s}.outbox WHERE sequence = ANY($1::bigint[]) ORDER BY sequence "
                   "FOR UPDATE SKIP LOCKED"),
            std::move(lp));
        const pg_rows locked = co_await lock;
        std::map<std::int64_t, std::pair<bool, bool>> state; // sequence -> held, published
        for (int i = 0; i < locked.size(); ++i) {
            state.emplace(locked.i64(i, 0),
                          std::make_pair(locked.boolean(i, 1), locked.boolean(i, 2)));
        }
        blocked.clear();
        std::vector<std::string> chosen;
        for (const auto& [sequence, aggregate] : candidates) {
            const auto it = state.find(sequence);
            if (it != state.end() && it->second.second) {
                continue; // published meanwhile
            }
            if (it == state.end() || it->second.first || blocked.contains(aggregate)) {
                blocked.insert(aggregate);
                continue;
            }
            chosen.push_back(std::to_string(sequence));
        }
        if (chosen.empty()) {
            co_return;
        }
        // 3. Lease the chosen ones (the row locks end at COMMIT; the leases stay).
        pg_params up;
        up.text(op->relay).integer(op->until).text(pg_array(chosen));
        pg_query_awaiter update =
            tx->lease->query(e->sql("UPDATE {s}.outbox SET claimed_by = $1, lease_until = $2 "
                                    "WHERE sequence = ANY($3::bigint[]) RETURNING ") +
                                 pg_outbox_columns,
                             std::move(up));
        const pg_rows rows = co_await update;
        *op->claimed = pg_outbox_rows_of(rows);
        std::sort(op->claimed->begin(), op->claimed->end(), [](const auto& a, const auto& b) {
            return a.fields.sequence < b.fields.sequence;
        });
    }

    std::string outbox;
    std::string relay;
    std::size_t max;
    std::int64_t now;
    std::int64_t until;
    std::shared_ptr<result> claimed;
};

} // namespace eddy::detail
