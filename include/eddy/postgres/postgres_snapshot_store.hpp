// eddy/postgres/postgres_snapshot_store.hpp - eddy::postgres_snapshot_store<State, Codec>, the
// latest snapshot per stream in PostgreSQL.
#pragma once

#include <cstdint>  // std::int64_t, std::uint32_t, std::uint64_t
#include <memory>   // std::shared_ptr, std::make_shared
#include <optional> // std::optional
#include <string>   // std::string
#include <utility>  // std::move

#include <eddy/core/task.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/es/snapshot_store.hpp>
#include <eddy/json/json_codec.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/postgres_storage.hpp>

namespace eddy {

/// An `eddy::snapshot_store` in PostgreSQL (table `<schema>.snapshots`: kind, stream_id,
/// version, schema_version, state encoded with `Codec::encode_value`, JSON by default, as
/// bytea). `kind` names the state type, so the snapshots of several aggregates share a schema.
/// A save replaces the stream's snapshot unless the stored one has a higher version (an older
/// save arriving late, from any process, is dropped: one upsert whose update is conditional).
///
/// Lazy: tasks. Where the awaiter resumes: on the storage's scheduler; the state is encoded on
/// the caller's thread and decoded after the read, on the scheduler.
/// Errors: `eddy::postgres_error`; `eddy::decode_error` for a stored state the codec cannot
/// decode (snapshots are a cache: a caller may drop it and replay).
/// Lifetime: a handle on the storage. Thread-safety: every member may be called from any thread
/// concurrently.
///
///     eddy::postgres_snapshot_store<order_state> snapshots(db, "order");
///     co_await snapshots.save_snapshot("order-1", {.version = 40, .state = s});
template <class State, class Codec = json_codec>
class postgres_snapshot_store {
public:
    using state_type = State;

    /// Snapshots of the state kind `kind` in `storage`, encoded with `codec`.
    explicit postgres_snapshot_store(postgres_storage storage, std::string kind = "default",
                                     Codec codec = {})
        : m_storage(std::move(storage)), m_kind(std::move(kind)),
          m_codec(std::make_shared<const Codec>(std::move(codec))) {
        static_assert(value_codec<Codec, State>,
                      "eddy::postgres_snapshot_store: the codec cannot encode the state type (it "
                      "needs encode_value / decode_value for it)");
    }

    [[nodiscard]] task<void> save_snapshot(std::string stream_id, snapshot<State> snap) {
        detail::pg_params p;
        p.text(m_kind)
            .text(std::move(stream_id))
            .integer(static_cast<std::int64_t>(snap.version))
            .integer(snap.schema_version)
            .bytes(m_codec->encode_value(snap.state));
        return save(m_storage.engine(), std::move(p));
    }

    [[nodiscard]] task<std::optional<snapshot<State>>> load_snapshot(std::string stream_id) const {
        return load(m_storage.engine(), m_codec, m_kind, std::move(stream_id));
    }

    /// The storage the store lives in.
    [[nodiscard]] const postgres_storage& storage() const noexcept { return m_storage; }

private:
    using engine_ptr = std::shared_ptr<detail::pg_engine>;

    static task<void> save(engine_ptr e, detail::pg_params p) {
        task<detail::pg_rows> r = detail::pg_engine::read(
            e,
            e->sql("INSERT INTO {s}.snapshots AS s (kind, stream_id, version, schema_version, "
                   "state) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, stream_id) DO UPDATE "
                   "SET version = excluded.version, schema_version = excluded.schema_version, "
                   "state = excluded.state WHERE excluded.version >= s.version"),
            std::move(p));
        co_await std::move(r);
    }

    static task<std::optional<snapshot<State>>>
    load(engine_ptr e, std::shared_ptr<const Codec> codec, std::string kind, std::string id) {
        detail::pg_params p;
        p.text(std::move(kind)).text(std::move(id));
        task<detail::pg_rows> r = detail::pg_engine::read(
            e,
            e->sql("SELECT version, schema_version, state FROM {s}.snapshots WHERE kind = $1 AND "
                   "stream_id = $2"),
            std::move(p));
        const detail::pg_rows rows = co_await std::move(r);
        if (rows.empty()) {
            co_return std::nullopt;
        }
        co_return snapshot<State>{rows.u64(0, 0), static_cast<std::uint32_t>(rows.u64(0, 1)),
                                  codec->template decode_value<State>(rows.bytes(0, 2))};
    }

    postgres_storage m_storage;
    std::string m_kind;
    std::shared_ptr<const Codec> m_codec;
};

} // namespace eddy
