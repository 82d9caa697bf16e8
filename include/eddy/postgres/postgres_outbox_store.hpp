// eddy/postgres/postgres_outbox_store.hpp - eddy::postgres_outbox_store<Payload, Codec>, the
// transactional outbox in PostgreSQL, written in the same transaction as the events and shared
// by relays in several processes.
#pragma once

#include <chrono>     // std::chrono::system_clock, std::chrono::steady_clock
#include <cstddef>    // std::size_t
#include <cstdint>    // std::int64_t, std::uint64_t
#include <functional> // std::function
#include <memory>     // std::shared_ptr, std::make_shared, std::make_unique
#include <string>     // std::string
#include <utility>    // std::move
#include <vector>     // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/json/json_codec.hpp>
#include <eddy/outbox/outbox_listener.hpp>
#include <eddy/outbox/outbox_message.hpp>
#include <eddy/outbox/outbox_store.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/detail/outbox_rows.hpp>
#include <eddy/postgres/detail/values.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/postgres/postgres_unit_of_work.hpp>

namespace eddy {

/// How a `postgres_outbox_store` is set up: `name` (several outboxes, e.g. of different payload
/// types, share the schema's table, each its own rows) and `clock` (leases, `created`, publish
/// and purge times; empty: the system clock; a fake one makes leases testable). Every process
/// sharing an outbox should use the same (system) clock: leases are compared across them.
///
/// Eager value type.
struct postgres_outbox_options {
    std::string name = "default";
    std::function<std::chrono::system_clock::time_point()> clock{};
};

/// The transactional outbox in PostgreSQL (table `<schema>.outbox`; payloads encoded with
/// `Codec::encode_value`, JSON by default, stored as bytea; times as nanoseconds since the
/// epoch by the store's clock): `enqueue(unit, messages)` joins a unit of work of the same
/// `postgres_storage`, so the messages are written in the one transaction that writes the
/// events they announce (and inbox marks, checkpoints): all or nothing. Models
/// `eddy::outbox_store` (see there for the claim, lease and order rules). Leases live in the
/// table, so relays in several processes share the work and a dead process's lease ends.
///
/// Claims and the per-aggregate rule under concurrency. A claim is one transaction: (1) it
/// reads the pending messages in sequence order without locking, taking per aggregate those
/// before its first leased one, at most `max`; (2) it locks these candidates with
/// `SELECT ... FOR UPDATE SKIP LOCKED`, which never waits for another relay and reads each
/// locked row in its latest committed version: a candidate another transaction holds (a
/// concurrent claim, a mark) or that was leased meanwhile holds the rest of its aggregate
/// back, one published meanwhile is passed over; (3) it leases the rest and commits. Leases
/// are only written under these row locks, so two claims never lease one message, and a claim
/// hands out a message only after checking, under lock, every earlier pending message of its
/// aggregate that it saw. It sees all of them: `enqueue` takes a transaction advisory lock per
/// aggregate (key: hashes of schema.outbox and aggregate id, taken in key order at the end of
/// the unit) before taking sequence values, so one aggregate's messages commit in sequence
/// order and a snapshot showing a message shows every earlier one of its aggregate. Costs:
/// units enqueueing for one aggregate commit one after the other (they usually do already,
/// appending to its stream); a claim racing another may return fewer than `max` messages
/// (never one out of order), and scans past leased aggregates' messages.
///
/// `on_enqueue(f)`: `f()` runs after each commit that enqueued into this outbox, until the
/// returned listener is destroyed: after this storage's commits on the committing task's
/// scheduler, after other storages' (processes') by their NOTIFY, received by the LISTEN
/// connection on the I/O thread (keep `f` short: it holds up I/O), and once when that
/// connection is re-established. A relay wakes at once instead of waiting for its next poll.
///
/// Lazy: tasks (`enqueue` is eager: it only adds to the unit). Where the awaiter resumes: on
/// the storage's scheduler; payloads are encoded on the caller's thread and decoded on the
/// scheduler.
/// Errors: a message without a topic (`eddy::error`, from `enqueue`); a message id already in
/// the outbox fails the unit's commit (`eddy::error`, nothing of the unit written); an empty
/// relay id; `mark_published` / `release` of an unknown id, or `release` of a message leased to
/// another relay: `eddy::error` naming it; `eddy::decode_error` for a payload the codec cannot
/// decode; `eddy::postgres_error` for server and connection failures (nothing half written).
/// Lifetime: a handle on the storage. Thread-safety: every member may be called from any thread
/// concurrently.
///
///     eddy::postgres_outbox_store<order_event> outbox(db);
///     auto unit = db.begin();
///     events.append(unit, "order-7", eddy::expected_version::no_stream(), batch);
///     outbox.enqueue(unit, {placed_message});
///     co_await db.commit(std::move(unit));
template <class Payload, class Codec = json_codec>
class postgres_outbox_store {
public:
    using payload_type = Payload;
    using unit_type = postgres_unit_of_work;
    using message_type = outbox_message<Payload>;
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::system_clock::time_point;

