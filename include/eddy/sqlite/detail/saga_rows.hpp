// eddy/sqlite/detail/saga_rows.hpp - the saga tables' SQL on encoded contexts (no template).
#pragma once

#include <cstddef>     // std::size_t
#include <cstdint>     // std::int64_t
#include <optional>    // std::optional
#include <string>      // std::string
#include <string_view> // std::string_view
#include <vector>      // std::vector

#include <eddy/core/error.hpp>
#include <eddy/saga/saga_transition.hpp>
#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/detail/event_rows.hpp>

namespace eddy::detail {

// Kinds are stored by name (eddy::to_string: readable in the sqlite3 shell).
inline std::string_view kind_name(saga_transition_kind k) { return to_string(k); }

inline saga_transition_kind kind_of(const std::string& name) {
    if (const auto k = saga_transition_kind_from(name)) {
        return *k;
    }
    throw error("eddy::sqlite_saga_log: unknown transition kind '" + name + "' in the log");
}

// A transition with its context encoded.
struct encoded_transition {
    saga_transition_kind kind = saga_transition_kind::saga_started;
    std::string step;
    std::size_t attempt = 0;
    std::int64_t at = 0;
    std::optional<std::string> context;
    std::string error;
};

struct encoded_history {
    std::string id;
    std::string definition;
    std::vector<encoded_transition> transitions;
};

inline void insert_transition(connection& c, std::int64_t seq, std::int64_t n,
                              const encoded_transition& t) {
    statement& s = c.cached("INSERT INTO eddy_saga_transitions "
                            "(saga_seq, n, kind, step, attempt, at, context, error) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, seq)
        .bind(2, n)
        .bind(3, kind_name(t.kind))
        .bind(4, t.step)
        .bind(5, static_cast<std::int64_t>(t.attempt))
        .bind(6, t.at);
    if (t.context) {
        s.bind(7, *t.context);
    } else {
        s.bind_null(7);
    }
    s.bind(8, t.error).run();
}

inline void start_saga_row(connection& c, const std::string& log, const std::string& id,
                           const std::string& definition, const encoded_transition& first) {
    statement& find = c.cached("SELECT 1 FROM eddy_sagas WHERE log = ? AND saga_id = ?");
    find.bind(1, log).bind(2, id);
    if (find.step()) {
        find.reset();
        throw error("eddy::sqlite_saga_log: saga id '" + id + "' is already in the log");
    }
    c.cached("INSERT INTO eddy_sagas (log, saga_id, definition, finished) VALUES (?, ?, ?, ?)")
        .bind(1, log)
        .bind(2, id)
        .bind(3, definition)
        .bind(4, static_cast<std::int64_t>(is_final(first.kind) ? 1 : 0))
        .run();
    insert_transition(c, sqlite3_last_insert_rowid(c.handle()), 0, first);
}

inline void record_saga_row(connection& c, const std::string& log, const std::string& id,
                            const encoded_transition& t) {
    statement& find =
        c.cached("SELECT s.seq, (SELECT coalesce(max(n), -1) FROM eddy_saga_transitions "
                 "WHERE saga_seq = s.seq) FROM eddy_sagas s WHERE s.log = ? AND s.saga_id = ?");
    find.bind(1, log).bind(2, id);
    if (!find.step()) {
        throw error("eddy::sqlite_saga_log: no saga with id '" + id + "'");
    }
    const std::int64_t seq = find.int64(0);
    const std::int64_t last = find.int64(1);
    find.reset();
    insert_transition(c, seq, last + 1, t);
    c.cached("UPDATE eddy_sagas SET finished = ? WHERE seq = ?")
        .bind(1, static_cast<std::int64_t>(is_final(t.kind) ? 1 : 0))
        .bind(2, seq)
        .run();
}

inline std::optional<encoded_history> load_saga_rows(connection& c, const std::string& log,
                                                     const std::string& id) {
    c.exec("BEGIN", "reading");
    std::optional<encoded_history> out;
    try {
        statement& find =
            c.cached("SELECT seq, definition FROM eddy_sagas WHERE log = ? AND saga_id = ?");
        find.bind(1, log).bind(2, id);
        if (find.step()) {
            const std::int64_t seq = find.int64(0);
            out.emplace();
            out->id = id;
            out->definition = find.text(1);
            find.reset();
            statement& q = c.cached("SELECT kind, step, attempt, at, context, error "
                                    "FROM eddy_saga_transitions WHERE saga_seq = ? ORDER BY n");
            q.bind(1, seq);
            while (q.step()) {
                encoded_transition t;
                t.kind = kind_of(q.text(0));
                t.step = q.text(1);
                t.attempt = static_cast<std::size_t>(q.int64(2));
                t.at = q.int64(3);
                if (!q.is_null(4)) {
                    t.context = q.text(4);
                }
                t.error = q.text(5);
                out->transitions.push_back(std::move(t));
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

inline std::vector<std::string> unfinished_saga_rows(connection& c, const std::string& log) {
    std::vector<std::string> ids;
    statement& q =
        c.cached("SELECT saga_id FROM eddy_sagas WHERE log = ? AND finished = 0 ORDER BY seq");
    q.bind(1, log);
    while (q.step()) {
        ids.push_back(q.text(0));
    }
    return ids;
}

} // namespace eddy::detail
