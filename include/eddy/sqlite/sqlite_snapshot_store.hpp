// eddy/sqlite/sqlite_snapshot_store.hpp - eddy::sqlite_snapshot_store<State, Codec>, the latest
// snapshot per stream in a SQLite file.
#pragma once

#include <cstdint>    // std::int64_t, std::uint32_t, std::uint64_t
#include <functional> // std::function
#include <memory>     // std::shared_ptr, std::make_shared
#include <optional>   // std::optional
#include <string>     // std::string
#include <utility>    // std::move

#include <eddy/core/task.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/es/snapshot_store.hpp>
#include <eddy/json/json_codec.hpp>
#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/detail/engine.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>

namespace eddy {

/// An `eddy::snapshot_store` in a SQLite file (table `eddy_snapshots`: kind, stream_id, version,
/// schema_version, state encoded with `Codec::encode_value`, JSON by default). `kind` names the
/// state type, so the snapshots of several aggregates share a file. A save replaces the stream's
/// snapshot unless the stored one has a higher version (an older save arriving late is dropped).
///
/// Lazy: tasks. Where the awaiter resumes: on the storage's scheduler; the state is encoded on
/// the caller's thread and decoded after the read, on the scheduler.
/// Errors: `eddy::sqlite_error`; `eddy::decode_error` for a stored state the codec cannot
/// decode (snapshots are a cache: a caller may drop it and replay).
/// Lifetime: a handle on the storage. Thread-safety: every member may be called from any thread
/// concurrently.
///
///     eddy::sqlite_snapshot_store<order_state> snapshots(db, "order");
///     co_await snapshots.save_snapshot("order-1", {.version = 40, .state = s});
template <class State, class Codec = json_codec>
class sqlite_snapshot_store {
public:
    using state_type = State;

    /// Snapshots of the state kind `kind` in `storage`, encoded with `codec`.
    explicit sqlite_snapshot_store(sqlite_storage storage, std::string kind = "default",
                                   Codec codec = {})
        : m_storage(std::move(storage)), m_kind(std::move(kind)),
          m_codec(std::make_shared<const Codec>(std::move(codec))) {
        static_assert(value_codec<Codec, State>,
                      "eddy::sqlite_snapshot_store: the codec cannot encode the state type (it "
                      "needs encode_value / decode_value for it)");
    }

    [[nodiscard]] task<void> save_snapshot(std::string stream_id, snapshot<State> snap) {
        std::function<bool(detail::connection&)> f =
            [kind = m_kind, id = std::move(stream_id), version = snap.version,
             schema = snap.schema_version,
             bytes = m_codec->encode_value(snap.state)](detail::connection& c) {
                c.cached("INSERT INTO eddy_snapshots (kind, stream_id, version, schema_version, "
                         "state) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, stream_id) DO UPDATE "
                         "SET version = excluded.version, schema_version = "
                         "excluded.schema_version, state = excluded.state "
                         "WHERE excluded.version >= eddy_snapshots.version")
                    .bind(1, kind)
                    .bind(2, id)
                    .bind(3, static_cast<std::int64_t>(version))
                    .bind(4, static_cast<std::int64_t>(schema))
                    .bind(5, bytes)
                    .run();
                return true;
            };
        return detail::sqlite_engine::write_void(m_storage.engine(), std::move(f));
    }

    [[nodiscard]] task<std::optional<snapshot<State>>> load_snapshot(std::string stream_id) const {
        return load(m_storage.engine(), m_codec, m_kind, std::move(stream_id));
    }

    /// The storage the store lives in.
    [[nodiscard]] const sqlite_storage& storage() const noexcept { return m_storage; }

private:
    struct row {
        std::uint64_t version = 0;
        std::uint32_t schema_version = 1;
        std::string state;
    };

    static task<std::optional<snapshot<State>>> load(std::shared_ptr<detail::sqlite_engine> e,
                                                     std::shared_ptr<const Codec> codec,
                                                     std::string kind, std::string id) {
        std::function<std::optional<row>(detail::connection&)> f = [kind,
                                                                    id](detail::connection& c) {
            detail::statement& s =
                c.cached("SELECT version, schema_version, state FROM eddy_snapshots "
                         "WHERE kind = ? AND stream_id = ?");
            s.bind(1, kind).bind(2, id);
            std::optional<row> out;
            if (s.step()) {
                out = row{static_cast<std::uint64_t>(s.int64(0)),
                          static_cast<std::uint32_t>(s.int64(1)), s.text(2)};
                s.reset();
            }
            return out;
        };
        task<std::optional<row>> r =
            detail::sqlite_engine::read<std::optional<row>>(std::move(e), std::move(f));
        std::optional<row> stored = co_await std::move(r);
        if (!stored) {
            co_return std::nullopt;
        }
        co_return snapshot<State>{stored->version, stored->schema_version,
                                  codec->template decode_value<State>(stored->state)};
    }

    sqlite_storage m_storage;
    std::string m_kind;
    std::shared_ptr<const Codec> m_codec;
};

} // namespace eddy
