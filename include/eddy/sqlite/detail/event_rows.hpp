// eddy/sqlite/detail/event_rows.hpp - the event tables' SQL, on encoded events (no template):
// append with expectation and exact idempotency checks, paged reads, stream metadata.
#pragma once

#include <algorithm>   // std::max, std::sort, std::adjacent_find, std::all_of
#include <array>       // std::array
#include <chrono>      // std::chrono::system_clock, std::chrono::nanoseconds
#include <cstddef>     // std::size_t
#include <cstdint>     // std::int64_t, std::uint64_t, std::uint32_t
#include <optional>    // std::optional
#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view
#include <utility>     // std::move
#include <vector>      // std::vector

#include <nlohmann/json.hpp>

#include <eddy/es/append_result.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/duplicate_event_id.hpp>
#include <eddy/es/event_metadata.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/stream_metadata.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/sqlite/detail/connection.hpp>

namespace eddy::detail {

// An event to append, already encoded by the store's codec (on the caller's thread).
struct encoded_proposed {
    uuid id; // nil: assigned on the writer thread, in commit order
    encoded_event event;
    event_metadata metadata;
};

// A stored event as read, not yet decoded.
struct stored_event_row {
    std::uint64_t position = 0;
    std::string stream_id;
    std::uint64_t stream_version = 0;
    uuid event_id;
    encoded_event event;
    std::chrono::system_clock::time_point recorded_at;
    event_metadata metadata;
};

inline std::string encode_headers(const headers& h) {
    if (h.begin() == h.end()) {
        return "{}";
    }
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : h) {
        j[k] = v;
    }
    return j.dump();
}

inline headers decode_headers(const std::string& text) {
    headers h;
    if (text.empty() || text == "{}") {
        return h;
    }
    const nlohmann::json parsed = nlohmann::json::parse(text); // items() refers to it
    for (const auto& [k, v] : parsed.items()) {
        h.set(k, v.get<std::string>());
    }
    return h;
}

inline std::int64_t to_ns(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

inline std::chrono::system_clock::time_point from_ns(std::int64_t ns) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(ns)));
}

struct stream_row {
    std::uint64_t version = 0;
    bool deleted = false;
    std::uint64_t deleted_before = 0;
    stream_metadata metadata;

    // The version expectations see (0: none, or soft-deleted).
    [[nodiscard]] std::uint64_t actual() const noexcept { return deleted ? 0 : version; }
    // The first version read_stream returns.
    [[nodiscard]] std::uint64_t first_readable() const noexcept {
        std::uint64_t first =
            std::max<std::uint64_t>({1, metadata.truncate_before, deleted_before});
        if (metadata.max_count > 0 && version > metadata.max_count) {
            first = std::max(first, version - metadata.max_count + 1);
        }
        return first;
    }
};

