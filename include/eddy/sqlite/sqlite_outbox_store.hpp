// eddy/sqlite/sqlite_outbox_store.hpp - eddy::sqlite_outbox_store<Payload, Codec>, the
// transactional outbox in a SQLite file, written in the same transaction as the events.
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
#include <eddy/es/commit_result.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/json/json_codec.hpp>
#include <eddy/outbox/outbox_listener.hpp>
#include <eddy/outbox/outbox_message.hpp>
#include <eddy/outbox/outbox_store.hpp>
#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/detail/engine.hpp>
#include <eddy/sqlite/detail/event_rows.hpp>
#include <eddy/sqlite/detail/outbox_rows.hpp>
#include <eddy/sqlite/detail/unit_op.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>
#include <eddy/sqlite/sqlite_unit_of_work.hpp>

namespace eddy {

/// How a `sqlite_outbox_store` is set up: `name` (several outboxes, e.g. of different payload
/// types, share the file's table, each its own rows) and `clock` (leases, `created`, publish
/// and purge times; empty: the system clock; a fake one makes leases testable).
struct sqlite_outbox_options {
    std::string name = "default";
    std::function<std::chrono::system_clock::time_point()> clock{};
};

/// The transactional outbox in a SQLite file (table `eddy_outbox`; payloads encoded with
/// `Codec::encode_value`, JSON by default): `enqueue(unit, messages)` joins a unit of work of
/// the same `sqlite_storage`, so the messages are written in the one transaction that writes
/// the events they announce (and inbox marks, checkpoints, the user's rows): all or nothing,
/// whatever crashes when. Models `eddy::outbox_store` (see there for the claim, lease and order
/// rules); leases live in the file, so relays in several processes on one file share the work
/// and a dead process's lease simply ends.
/// `on_enqueue(f)`: `f()` runs after each commit of the storage that wrote (in this process on
/// the writer thread; another process's commit is noticed by the reader's polling), until the
/// returned listener is destroyed: a relay wakes at once instead of waiting for its next poll.
///
/// Lazy: tasks (`enqueue` is eager: it only adds to the unit). Where the awaiter resumes: on
/// the storage's scheduler; payloads are encoded on the caller's thread and decoded on the
/// scheduler. Claims, marks and releases run on the writer (each in a group commit).
/// Errors: a message without a topic (`eddy::error`, from `enqueue`); a message id already in
/// the outbox fails the unit's commit (`eddy::error`, nothing of the unit written);
/// `mark_published` / `release` of an unknown id, or `release` of a message leased to another
/// relay: `eddy::error` naming it; `eddy::decode_error` for a payload the codec cannot decode;
/// `eddy::sqlite_error`.
/// Lifetime: a handle on the storage. Thread-safety: every member may be called from any thread
/// concurrently.
///
///     eddy::sqlite_outbox_store<order_event> outbox(db);
///     auto unit = db.begin();
///     events.append(unit, "order-7", eddy::expected_version::no_stream(), batch);
///     outbox.enqueue(unit, {placed_message});
///     co_await db.commit(std::move(unit));
template <class Payload, class Codec = json_codec>
class sqlite_outbox_store {
public:
    using payload_type = Payload;
    using unit_type = sqlite_unit_of_work;
    using message_type = outbox_message<Payload>;
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::system_clock::time_point;

    /// Unregisters its `on_enqueue` callback when destroyed (`eddy::outbox_listener`).
    using listener = outbox_listener;

    /// The outbox `options.name` in `storage`, payloads encoded with `codec`.
    explicit sqlite_outbox_store(sqlite_storage storage, sqlite_outbox_options options = {},
                                 Codec codec = {})
        : m_storage(std::move(storage)),
          m_state(std::make_shared<state>(std::move(options.name), std::move(options.clock),
                                          std::move(codec))) {
        static_assert(value_codec<Codec, Payload>,
                      "eddy::sqlite_outbox_store: the codec cannot encode the payload type (it "
                      "needs encode_value / decode_value for it)");
        if (m_state->name.empty()) {
            throw error("eddy::sqlite_outbox_store: the outbox name must not be empty");
        }
    }

    /// Adds `messages` to `unit` (encoded now); a nil id is given a UUID v7 now.
    void enqueue(sqlite_unit_of_work& unit, std::vector<message_type> messages) {
        std::vector<detail::encoded_outbox_message> encoded;
        encoded.reserve(messages.size());
        for (auto& m : messages) {
            if (m.topic.empty()) {
                throw error("eddy::sqlite_outbox_store::enqueue: a message needs a topic");
            }
            detail::encoded_outbox_message e;
            e.payload = m_state->codec.encode_value(m.payload);
            e.fields.id = m.id.is_nil() ? m_storage.engine()->next_id() : m.id;
            e.fields.topic = std::move(m.topic);
            e.fields.aggregate_type = std::move(m.aggregate_type);
            e.fields.aggregate_id = std::move(m.aggregate_id);
            e.fields.event_type = std::move(m.event_type);
            e.fields.headers = std::move(m.headers);
            encoded.push_back(std::move(e));
        }
        unit.add(m_storage.engine().get(),
                 std::make_unique<enqueue_op>(m_state, std::move(encoded)), false);
    }

    [[nodiscard]] task<std::vector<message_type>> claim(std::string relay, std::size_t max,
                                                        duration lease) {
        return claim_impl(m_storage.engine(), m_state, std::move(relay), max, lease);
    }

