// eddy/postgres/detail/event_rows.hpp - the event tables' SQL on encoded events (no template):
// the append, delete and metadata writes of a unit (with the idempotency checks and staging
// that group commit shares, see group_commit.hpp), and the paged reads with their parsing.
#pragma once

#include <algorithm> // std::sort, std::adjacent_find
#include <chrono>    // std::chrono::system_clock, std::chrono::microseconds
#include <cstddef>   // std::size_t
#include <cstdint>   // std::int64_t, std::uint64_t, std::uint32_t
#include <map>       // std::map
#include <optional>  // std::optional
#include <string>    // std::string, std::to_string
#include <utility>   // std::move
#include <vector>    // std::vector

#include <nlohmann/json.hpp>

#include <eddy/core/task.hpp>
#include <eddy/es/append_result.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/duplicate_event_id.hpp>
#include <eddy/es/event_metadata.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/stream_metadata.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/detail/loop.hpp>
#include <eddy/postgres/detail/unit_op.hpp>

namespace eddy::detail {

// An event to append, encoded by the store's codec on the caller's thread.
struct pg_encoded_proposed {
    uuid id; // nil: assigned on the I/O thread, in commit order
    encoded_event event;
    event_metadata metadata;
};

// A stored event as read, not yet decoded.
struct pg_event_row {
    std::uint64_t position = 0;
    std::string stream_id;
    std::uint64_t stream_version = 0;
    uuid event_id;
    encoded_event event;
    std::chrono::system_clock::time_point recorded_at;
    event_metadata metadata;
};

// A page of read_all: the rows and the snapshot they were read in (xid8 bounds: every
// transaction below `xmin` had ended; every one at or above `xmax` had not started).
struct pg_event_page {
    std::vector<pg_event_row> rows;
    std::uint64_t xmin = 0;
    std::uint64_t xmax = 0;
};

inline std::string pg_encode_headers(const headers& h) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : h) {
        j[k] = v;
    }
    return j.dump();
}

inline headers pg_decode_headers(const std::string& text) {
    headers h;
    const nlohmann::json parsed = nlohmann::json::parse(text); // items() refers to it
    for (const auto& [k, v] : parsed.items()) {
        h.set(k, v.get<std::string>());
    }
    return h;
}

// The columns every read selects, in this order (recorded_at in microseconds since the epoch).
inline constexpr const char* pg_event_columns =
    "e.position, e.stream_id, e.stream_version, e.event_id, e.type_name, e.schema_version, "
    "(extract(epoch FROM e.recorded_at) * 1000000)::bigint, e.correlation_id, e.causation_id, "
    "e.tenant, e.traceparent, e.headers::text, e.payload";

inline pg_event_row pg_event_row_of(const pg_rows& r, int i) {
    pg_event_row row;
    row.position = r.u64(i, 0);
    row.stream_id = r.text(i, 1);
    row.stream_version = r.u64(i, 2);
    row.event_id = uuid::parse(r.text(i, 3)).value_or(uuid{});
    row.event.type_name = r.text(i, 4);
    row.event.schema_version = static_cast<std::uint32_t>(r.u64(i, 5));
    row.recorded_at = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::microseconds(r.u64(i, 6))));
    row.metadata.correlation_id = r.text(i, 7);
    row.metadata.causation_id = r.text(i, 8);
    row.metadata.tenant = r.text(i, 9);
    row.metadata.traceparent = r.text(i, 10);
    row.metadata.headers = pg_decode_headers(r.text(i, 11));
    row.event.bytes = r.bytes(i, 12);
    return row;
}

inline std::vector<pg_event_row> pg_event_rows_of(const pg_rows& r) {
    std::vector<pg_event_row> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
        out.push_back(pg_event_row_of(r, i));
    }
    return out;
}