inline std::optional<stream_row> find_stream(connection& c, const std::string& id) {
    statement& s = c.cached("SELECT version, deleted, deleted_before, truncate_before, max_count "
                            "FROM eddy_streams WHERE stream_id = ?");
    s.bind(1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    stream_row r;
    r.version = static_cast<std::uint64_t>(s.int64(0));
    r.deleted = s.int64(1) != 0;
    r.deleted_before = static_cast<std::uint64_t>(s.int64(2));
    r.metadata.truncate_before = static_cast<std::uint64_t>(s.int64(3));
    r.metadata.max_count = static_cast<std::uint64_t>(s.int64(4));
    s.reset();
    return r;
}

inline stored_event_row event_row_of(const statement& s) {
    stored_event_row r;
    r.position = static_cast<std::uint64_t>(s.int64(0));
    r.stream_id = s.text(1);
    r.stream_version = static_cast<std::uint64_t>(s.int64(2));
    r.event_id = uuid::parse(s.text(3)).value_or(uuid{});
    r.event.type_name = s.text(4);
    r.event.schema_version = static_cast<std::uint32_t>(s.int64(5));
    r.recorded_at = from_ns(s.int64(6));
    r.metadata.correlation_id = s.text(7);
    r.metadata.causation_id = s.text(8);
    r.metadata.tenant = s.text(9);
    r.metadata.traceparent = s.text(10);
    r.metadata.headers = decode_headers(s.text(11));
    r.event.bytes = s.text(12);
    return r;
}

// An id given twice in one append can't be one exact re-append.
inline void check_repeated_ids(const std::string& stream, const std::vector<encoded_proposed>& b) {
    std::vector<uuid> ids;
    for (const encoded_proposed& e : b) {
        if (!e.id.is_nil()) {
            ids.push_back(e.id);
        }
    }
    std::sort(ids.begin(), ids.end());
    auto twice = std::adjacent_find(ids.begin(), ids.end());
    if (twice != ids.end()) {
        throw duplicate_event_id(*twice, stream, duplicate_event_id::reason::repeated,
                                 "the id appears twice in the batch or unit of work");
    }
}

// True when `batch` re-appends a stored batch exactly (then `r` is the original result); false
// when none of its ids is stored; throws duplicate_event_id otherwise (the memory store's rules;
// payloads compare by their encoded bytes).
inline bool stored_batch(connection& c, const std::string& stream,
                         const std::vector<encoded_proposed>& batch, append_result& r) {
    struct found {
        std::uint64_t position, version, batch_first, batch_last;
        std::string stream_id, type_name, payload;
        std::uint32_t schema_version;
    };
    if (std::all_of(batch.begin(), batch.end(),
                    [](const encoded_proposed& e) { return e.id.is_nil(); })) {
        return false; // ids made on the writer are new
    }
    std::vector<std::optional<found>> rows;
    std::size_t stored = 0;
    const uuid* known = nullptr;
    for (const encoded_proposed& e : batch) {
        std::optional<found> f;
        if (!e.id.is_nil()) {
            statement& s = c.cached("SELECT position, stream_version, batch_first, batch_last, "
                                    "stream_id, type_name, payload, schema_version "
                                    "FROM eddy_events WHERE event_id = ?");
            s.bind(1, e.id.to_string());
            if (s.step()) {
                f = found{static_cast<std::uint64_t>(s.int64(0)),
                          static_cast<std::uint64_t>(s.int64(1)),
                          static_cast<std::uint64_t>(s.int64(2)),
                          static_cast<std::uint64_t>(s.int64(3)),
                          s.text(4),
                          s.text(5),
                          s.text(6),
                          static_cast<std::uint32_t>(s.int64(7))};
                s.reset();
                ++stored;
                known = known == nullptr ? &e.id : known;
            }
        }
        rows.push_back(std::move(f));
    }
    if (stored == 0) {
        return false;
    }
    if (stored != batch.size()) {
        throw duplicate_event_id(*known, stream, duplicate_event_id::reason::partial_overlap,
                                 "already stored, but " + std::to_string(batch.size() - stored) +
                                     " of the " + std::to_string(batch.size()) +
                                     " events of the batch are not (a partial overlap)");
    }
    const std::uint64_t first = rows.front()->position;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const encoded_proposed& e = batch[i];
        const found& old = *rows[i];
        const std::string where = " (stored at position " + std::to_string(old.position) +
                                  " of stream '" + old.stream_id + "')";
        if (old.stream_id != stream) {
            throw duplicate_event_id(e.id, stream, duplicate_event_id::reason::different_stream,
                                     "already stored in another stream" + where);
        }
        if (old.type_name != e.event.type_name || old.schema_version != e.event.schema_version) {
            throw duplicate_event_id(e.id, stream, duplicate_event_id::reason::different_type,
                                     "already stored as a '" + old.type_name + "' v" +
                                         std::to_string(old.schema_version) + where);
        }
        if (old.payload != e.event.bytes) {
            throw duplicate_event_id(e.id, stream, duplicate_event_id::reason::different_payload,
                                     "already stored with a different payload" + where);
        }
        if (old.position != first + i || old.batch_first != first ||
            old.batch_last != first + batch.size() - 1) {
            throw duplicate_event_id(e.id, stream, duplicate_event_id::reason::different_batch,
                                     "already stored, but the batch is not one whole earlier "
                                     "append in the same order" +
                                         where);
        }
    }
    r = append_result{rows.back()->version, first, rows.back()->position};
    return true;
}