    [[nodiscard]] task<void> mark_published(std::string relay, std::vector<uuid> ids) {
        (void)relay;
        std::function<bool(detail::connection&)> f = [s = m_state,
                                                      ids = std::move(ids)](detail::connection& c) {
            detail::mark_outbox_rows(c, s->name, ids, detail::to_ns(s->now()));
            return true;
        };
        return detail::sqlite_engine::write_void(m_storage.engine(), std::move(f));
    }

    [[nodiscard]] task<void> release(std::string relay, uuid id, std::string error) {
        std::function<bool(detail::connection&)> f = [s = m_state, relay = std::move(relay), id,
                                                      error =
                                                          std::move(error)](detail::connection& c) {
            detail::release_outbox_row(c, s->name, relay, id, error);
            return true;
        };
        return detail::sqlite_engine::write_void(m_storage.engine(), std::move(f));
    }

    /// Ends every lease `relay` holds (its messages are pending again, attempts unchanged):
    /// for a relay starting again under the id it had before its process died. Returns how
    /// many.
    [[nodiscard]] task<std::size_t> release_leases(std::string relay) {
        return detail::sqlite_engine::write<std::size_t>(
            m_storage.engine(),
            [s = m_state, relay = std::move(relay)](detail::connection& c) {
                c.cached("UPDATE eddy_outbox SET claimed_by = '', lease_until = 0 "
                         "WHERE outbox = ? AND claimed_by = ? AND published_at IS NULL")
                    .bind(1, s->name)
                    .bind(2, relay)
                    .run();
                return static_cast<std::size_t>(c.changes());
            },
            false);
    }

    [[nodiscard]] task<outbox_stats> stats() {
        return detail::sqlite_engine::read<outbox_stats>(
            m_storage.engine(),
            [s = m_state](detail::connection& c) { return detail::outbox_stats_of(c, s->name); });
    }

    [[nodiscard]] task<std::size_t> purge_published(duration age) {
        return detail::sqlite_engine::write<std::size_t>(
            m_storage.engine(),
            [s = m_state, age](detail::connection& c) {
                const time_point older_than =
                    s->now() - std::chrono::duration_cast<time_point::duration>(age);
                return detail::purge_outbox_rows(c, s->name, detail::to_ns(older_than));
            },
            false);
    }

    /// Every message of this outbox, in enqueue order (published ones until purged): for tests
    /// and operators.
    [[nodiscard]] task<std::vector<message_type>> messages() const {
        return messages_impl(m_storage.engine(), m_state);
    }

    /// Calls `f` after each commit to the storage's file, until the listener is destroyed.
    [[nodiscard]] listener on_enqueue(std::function<void()> f) {
        if (!f) {
            throw error("eddy::sqlite_outbox_store::on_enqueue: empty function");
        }
        const auto& notifier = m_storage.engine()->notifier();
        const std::uint64_t id = notifier->add_listener(std::move(f));
        return listener([notifier, id] { notifier->remove_listener(id); });
    }

    /// The storage the store lives in.
    [[nodiscard]] const sqlite_storage& storage() const noexcept { return m_storage; }

private:
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

    struct enqueue_op final : detail::sqlite_unit_op {
        enqueue_op(std::shared_ptr<const state> s, std::vector<detail::encoded_outbox_message> m)
            : st(std::move(s)), messages(std::move(m)) {}
        void run(detail::connection& c, detail::sqlite_engine&, commit_result&) override {
            const std::int64_t now = detail::to_ns(st->now());
            for (const auto& m : messages) {
                detail::insert_outbox_row(c, st->name, m, now);
            }
        }
        std::shared_ptr<const state> st;
        std::vector<detail::encoded_outbox_message> messages;
    };

    static message_type decode(const state& s, detail::encoded_outbox_message& row) {
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

    static task<std::vector<message_type>> claim_impl(std::shared_ptr<detail::sqlite_engine> e,
                                                      std::shared_ptr<const state> s,
                                                      std::string relay, std::size_t max,
                                                      duration lease) {
        std::function<std::vector<detail::encoded_outbox_message>(detail::connection&)> f =
            [s, relay = std::move(relay), max, lease](detail::connection& c) {
                const time_point now = s->now();
                const time_point until =
                    now + std::chrono::duration_cast<time_point::duration>(lease);
                return detail::claim_outbox_rows(c, s->name, relay, max, detail::to_ns(now),
                                                 detail::to_ns(until));
            };
        task<std::vector<detail::encoded_outbox_message>> w =
            detail::sqlite_engine::write<std::vector<detail::encoded_outbox_message>>(
                std::move(e), std::move(f), false);
        std::vector<detail::encoded_outbox_message> rows = co_await std::move(w);
        std::vector<message_type> out;
        out.reserve(rows.size());
        for (auto& row : rows) {
            out.push_back(decode(*s, row));
        }
        co_return out;
    }

    static task<std::vector<message_type>> messages_impl(std::shared_ptr<detail::sqlite_engine> e,
                                                         std::shared_ptr<const state> s) {
        std::function<std::vector<detail::encoded_outbox_message>(detail::connection&)> f =
            [s](detail::connection& c) { return detail::all_outbox_rows(c, s->name); };
        task<std::vector<detail::encoded_outbox_message>> r =
            detail::sqlite_engine::read<std::vector<detail::encoded_outbox_message>>(std::move(e),
                                                                                     std::move(f));
        std::vector<detail::encoded_outbox_message> rows = co_await std::move(r);
        std::vector<message_type> out;
        out.reserve(rows.size());
        for (auto& row : rows) {
            out.push_back(decode(*s, row));
        }
        co_return out;
    }

    sqlite_storage m_storage;
    std::shared_ptr<const state> m_state;
};

} // namespace eddy