// Up to `limit` readable events of `stream` from `from_version` (truncation, max count and
// soft delete applied in the same statement, so in one snapshot).
inline std::string pg_read_stream_sql(const pg_engine& e) {
    return e.sql("SELECT ") + pg_event_columns +
           e.sql(" FROM {s}.events e JOIN {s}.streams st ON st.stream_id = e.stream_id "
                 "WHERE e.stream_id = $1 AND e.stream_version >= GREATEST($2::bigint, "
                 "st.truncate_before, st.deleted_before, CASE WHEN st.max_count > 0 THEN "
                 "st.version - st.max_count + 1 ELSE 1 END) ORDER BY e.stream_version LIMIT $3");
}

// Up to `limit` events from position `from`, with the statement's snapshot bounds.
inline std::string pg_read_all_sql(const pg_engine& e) {
    return e.sql("SELECT ") + pg_event_columns +
           e.sql(", pg_snapshot_xmin(s.snap)::text, pg_snapshot_xmax(s.snap)::text "
                 "FROM {s}.events e, (SELECT pg_current_snapshot() AS snap) s "
                 "WHERE e.position >= $1 ORDER BY e.position LIMIT $2");
}

inline pg_event_page pg_event_page_of(const pg_rows& r) {
    pg_event_page page;
    page.rows = pg_event_rows_of(r);
    if (!r.empty()) {
        page.xmin = r.u64(0, 13);
        page.xmax = r.u64(0, 14);
    }
    return page;
}

// An event of the events table found by its id (what an idempotent re-append compares).
struct pg_stored_event {
    std::uint64_t position, version, batch_first, batch_last;
    std::string stream_id, type_name, payload;
    std::uint32_t schema_version;
};

// The lookup of stored events by id: one parameter, a uuid[] literal (see pg_uuid_array).
inline constexpr const char* pg_find_events_sql =
    "SELECT event_id::text, position, stream_version, batch_first, batch_last, stream_id, "
    "type_name, payload, schema_version FROM {s}.events WHERE event_id = ANY($1::uuid[])";

// The rows of pg_find_events_sql by id.
inline std::map<uuid, pg_stored_event> pg_stored_events_of(const pg_rows& rows) {
    std::map<uuid, pg_stored_event> found;
    for (int i = 0; i < rows.size(); ++i) {
        found.emplace(uuid::parse(rows.text(i, 0)).value_or(uuid{}),
                      pg_stored_event{rows.u64(i, 1), rows.u64(i, 2), rows.u64(i, 3),
                                      rows.u64(i, 4), rows.text(i, 5), rows.text(i, 6),
                                      rows.bytes(i, 7),
                                      static_cast<std::uint32_t>(rows.u64(i, 8))});
    }
    return found;
}

// The explicit (non-nil) ids of `batch` as a uuid[] literal ("{}" when none).
inline std::string pg_uuid_array(const std::vector<pg_encoded_proposed>& batch) {
    std::string ids = "{";
    for (const pg_encoded_proposed& p : batch) {
        if (!p.id.is_nil()) {
            ids += (ids.size() > 1 ? "," : "") + p.id.to_string();
        }
    }
    return ids + "}";
}

// An id given twice in one append can't be one exact re-append.
inline void pg_check_repeated_ids(const std::string& stream_id,
                                  const std::vector<pg_encoded_proposed>& batch) {
    std::vector<uuid> ids;
    for (const pg_encoded_proposed& p : batch) {
        if (!p.id.is_nil()) {
            ids.push_back(p.id);
        }
    }
    std::sort(ids.begin(), ids.end());
    const auto twice = std::adjacent_find(ids.begin(), ids.end());
    if (twice != ids.end()) {
        throw duplicate_event_id(*twice, stream_id, duplicate_event_id::reason::repeated,
                                 "the id appears twice in the batch or unit of work");
    }
}