inline std::uint64_t last_position(connection& c) {
    statement& s = c.cached("SELECT coalesce(max(position), 0) FROM eddy_events");
    std::uint64_t last = 0;
    if (s.step()) {
        last = static_cast<std::uint64_t>(s.int64(0));
        s.reset();
    }
    return last;
}

// Appends on the writer connection inside the caller's transaction. `next_id` gives the ids of
// events that have none (called here, on the writer thread: ids grow in commit order). Every
// check reads before the first write. `cache`: the transaction's last position when known (a
// plain append), kept exact on success; null: read it.
template <class NextId>
append_result append_rows(connection& c, const std::string& stream, expected_version expected,
                          const std::vector<encoded_proposed>& batch, NextId&& next_id,
                          position_cache* cache = nullptr) {
    check_repeated_ids(stream, batch);
    append_result r;
    if (stored_batch(c, stream, batch, r)) {
        return r;
    }
    const std::optional<stream_row> s = find_stream(c, stream);
    const std::uint64_t actual = s ? s->actual() : 0;
    if (!expected.accepts(actual)) {
        throw concurrency_conflict(stream, expected, actual);
    }
    std::uint64_t last = 0;
    if (cache != nullptr && cache->known) {
        last = cache->last;
    } else {
        last = last_position(c);
        if (cache != nullptr) {
            *cache = position_cache{last, true};
        }
    }
    const std::uint64_t version = s ? s->version : 0;
    if (batch.empty()) {
        return append_result{actual, last + 1, last};
    }
    const std::uint64_t first = last + 1;
    const std::uint64_t final_position = last + batch.size();
    const std::int64_t now = to_ns(std::chrono::system_clock::now());
    statement& ins = c.cached(
        "INSERT INTO eddy_events (position, stream_id, stream_version, event_id, type_name, "
        "schema_version, recorded_at, correlation_id, causation_id, tenant, traceparent, "
        "headers, payload, batch_first, batch_last) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    // Texts bound without a copy, each alive until its row's step; cleared on the way out.
    const static_binds unbind_events(ins);
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const encoded_proposed& e = batch[i];
        const uuid id = e.id.is_nil() ? next_id() : e.id;
        const std::array<char, 36> id_text = id.text();
        const std::string headers = encode_headers(e.metadata.headers);
        ins.reset()
            .bind(1, static_cast<std::int64_t>(first + i))
            .bind_static(2, stream)
            .bind(3, static_cast<std::int64_t>(version + i + 1))
            .bind_static(4, std::string_view(id_text.data(), id_text.size()))
            .bind_static(5, e.event.type_name)
            .bind(6, static_cast<std::int64_t>(e.event.schema_version))
            .bind(7, now)
            .bind_static(8, e.metadata.correlation_id)
            .bind_static(9, e.metadata.causation_id)
            .bind_static(10, e.metadata.tenant)
            .bind_static(11, e.metadata.traceparent)
            .bind_static(12, headers)
            .bind_static(13, e.event.bytes)
            .bind(14, static_cast<std::int64_t>(first))
            .bind(15, static_cast<std::int64_t>(final_position));
        try {
            ins.run();
        } catch (const sqlite_error& x) {
            if (x.extended_code() == SQLITE_CONSTRAINT_UNIQUE &&
                x.sqlite_message().find("event_id") != std::string::npos) {
                throw duplicate_event_id(id, stream, duplicate_event_id::reason::repeated,
                                         "the id appears twice in the unit of work");
            }
            throw;
        }
    }
    // The row read above decides between UPDATE and INSERT (cheaper than an upsert).
    if (s) {
        c.cached("UPDATE eddy_streams SET version = ?, deleted = 0 WHERE stream_id = ?")
            .bind(1, static_cast<std::int64_t>(version + batch.size()))
            .bind(2, stream)
            .run();
    } else {
        c.cached("INSERT INTO eddy_streams (stream_id, version) VALUES (?, ?)")
            .bind(1, stream)
            .bind(2, static_cast<std::int64_t>(version + batch.size()))
            .run();
    }
    if (cache != nullptr) {
        cache->last = final_position;
    }
    return append_result{version + batch.size(), first, final_position};
}

