// eddy/sqlite/detail/outbox_rows.hpp - the outbox table's SQL on encoded messages (no template):
// enqueue, claim with leases and per-aggregate order, publish marks, release, stats, purge.
#pragma once

#include <cstddef> // std::size_t
#include <cstdint> // std::int64_t, std::uint64_t, std::uint32_t
#include <set>     // std::set
#include <string>  // std::string
#include <utility> // std::move
#include <vector>  // std::vector

#include <eddy/core/error.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/outbox/outbox_message.hpp>
#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/detail/event_rows.hpp>

namespace eddy::detail {

// An outbox message with its payload encoded (on the caller's thread) or not yet decoded.
struct encoded_outbox_message {
    outbox_message<int> fields; // every field but the payload (the int is unused)
    std::string payload;
};

inline void insert_outbox_row(connection& c, const std::string& outbox,
                              const encoded_outbox_message& m, std::int64_t now) {
    statement& dup = c.cached("SELECT 1 FROM eddy_outbox WHERE id = ?");
    dup.bind(1, m.fields.id.to_string());
    if (dup.step()) {
        dup.reset();
        throw error("eddy::sqlite_outbox_store: message " + m.fields.id.to_string() +
                    " is already in the outbox");
    }
    c.cached("INSERT INTO eddy_outbox (outbox, id, topic, aggregate_type, aggregate_id, "
             "event_type, payload, headers, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, outbox)
        .bind(2, m.fields.id.to_string())
        .bind(3, m.fields.topic)
        .bind(4, m.fields.aggregate_type)
        .bind(5, m.fields.aggregate_id)
        .bind(6, m.fields.event_type)
        .bind(7, m.payload)
        .bind(8, encode_headers(m.fields.headers))
        .bind(9, now)
        .run();
}

inline encoded_outbox_message outbox_row_of(const statement& s) {
    encoded_outbox_message m;
    m.fields.sequence = static_cast<std::uint64_t>(s.int64(0));
    m.fields.id = uuid::parse(s.text(1)).value_or(uuid{});
    m.fields.topic = s.text(2);
    m.fields.aggregate_type = s.text(3);
    m.fields.aggregate_id = s.text(4);
    m.fields.event_type = s.text(5);
    m.payload = s.text(6);
    m.fields.headers = decode_headers(s.text(7));
    m.fields.created = from_ns(s.int64(8));
    m.fields.status = s.is_null(9) ? outbox_status::pending : outbox_status::published;
    m.fields.attempts = static_cast<std::uint32_t>(s.int64(10));
    m.fields.last_error = s.text(11);
    return m;
}

#define EDDY_SQLITE_OUTBOX_COLUMNS                                                                 \
    "sequence, id, topic, aggregate_type, aggregate_id, event_type, payload, headers, "            \
    "created_at, published_at, attempts, last_error"

// Leases up to `max` pending messages to `relay` until `until`, in sequence order, skipping
// (with every later message of their aggregate) those leased to anyone until after `now`.
inline std::vector<encoded_outbox_message>
claim_outbox_rows(connection& c, const std::string& outbox, const std::string& relay,
                  std::size_t max, std::int64_t now, std::int64_t until) {
    std::vector<std::int64_t> chosen;
    {
        // Only the light columns while scanning: payloads are read for the chosen rows.
        statement& scan =
            c.cached("SELECT sequence, aggregate_id, claimed_by, lease_until FROM eddy_outbox "
                     "WHERE outbox = ? AND published_at IS NULL ORDER BY sequence");
        scan.bind(1, outbox);
        std::set<std::string> blocked;
        while (chosen.size() < max && scan.step()) {
            std::string aggregate = scan.text(1);
            const bool held = !scan.text(2).empty() && scan.int64(3) > now;
            if (held || blocked.contains(aggregate)) {
                blocked.insert(std::move(aggregate));
                continue;
            }
            chosen.push_back(scan.int64(0));
        }
        scan.reset();
    }
    std::vector<encoded_outbox_message> out;
    out.reserve(chosen.size());
    for (const std::int64_t sequence : chosen) {
        c.cached("UPDATE eddy_outbox SET claimed_by = ?, lease_until = ? WHERE sequence = ?")
            .bind(1, relay)
            .bind(2, until)
            .bind(3, sequence)
            .run();
        statement& row =
            c.cached("SELECT " EDDY_SQLITE_OUTBOX_COLUMNS " FROM eddy_outbox WHERE sequence = ?");
        row.bind(1, sequence);
        if (row.step()) {
            out.push_back(outbox_row_of(row));
            row.reset();
        }
    }
    return out;
}

inline void mark_outbox_rows(connection& c, const std::string& outbox, const std::vector<uuid>& ids,
                             std::int64_t now) {
    std::int64_t marked = 0;
    for (const uuid& id : ids) {
        const std::string text = id.to_string();
        c.cached("UPDATE eddy_outbox SET published_at = ?, claimed_by = '' "
                 "WHERE outbox = ? AND id = ? AND published_at IS NULL")
            .bind(1, now)
            .bind(2, outbox)
            .bind(3, text)
            .run();
        if (c.changes() == 1) {
            ++marked;
            continue;
        }
        statement& known = c.cached("SELECT 1 FROM eddy_outbox WHERE outbox = ? AND id = ?");
        known.bind(1, outbox).bind(2, text);
        if (!known.step()) {
            throw error("eddy::sqlite_outbox_store::mark_published: no message " + text);
        }
        known.reset(); // already published (another relay got there first)
    }
    if (marked > 0) {
        c.cached("INSERT INTO eddy_outbox_counts (outbox, published) VALUES (?, ?) "
                 "ON CONFLICT (outbox) DO UPDATE SET published = published + excluded.published")
            .bind(1, outbox)
            .bind(2, marked)
            .run();
    }
}

inline void release_outbox_row(connection& c, const std::string& outbox, const std::string& relay,
                               const uuid& id, const std::string& error_text) {
    const std::string text = id.to_string();
    statement& who = c.cached("SELECT claimed_by FROM eddy_outbox WHERE outbox = ? AND id = ?");
    who.bind(1, outbox).bind(2, text);
    if (!who.step()) {
        throw error("eddy::sqlite_outbox_store::release: no message " + text);
    }
    const std::string holder = who.text(0);
    who.reset();
    if (holder != relay) {
        throw error("eddy::sqlite_outbox_store::release: message " + text +
                    " is not leased to relay '" + relay + "'");
    }
    c.cached("UPDATE eddy_outbox SET claimed_by = '', lease_until = 0, attempts = attempts + 1, "
             "last_error = ? WHERE outbox = ? AND id = ?")
        .bind(1, error_text)
        .bind(2, outbox)
        .bind(3, text)
        .run();
}

inline outbox_stats outbox_stats_of(connection& c, const std::string& outbox) {
    outbox_stats out;
    statement& pending = c.cached("SELECT count(*), min(created_at) FROM eddy_outbox "
                                  "WHERE outbox = ? AND published_at IS NULL");
    pending.bind(1, outbox);
    if (pending.step()) {
        out.pending = static_cast<std::uint64_t>(pending.int64(0));
        if (out.pending > 0) {
            out.oldest_pending = from_ns(pending.int64(1));
        }
        pending.reset();
    }
    statement& published = c.cached("SELECT published FROM eddy_outbox_counts WHERE outbox = ?");
    published.bind(1, outbox);
    if (published.step()) {
        out.published = static_cast<std::uint64_t>(published.int64(0));
        published.reset();
    }
    return out;
}

inline std::size_t purge_outbox_rows(connection& c, const std::string& outbox,
                                     std::int64_t older_than) {
    c.cached("DELETE FROM eddy_outbox WHERE outbox = ? AND published_at IS NOT NULL "
             "AND published_at < ?")
        .bind(1, outbox)
        .bind(2, older_than)
        .run();
    return static_cast<std::size_t>(c.changes());
}

inline std::vector<encoded_outbox_message> all_outbox_rows(connection& c,
                                                           const std::string& outbox) {
    statement& s = c.cached("SELECT " EDDY_SQLITE_OUTBOX_COLUMNS
                            " FROM eddy_outbox WHERE outbox = ? ORDER BY sequence");
    s.bind(1, outbox);
    std::vector<encoded_outbox_message> out;
    while (s.step()) {
        out.push_back(outbox_row_of(s));
    }
    return out;
}

#undef EDDY_SQLITE_OUTBOX_COLUMNS

} // namespace eddy::detail