// True when `batch` re-appends a stored batch exactly (`r` is then the original result); false
// when none of its ids is stored; duplicate_event_id otherwise (the memory store's rules;
// payloads compare by their encoded bytes). `found`: the stored events of `batch`'s ids only.
inline bool pg_stored_batch(const std::string& stream_id,
                            const std::vector<pg_encoded_proposed>& batch,
                            const std::map<uuid, pg_stored_event>& found, append_result& r) {
    if (found.empty()) {
        return false;
    }
    const uuid* known = nullptr;
    for (const pg_encoded_proposed& p : batch) {
        if (found.count(p.id) != 0) {
            known = &p.id;
            break;
        }
    }
    if (found.size() != batch.size()) {
        throw duplicate_event_id(
            *known, stream_id, duplicate_event_id::reason::partial_overlap,
            "already stored, but " + std::to_string(batch.size() - found.size()) + " of the " +
                std::to_string(batch.size()) + " events of the batch are not (a partial overlap)");
    }
    const std::uint64_t first = found.at(batch.front().id).position;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const pg_encoded_proposed& p = batch[i];
        const pg_stored_event& old = found.at(p.id);
        const std::string where = " (stored at position " + std::to_string(old.position) +
                                  " of stream '" + old.stream_id + "')";
        if (old.stream_id != stream_id) {
            throw duplicate_event_id(p.id, stream_id, duplicate_event_id::reason::different_stream,
                                     "already stored in another stream" + where);
        }
        if (old.type_name != p.event.type_name || old.schema_version != p.event.schema_version) {
            throw duplicate_event_id(p.id, stream_id, duplicate_event_id::reason::different_type,
                                     "already stored as a '" + old.type_name + "' v" +
                                         std::to_string(old.schema_version) + where);
        }
        if (old.payload != p.event.bytes) {
            throw duplicate_event_id(p.id, stream_id, duplicate_event_id::reason::different_payload,
                                     "already stored with a different payload" + where);
        }
        if (old.position != first + i || old.batch_first != first ||
            old.batch_last != first + batch.size() - 1) {
            throw duplicate_event_id(p.id, stream_id, duplicate_event_id::reason::different_batch,
                                     "already stored, but the batch is not one whole earlier "
                                     "append in the same order" +
                                         where);
        }
    }
    const pg_stored_event& last = found.at(batch.back().id);
    r = append_result{last.version, first, last.position};
    return true;
}

// Stages the events of an append whose stream is at `version`: versions version + 1.., ids
// assigned to the nil ones (in commit order); their positions are taken at the end of the unit.
inline void pg_stage_events(pg_tx* tx, const std::string& stream_id, std::uint64_t version,
                            const std::vector<pg_encoded_proposed>& batch) {
    const std::size_t offset = tx->events.size();
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const pg_encoded_proposed& p = batch[i];
        pg_tx::staged_event ev;
        ev.stream_id = stream_id;
        ev.stream_version = version + i + 1;
        ev.id = p.id.is_nil() ? tx->engine->next_id() : p.id;
        ev.type_name = p.event.type_name;
        ev.schema_version = p.event.schema_version;
        ev.payload = p.event.bytes;
        ev.correlation_id = p.metadata.correlation_id;
        ev.causation_id = p.metadata.causation_id;
        ev.tenant = p.metadata.tenant;
        ev.traceparent = p.metadata.traceparent;
        ev.headers = pg_encode_headers(p.metadata.headers);
        ev.batch_offset = offset;
        ev.batch_size = batch.size();
        tx->events.push_back(std::move(ev));
    }
}

// An append inside a unit: locks the stream's row (creating it), checks idempotency and the
// expected version, sets the stream's new version and stages the events (their positions are
// taken at the end of the unit).
struct pg_append_op final : pg_unit_op {
    pg_append_op(std::string s, expected_version e, std::vector<pg_encoded_proposed> b)
        : stream_id(std::move(s)), expected(e), batch(std::move(b)) {}

    task<void> run(pg_tx* tx) override { return append(this, tx); }

