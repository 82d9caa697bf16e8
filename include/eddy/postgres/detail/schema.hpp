// eddy/postgres/detail/schema.hpp - the tables eddy keeps in its PostgreSQL schema, created and
// migrated forward by version (table <schema>.schema_version), and the schema name's check.
#pragma once

#include <array>   // std::array
#include <cstddef> // std::size_t
#include <string>  // std::string

#include <eddy/core/error.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/postgres_error.hpp>

namespace eddy::detail {

// A plain lower-case identifier, so that quoting it is all it takes to put it into SQL text.
inline void check_schema_name(const std::string& name) {
    bool ok = !name.empty() && name.size() <= 63 && !(name[0] >= '0' && name[0] <= '9');
    for (char c : name) {
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    }
    if (!ok) {
        throw error("eddy::postgres: the schema name '" + name +
                    "' is not a plain lower-case identifier ([a-z_][a-z0-9_]*, at most 63 "
                    "characters)");
    }
}

// `sql` with every "{s}" replaced by the quoted schema name (checked by check_schema_name).
inline std::string in_schema(const std::string& sql, const std::string& schema) {
    std::string out;
    out.reserve(sql.size() + 8 * schema.size());
    for (std::size_t i = 0; i < sql.size(); ++i) {
        if (sql.compare(i, 3, "{s}") == 0) {
            out += '"' + schema + '"';
            i += 2;
        } else {
            out += sql[i];
        }
    }
    return out;
}

// Migration i (0-based) brings a schema from version i to i + 1. Append only: a released
// migration never changes. Payloads are the codec's bytes (bytea: any codec; with JSON,
// `convert_from(payload, 'UTF8')::jsonb` in psql shows them). Each event row keeps the id of
// the transaction that wrote it (xid8) beside its position.
// allocate_positions(n) takes n consecutive positions: under a session advisory lock held only
// for the allocation (never until commit), after making sure the transaction has its xid, so a
// reader that sees a gap knows its owner is among the transactions its snapshot saw in flight.
// Migration 2: the transactional outbox (published_at NULL = pending; times are nanoseconds
// since the epoch by the store's clock, so a fake clock can drive leases), the count of
// published messages purged per outbox (stats' published count survives purges), inbox marks,
// idempotency keys (response NULL = in progress), snapshots, and the saga log.
// Migration 3: named leases (postgres_lease): holder ('' = released), fencing epoch (raised at
// each new tenure), expiry in the server's time.
inline constexpr std::array<const char*, 3> pg_migrations{
    R"sql(
CREATE SEQUENCE {s}.positions AS bigint START 1;
CREATE TABLE {s}.events (
    position        bigint      PRIMARY KEY,
    xid             xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id       text        NOT NULL,
    stream_version  bigint      NOT NULL,
    event_id        uuid        NOT NULL UNIQUE,
    type_name       text        NOT NULL,
    schema_version  integer     NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    correlation_id  text        NOT NULL,
    causation_id    text        NOT NULL,
    tenant          text        NOT NULL,
    traceparent     text        NOT NULL,
    headers         jsonb       NOT NULL,
    payload         bytea       NOT NULL,
    batch_first     bigint      NOT NULL,
    batch_last      bigint      NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE TABLE {s}.streams (
    stream_id       text    PRIMARY KEY,
    version         bigint  NOT NULL DEFAULT 0,
    deleted         boolean NOT NULL DEFAULT false,
    deleted_before  bigint  NOT NULL DEFAULT 0,
    truncate_before bigint  NOT NULL DEFAULT 0,
    max_count       bigint  NOT NULL DEFAULT 0
);
CREATE TABLE {s}.checkpoints (
    name     text   PRIMARY KEY,
    position bigint NOT NULL
);
CREATE FUNCTION {s}.allocate_positions(n bigint) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE
    first bigint;
BEGIN
    PERFORM pg_current_xact_id();
    PERFORM pg_advisory_lock('{s}.positions'::regclass::oid::bigint);
    BEGIN
        first := nextval('{s}.positions');
        IF n > 1 THEN
            PERFORM setval('{s}.positions', first + n - 1);
        END IF;
    EXCEPTION WHEN OTHERS THEN
        PERFORM pg_advisory_unlock('{s}.positions'::regclass::oid::bigint);
        RAISE;
    END;
    PERFORM pg_advisory_unlock('{s}.positions'::regclass::oid::bigint);
    RETURN first;
END
$f$;
)sql",
    R"sql(
CREATE TABLE {s}.outbox (
    sequence       bigserial PRIMARY KEY,
    outbox         text      NOT NULL,
    id             uuid      NOT NULL UNIQUE,
    topic          text      NOT NULL,
    aggregate_type text      NOT NULL,
    aggregate_id   text      NOT NULL,
    event_type     text      NOT NULL,
    payload        bytea     NOT NULL,
    headers        jsonb     NOT NULL,
    created_at     bigint    NOT NULL,
    published_at   bigint,
    attempts       integer   NOT NULL DEFAULT 0,
    last_error     text      NOT NULL DEFAULT '',
    claimed_by     text      NOT NULL DEFAULT '',
    lease_until    bigint    NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON {s}.outbox (outbox, sequence) WHERE published_at IS NULL;
CREATE INDEX outbox_published ON {s}.outbox (outbox, published_at)
    WHERE published_at IS NOT NULL;
CREATE TABLE {s}.outbox_purged (
    outbox text   PRIMARY KEY,
    purged bigint NOT NULL
);
CREATE TABLE {s}.inbox (
    consumer     text        NOT NULL,
    message_id   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, message_id)
);
CREATE TABLE {s}.idempotency_keys (
    kind        text   NOT NULL,
    key         text   NOT NULL,
    fingerprint text   NOT NULL,
    response    bytea,
    expires_at  bigint NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE {s}.snapshots (
    kind           text    NOT NULL,
    stream_id      text    NOT NULL,
    version        bigint  NOT NULL,
    schema_version integer NOT NULL,
    state          bytea   NOT NULL,
    PRIMARY KEY (kind, stream_id)
);
CREATE TABLE {s}.sagas (
    seq        bigserial PRIMARY KEY,
    log        text      NOT NULL,
    saga_id    text      NOT NULL,
    definition text      NOT NULL,
    finished   boolean   NOT NULL DEFAULT false,
    UNIQUE (log, saga_id)
);
CREATE INDEX sagas_unfinished ON {s}.sagas (log, seq) WHERE NOT finished;
CREATE TABLE {s}.saga_transitions (
    saga_seq bigint  NOT NULL REFERENCES {s}.sagas (seq),
    n        integer NOT NULL,
    kind     text    NOT NULL,
    step     text    NOT NULL,
    attempt  bigint  NOT NULL,
    at       bigint  NOT NULL,
    context  bytea,
    error    text    NOT NULL,
    PRIMARY KEY (saga_seq, n)
);
)sql",
    R"sql(
CREATE TABLE {s}.leases (
    name       text        PRIMARY KEY,
    holder     text        NOT NULL,
    epoch      bigint      NOT NULL,
    expires_at timestamptz NOT NULL
);
)sql",
};