    /// Unregisters its `on_enqueue` callback when destroyed (`eddy::outbox_listener`).
    using listener = outbox_listener;

    /// The outbox `options.name` in `storage`, payloads encoded with `codec`.
    explicit postgres_outbox_store(postgres_storage storage, postgres_outbox_options options = {},
                                   Codec codec = {})
        : m_storage(std::move(storage)),
          m_state(std::make_shared<state>(std::move(options.name), std::move(options.clock),
                                          std::move(codec))) {
        static_assert(value_codec<Codec, Payload>,
                      "eddy::postgres_outbox_store: the codec cannot encode the payload type (it "
                      "needs encode_value / decode_value for it)");
        if (m_state->name.empty()) {
            throw error("eddy::postgres_outbox_store: the outbox name must not be empty");
        }
    }

    /// Adds `messages` to `unit` (encoded now); a nil id is given a UUID v7 now.
    void enqueue(postgres_unit_of_work& unit, std::vector<message_type> messages) {
        std::vector<detail::pg_encoded_outbox_message> encoded;
        std::vector<std::string> ids;
        encoded.reserve(messages.size());
        for (auto& m : messages) {
            if (m.topic.empty()) {
                throw error("eddy::postgres_outbox_store::enqueue: a message needs a topic");
            }
            detail::pg_encoded_outbox_message e;
            e.payload = m_state->codec.encode_value(m.payload);
            e.fields.id = m.id.is_nil() ? m_storage.engine()->next_id() : m.id;
            e.fields.topic = std::move(m.topic);
            e.fields.aggregate_type = std::move(m.aggregate_type);
            e.fields.aggregate_id = std::move(m.aggregate_id);
            e.fields.event_type = std::move(m.event_type);
            e.fields.headers = std::move(m.headers);
            ids.push_back(e.fields.id.to_string());
            encoded.push_back(std::move(e));
        }
        if (encoded.empty()) {
            return;
        }
        const void* owner = m_storage.engine().get();
        unit.add(owner, std::make_unique<detail::pg_outbox_check_op>(std::move(ids)), false);
        unit.add(owner,
                 std::make_unique<detail::pg_outbox_insert_op>(m_state->name, std::move(encoded),
                                                               detail::pg_ns(m_state->now())),
                 false);
    }

    [[nodiscard]] task<std::vector<message_type>> claim(std::string relay, std::size_t max,
                                                        duration lease) {
        if (relay.empty()) {
            throw error("eddy::postgres_outbox_store::claim: the relay id must not be empty");
        }
        return claim_impl(m_storage.engine(), m_state, std::move(relay), max, lease);
    }

    [[nodiscard]] task<void> mark_published(std::string relay, std::vector<uuid> ids) {
        (void)relay; // a message is marked whoever holds it now (see outbox_store)
        return mark_impl(m_storage.engine(), m_state, std::move(ids));
    }

    [[nodiscard]] task<void> release(std::string relay, uuid id, std::string error) {
        return release_impl(m_storage.engine(), m_state, std::move(relay), id, std::move(error));
    }

    /// Ends every lease `relay` holds (its messages are pending again, attempts unchanged):
    /// for a relay starting again under the id it had before its process died. Returns how
    /// many.
    [[nodiscard]] task<std::size_t> release_leases(std::string relay) {
        detail::pg_params p;
        p.text(m_state->name).text(std::move(relay));
        return count_of(m_storage.engine(),
                        m_storage.engine()->sql(
                            "WITH u AS (UPDATE {s}.outbox SET claimed_by = '', lease_until = 0 "
                            "WHERE outbox = $1 AND claimed_by = $2 AND claimed_by <> '' AND "
                            "published_at IS NULL RETURNING 1) SELECT count(*) FROM u"),
                        std::move(p));
    }

    /// Pending messages, the oldest one's creation, and messages published since the outbox
    /// was created (purged ones included). One statement: one snapshot.
    [[nodiscard]] task<outbox_stats> stats() { return stats_impl(m_storage.engine(), m_state); }