    std::string stream_id;
    expected_version expected;
    std::vector<pg_encoded_proposed> batch;
    std::size_t slot = 0;

private:
    static task<void> append(pg_append_op* op, pg_tx* tx) {
        pg_check_repeated_ids(op->stream_id, op->batch);
        const pg_engine& e = *tx->engine;
        // Locks the stream's row until COMMIT: appends to one stream are serialized here, so
        // the version check below sees every committed append before it.
        pg_query_awaiter lock = tx->lease->prepared(
            e.cached_sql(
                "INSERT INTO {s}.streams (stream_id) VALUES ($1) ON CONFLICT (stream_id) DO "
                "UPDATE SET version = {s}.streams.version RETURNING version, deleted"),
            pg_params().text(op->stream_id));
        const pg_rows stream = co_await lock;
        const std::uint64_t version = stream.u64(0, 0);
        const std::uint64_t actual = stream.boolean(0, 1) ? 0 : version;

        std::string ids = pg_uuid_array(op->batch);
        if (ids.size() > 2) {
            pg_query_awaiter find =
                tx->lease->prepared(e.cached_sql(pg_find_events_sql), pg_params().text(ids));
            const pg_rows rows = co_await find;
            const std::map<uuid, pg_stored_event> found = pg_stored_events_of(rows);
            append_result r;
            if (pg_stored_batch(op->stream_id, op->batch, found, r)) {
                tx->result->appends[op->slot] = r;
                co_return;
            }
        }
        if (!op->expected.accepts(actual)) {
            throw concurrency_conflict(op->stream_id, op->expected, actual);
        }
        const std::size_t offset = tx->events.size();
        if (op->batch.empty()) {
            tx->appends.push_back(pg_tx::pending_append{op->slot, actual, offset, 0});
            co_return;
        }
        pg_stage_events(tx, op->stream_id, version, op->batch);
        const std::uint64_t new_version = version + op->batch.size();
        pg_query_awaiter update = tx->lease->prepared(
            e.cached_sql(
                "UPDATE {s}.streams SET version = $2, deleted = false WHERE stream_id = $1"),
            pg_params().text(op->stream_id).integer(static_cast<std::int64_t>(new_version)));
        co_await update;
        tx->appends.push_back(
            pg_tx::pending_append{op->slot, new_version, offset, op->batch.size()});
    }
};

// Soft delete when the stream's version satisfies the expectation.
struct pg_delete_op final : pg_unit_op {
    pg_delete_op(std::string s, expected_version e) : stream_id(std::move(s)), expected(e) {}
    task<void> run(pg_tx* tx) override { return remove(this, tx); }
    std::string stream_id;
    expected_version expected;

private:
    static task<void> remove(pg_delete_op* op, pg_tx* tx) {
        pg_query_awaiter lock = tx->lease->prepared(
            tx->engine->cached_sql("SELECT version, deleted FROM {s}.streams WHERE stream_id = $1 "
                                   "FOR UPDATE"),
            pg_params().text(op->stream_id));
        const pg_rows rows = co_await lock;
        const std::uint64_t actual = rows.empty() || rows.boolean(0, 1) ? 0 : rows.u64(0, 0);
        if (!op->expected.accepts(actual)) {
            throw concurrency_conflict(op->stream_id, op->expected, actual);
        }
        if (!rows.empty()) {
            pg_query_awaiter update = tx->lease->prepared(
                tx->engine->cached_sql("UPDATE {s}.streams SET deleted = true, deleted_before = "
                                       "version + 1 WHERE stream_id = $1"),
                pg_params().text(op->stream_id));
            co_await update;
        }
    }
};

// Replaces a stream's truncate-before and max count.
struct pg_metadata_op final : pg_unit_op {
    pg_metadata_op(std::string s, stream_metadata m) : stream_id(std::move(s)), md(m) {}
    task<void> run(pg_tx* tx) override { return set(this, tx); }
    std::string stream_id;
    stream_metadata md;

private:
    static task<void> set(pg_metadata_op* op, pg_tx* tx) {
        pg_query_awaiter upsert = tx->lease->prepared(
            tx->engine->cached_sql(
                "INSERT INTO {s}.streams (stream_id, truncate_before, max_count) "
                "VALUES ($1, $2, $3) ON CONFLICT (stream_id) DO UPDATE SET "
                "truncate_before = excluded.truncate_before, "
                "max_count = excluded.max_count"),
            pg_params()
                .text(op->stream_id)
                .integer(static_cast<std::int64_t>(op->md.truncate_before))
                .integer(static_cast<std::int64_t>(op->md.max_count)));
        co_await upsert;
    }
};

} // namespace eddy::detail
