// eddy/sqlite/detail/schema.hpp - the tables eddy keeps in a SQLite file, created and migrated
// forward by version (table eddy_schema_version).
#pragma once

#include <array>   // std::array
#include <cstddef> // std::size_t
#include <cstdint> // std::int64_t

#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/sqlite_error.hpp>

namespace eddy::detail {

// Migration i (0-based) brings a file from schema version i to i + 1. Append only: a released
// migration never changes (files in the field went through it). Times are nanoseconds since the
// Unix epoch (`datetime(recorded_at / 1e9, 'unixepoch')` in the sqlite3 shell); payloads and
// contexts are the codec's text (JSON by default).
inline constexpr std::array<const char*, 3> sqlite_migrations{
    R"sql(
CREATE TABLE eddy_events (
    position        INTEGER PRIMARY KEY,
    stream_id       TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL,
    event_id        TEXT    NOT NULL UNIQUE,
    type_name       TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    correlation_id  TEXT    NOT NULL,
    causation_id    TEXT    NOT NULL,
    tenant          TEXT    NOT NULL,
    traceparent     TEXT    NOT NULL,
    headers         TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    batch_first     INTEGER NOT NULL,
    batch_last      INTEGER NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE TABLE eddy_streams (
    stream_id       TEXT PRIMARY KEY,
    version         INTEGER NOT NULL,
    deleted         INTEGER NOT NULL DEFAULT 0,
    deleted_before  INTEGER NOT NULL DEFAULT 0,
    truncate_before INTEGER NOT NULL DEFAULT 0,
    max_count       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE eddy_checkpoints (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE eddy_sagas (
    seq        INTEGER PRIMARY KEY,
    log        TEXT    NOT NULL,
    saga_id    TEXT    NOT NULL,
    definition TEXT    NOT NULL,
    finished   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (log, saga_id)
);
CREATE INDEX eddy_sagas_unfinished ON eddy_sagas (log, finished, seq);
CREATE TABLE eddy_saga_transitions (
    saga_seq INTEGER NOT NULL REFERENCES eddy_sagas (seq),
    n        INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    step     TEXT    NOT NULL,
    attempt  INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    context  TEXT,
    error    TEXT    NOT NULL,
    PRIMARY KEY (saga_seq, n)
) WITHOUT ROWID;
)sql",
    // 2: snapshots (sqlite_snapshot_store), one per (state kind, stream).
    R"sql(
CREATE TABLE eddy_snapshots (
    kind           TEXT    NOT NULL,
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    state          TEXT    NOT NULL,
    PRIMARY KEY (kind, stream_id)
) WITHOUT ROWID;
)sql",
    // 3: the transactional outbox (sqlite_outbox_store; published_at NULL = pending), its
    // published count per outbox, inbox marks (sqlite_inbox_store), idempotency keys
    // (sqlite_idempotency_store; response NULL = in progress).
    R"sql(
CREATE TABLE eddy_outbox (
    sequence       INTEGER PRIMARY KEY,
    outbox         TEXT    NOT NULL,
    id             TEXT    NOT NULL UNIQUE,
    topic          TEXT    NOT NULL,
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    event_type     TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    headers        TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    published_at   INTEGER,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT    NOT NULL DEFAULT '',
    claimed_by     TEXT    NOT NULL DEFAULT '',
    lease_until    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX eddy_outbox_pending ON eddy_outbox (outbox, sequence) WHERE published_at IS NULL;
CREATE INDEX eddy_outbox_published ON eddy_outbox (outbox, published_at)
    WHERE published_at IS NOT NULL;
CREATE TABLE eddy_outbox_counts (
    outbox    TEXT PRIMARY KEY,
    published INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE eddy_inbox (
    consumer     TEXT    NOT NULL,
    message_id   TEXT    NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (consumer, message_id)
) WITHOUT ROWID;
CREATE TABLE eddy_idempotency_keys (
    kind        TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    response    TEXT,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
)sql",
};

inline constexpr int sqlite_schema_version = static_cast<int>(sqlite_migrations.size());

// Creates or migrates the schema in one IMMEDIATE transaction (so two processes opening a new
// file at once migrate it once). Throws sqlite_schema_too_new for a newer file, leaving it
// unchanged.
inline void migrate(connection& c) {
    c.exec("BEGIN IMMEDIATE", "locking for the schema check");
    try {
        c.exec("CREATE TABLE IF NOT EXISTS eddy_schema_version (version INTEGER NOT NULL)",
               "creating the schema table in");
        statement& get = c.cached("SELECT version FROM eddy_schema_version");
        int found = 0;
        bool has_row = false;
        if (get.step()) {
            found = static_cast<int>(get.int64(0));
            has_row = true;
            get.reset();
        }
        if (found > sqlite_schema_version) {
            throw sqlite_schema_too_new(c.path(), found, sqlite_schema_version);
        }
        for (int v = found; v < sqlite_schema_version; ++v) {
            c.exec(sqlite_migrations[static_cast<std::size_t>(v)], "migrating the schema of");
        }
        if (!has_row) {
            c.cached("INSERT INTO eddy_schema_version (version) VALUES (?)")
                .bind(1, static_cast<std::int64_t>(sqlite_schema_version))
                .run();
        } else if (found != sqlite_schema_version) {
            c.cached("UPDATE eddy_schema_version SET version = ?")
                .bind(1, static_cast<std::int64_t>(sqlite_schema_version))
                .run();
        }
        c.exec("COMMIT", "committing the schema of");
    } catch (...) {
        if (!c.autocommit()) {
            sqlite3_exec(c.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        }
        throw;
    }
}

} // namespace eddy::detail