inline constexpr int pg_schema_version = static_cast<int>(pg_migrations.size());

// Creates or migrates the schema in one transaction, serialized with other programs by an
// advisory lock on the schema's name. Throws postgres_schema_too_new for a newer schema,
// changing nothing.
inline void pg_migrate(PGconn* c, const std::string& schema) {
    const std::string context = "migrating schema '" + schema + "'";
    pg_exec_blocking(c, "BEGIN", {}, context);
    try {
        pg_exec_blocking(c, "SELECT pg_advisory_xact_lock(hashtext($1))",
                         pg_params().text("eddy schema " + schema), context);
        pg_exec_blocking(c, in_schema("CREATE SCHEMA IF NOT EXISTS {s}", schema), {}, context);
        pg_exec_blocking(c,
                         in_schema("CREATE TABLE IF NOT EXISTS {s}.schema_version "
                                   "(version integer NOT NULL)",
                                   schema),
                         {}, context);
        const pg_rows rows = pg_exec_blocking(
            c, in_schema("SELECT version FROM {s}.schema_version", schema), {}, context);
        const int found = rows.empty() ? 0 : static_cast<int>(rows.u64(0, 0));
        if (found > pg_schema_version) {
            throw postgres_schema_too_new(schema, found, pg_schema_version);
        }
        for (int v = found; v < pg_schema_version; ++v) {
            pg_exec_script(c, in_schema(pg_migrations[static_cast<std::size_t>(v)], schema),
                           context);
        }
        if (rows.empty()) {
            pg_exec_blocking(c, in_schema("INSERT INTO {s}.schema_version VALUES ($1)", schema),
                             pg_params().integer(pg_schema_version), context);
        } else if (found != pg_schema_version) {
            pg_exec_blocking(c, in_schema("UPDATE {s}.schema_version SET version = $1", schema),
                             pg_params().integer(pg_schema_version), context);
        }
        pg_exec_blocking(c, "COMMIT", {}, context);
    } catch (...) {
        PQclear(PQexec(c, "ROLLBACK"));
        throw;
    }
}

} // namespace eddy::detail