    /// Removes the messages published more than `age` ago (by the store's clock); returns how
    /// many.
    [[nodiscard]] task<std::size_t> purge_published(duration age) {
        const time_point older_than =
            m_state->now() - std::chrono::duration_cast<time_point::duration>(age);
        detail::pg_params p;
        p.text(m_state->name).integer(detail::pg_ns(older_than));
        return count_of(m_storage.engine(),
                        m_storage.engine()->sql(
                            "WITH d AS (DELETE FROM {s}.outbox WHERE outbox = $1 AND published_at "
                            "IS NOT NULL AND published_at < $2 RETURNING 1), n AS (SELECT count(*) "
                            "AS c FROM d), c AS (INSERT INTO {s}.outbox_purged (outbox, purged) "
                            "SELECT $1, c FROM n WHERE c > 0 ON CONFLICT (outbox) DO UPDATE SET "
                            "purged = outbox_purged.purged + excluded.purged) SELECT c FROM n"),
                        std::move(p));
    }

    /// Every message of this outbox, in enqueue order (published ones until purged): for tests
    /// and operators.
    [[nodiscard]] task<std::vector<message_type>> messages() const {
        return messages_impl(m_storage.engine(), m_state);
    }

    /// Calls `f` after each commit that enqueued into this outbox (of any process on the
    /// schema), until the listener is destroyed.
    [[nodiscard]] listener on_enqueue(std::function<void()> f) {
        if (!f) {
            throw error("eddy::postgres_outbox_store::on_enqueue: empty function");
        }
        const auto& listeners = m_storage.engine()->outbox_listeners();
        const std::uint64_t id = listeners->add(m_state->name, std::move(f));
        return listener([listeners, id] { listeners->remove(id); });
    }

    /// The storage the store lives in.
    [[nodiscard]] const postgres_storage& storage() const noexcept { return m_storage; }

private:
    using engine_ptr = std::shared_ptr<detail::pg_engine>;

    struct state {
        state(std::string n, std::function<time_point()> cl, Codec co)
            : name(std::move(n)), clock(std::move(cl)), codec(std::move(co)) {}
        [[nodiscard]] time_point now() const {
            return clock ? clock() : std::chrono::system_clock::now();
        }
        std::string name;
        std::function<time_point()> clock;
        Codec codec;
    };
    using state_ptr = std::shared_ptr<const state>;

    static message_type decode(const state& s, detail::pg_encoded_outbox_message& row) {
        message_type m;
        m.payload = s.codec.template decode_value<Payload>(row.payload);
        m.id = row.fields.id;
        m.topic = std::move(row.fields.topic);
        m.aggregate_type = std::move(row.fields.aggregate_type);
        m.aggregate_id = std::move(row.fields.aggregate_id);
        m.event_type = std::move(row.fields.event_type);
        m.headers = std::move(row.fields.headers);
        m.sequence = row.fields.sequence;
        m.created = row.fields.created;
        m.status = row.fields.status;
        m.attempts = row.fields.attempts;
        m.last_error = std::move(row.fields.last_error);
        return m;
    }

    static std::vector<message_type>
    decode_all(const state& s, std::vector<detail::pg_encoded_outbox_message> rows) {
        std::vector<message_type> out;
        out.reserve(rows.size());
        for (auto& row : rows) {
            out.push_back(decode(s, row));
        }
        return out;
    }

    static task<std::vector<message_type>> claim_impl(engine_ptr e, state_ptr s, std::string relay,
                                                      std::size_t max, duration lease) {
        const time_point now = s->now();
        const time_point until = now + std::chrono::duration_cast<time_point::duration>(lease);
        auto claimed = std::make_shared<detail::pg_outbox_claim_op::result>();
        auto op = std::make_unique<detail::pg_outbox_claim_op>(
            s->name, std::move(relay), max, detail::pg_ns(now), detail::pg_ns(until), claimed);
        task<void> run = detail::pg_engine::run_alone(std::move(e), std::move(op));
        co_await std::move(run);
        co_return decode_all(*s, std::move(*claimed));
    }