// Up to `limit` events of `stream` from `from_version` (never below the readable start), in one
// read transaction.
inline std::vector<stored_event_row> read_stream_rows(connection& c, const std::string& stream,
                                                      std::uint64_t from_version,
                                                      std::size_t limit) {
    std::vector<stored_event_row> out;
    c.exec("BEGIN", "reading");
    try {
        const std::optional<stream_row> s = find_stream(c, stream);
        if (s) {
            const std::uint64_t from = std::max(from_version, s->first_readable());
            statement& q = c.cached(
                "SELECT position, stream_id, stream_version, event_id, type_name, "
                "schema_version, recorded_at, correlation_id, causation_id, tenant, traceparent, "
                "headers, payload FROM eddy_events WHERE stream_id = ? AND stream_version >= ? "
                "ORDER BY stream_version LIMIT ?");
            q.bind(1, stream)
                .bind(2, static_cast<std::int64_t>(from))
                .bind(3, static_cast<std::int64_t>(limit));
            while (q.step()) {
                out.push_back(event_row_of(q));
            }
        }
        c.exec("COMMIT", "reading");
    } catch (...) {
        if (!c.autocommit()) {
            sqlite3_exec(c.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        }
        throw;
    }
    return out;
}

// Up to `limit` events from global position `from`.
inline std::vector<stored_event_row> read_all_rows(connection& c, std::uint64_t from,
                                                   std::size_t limit) {
    std::vector<stored_event_row> out;
    statement& q =
        c.cached("SELECT position, stream_id, stream_version, event_id, type_name, "
                 "schema_version, recorded_at, correlation_id, causation_id, tenant, traceparent, "
                 "headers, payload FROM eddy_events WHERE position >= ? ORDER BY position LIMIT ?");
    q.bind(1, static_cast<std::int64_t>(from)).bind(2, static_cast<std::int64_t>(limit));
    while (q.step()) {
        out.push_back(event_row_of(q));
    }
    return out;
}

inline void delete_stream_row(connection& c, const std::string& stream, expected_version expected) {
    const std::optional<stream_row> s = find_stream(c, stream);
    const std::uint64_t actual = s ? s->actual() : 0;
    if (!expected.accepts(actual)) {
        throw concurrency_conflict(stream, expected, actual);
    }
    if (s) {
        c.cached("UPDATE eddy_streams SET deleted = 1, deleted_before = version + 1 "
                 "WHERE stream_id = ?")
            .bind(1, stream)
            .run();
    }
}

inline void set_stream_metadata_row(connection& c, const std::string& stream, stream_metadata md) {
    c.cached("INSERT INTO eddy_streams (stream_id, version, truncate_before, max_count) "
             "VALUES (?, 0, ?, ?) ON CONFLICT (stream_id) DO UPDATE SET "
             "truncate_before = excluded.truncate_before, max_count = excluded.max_count")
        .bind(1, stream)
        .bind(2, static_cast<std::int64_t>(md.truncate_before))
        .bind(3, static_cast<std::int64_t>(md.max_count))
        .run();
}

} // namespace eddy::detail