    static task<void> mark_impl(engine_ptr e, state_ptr s, std::vector<uuid> ids) {
        std::vector<std::string> texts;
        for (const uuid& id : ids) {
            texts.push_back(id.to_string());
        }
        const std::string array = detail::pg_array(texts);
        // Unknown ids first: nothing is marked when one is.
        detail::pg_params check;
        check.text(s->name).text(array);
        task<detail::pg_rows> unknown = detail::pg_engine::read(
            e,
            e->sql("SELECT i::text FROM unnest($2::uuid[]) AS i WHERE NOT EXISTS (SELECT 1 FROM "
                   "{s}.outbox o WHERE o.outbox = $1 AND o.id = i) LIMIT 1"),
            std::move(check));
        const detail::pg_rows missing = co_await std::move(unknown);
        if (!missing.empty()) {
            throw error("eddy::postgres_outbox_store::mark_published: no message " +
                        missing.text(0, 0));
        }
        // Locked in sequence order (no deadlock between relays marking overlapping sets); one
        // already published (by a relay that took it over) is left as it is.
        detail::pg_params mark;
        mark.text(s->name).text(array).integer(detail::pg_ns(s->now()));
        task<detail::pg_rows> update = detail::pg_engine::read(
            e,
            e->sql("UPDATE {s}.outbox o SET published_at = $3, claimed_by = '' FROM (SELECT "
                   "sequence FROM {s}.outbox WHERE outbox = $1 AND id = ANY($2::uuid[]) AND "
                   "published_at IS NULL ORDER BY sequence FOR UPDATE) l "
                   "WHERE o.sequence = l.sequence"),
            std::move(mark));
        co_await std::move(update);
    }

    static task<void> release_impl(engine_ptr e, state_ptr s, std::string relay, uuid id,
                                   std::string error_text) {
        const std::string text = id.to_string();
        detail::pg_params p;
        p.text(s->name).text(text).text(relay).text(std::move(error_text));
        task<detail::pg_rows> update = detail::pg_engine::read(
            e,
            e->sql("UPDATE {s}.outbox SET claimed_by = '', lease_until = 0, attempts = attempts + "
                   "1, last_error = $4 WHERE outbox = $1 AND id = $2::uuid AND claimed_by = $3 "
                   "AND claimed_by <> '' RETURNING 1"),
            std::move(p));
        const detail::pg_rows released = co_await std::move(update);
        if (!released.empty()) {
            co_return;
        }
        detail::pg_params q;
        q.text(s->name).text(text);
        task<detail::pg_rows> find = detail::pg_engine::read(
            e, e->sql("SELECT 1 FROM {s}.outbox WHERE outbox = $1 AND id = $2::uuid"),
            std::move(q));
        const detail::pg_rows known = co_await std::move(find);
        if (known.empty()) {
            throw error("eddy::postgres_outbox_store::release: no message " + text);
        }
        throw error("eddy::postgres_outbox_store::release: message " + text +
                    " is not leased to relay '" + relay + "'");
    }

    static task<std::size_t> count_of(engine_ptr e, std::string sql, detail::pg_params p) {
        task<detail::pg_rows> r = detail::pg_engine::read(e, std::move(sql), std::move(p));
        const detail::pg_rows rows = co_await std::move(r);
        co_return static_cast<std::size_t>(rows.u64(0, 0));
    }

    static task<outbox_stats> stats_impl(engine_ptr e, state_ptr s) {
        detail::pg_params p;
        p.text(s->name);
        task<detail::pg_rows> r = detail::pg_engine::read(
            e,
            e->sql("SELECT count(*) FILTER (WHERE published_at IS NULL), coalesce(min(created_at) "
                   "FILTER (WHERE published_at IS NULL), 0), count(*) FILTER (WHERE published_at "
                   "IS NOT NULL) + coalesce((SELECT purged FROM {s}.outbox_purged WHERE outbox = "
                   "$1), 0) FROM {s}.outbox WHERE outbox = $1"),
            std::move(p));
        const detail::pg_rows rows = co_await std::move(r);
        outbox_stats out;
        out.pending = rows.u64(0, 0);
        if (out.pending > 0) {
            out.oldest_pending = detail::pg_time(rows.i64(0, 1));
        }
        out.published = rows.u64(0, 2);
        co_return out;
    }

    static task<std::vector<message_type>> messages_impl(engine_ptr e, state_ptr s) {
        detail::pg_params p;
        p.text(s->name);
        task<detail::pg_rows> r = detail::pg_engine::read(
            e,
            e->sql("SELECT ") + detail::pg_outbox_columns +
                e->sql(" FROM {s}.outbox WHERE outbox = $1 ORDER BY sequence"),
            std::move(p));
        const detail::pg_rows rows = co_await std::move(r);
        co_return decode_all(*s, detail::pg_outbox_rows_of(rows));
    }

    postgres_storage m_storage;
    state_ptr m_state;
};

} // namespace eddy
