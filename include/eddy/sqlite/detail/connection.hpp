// eddy/sqlite/detail/connection.hpp - one SQLite connection (RAII) with its pragmas and a cache
// of prepared statements.
#pragma once

#include <cstdint>       // std::int64_t, std::uint64_t
#include <memory>        // std::unique_ptr
#include <string>        // std::string, std::to_string
#include <string_view>   // std::string_view
#include <unordered_map> // std::unordered_map
#include <utility>       // std::exchange

#include <sqlite3.h>

#include <eddy/sqlite/detail/statement.hpp>
#include <eddy/sqlite/sqlite_error.hpp>
#include <eddy/sqlite/sqlite_options.hpp>

namespace eddy::detail {

// What the writer knows of the last event position inside its current write transaction, so the
// plain appends of one group read max(position) once. Exact only while `known`: the writer
// forgets it at each BEGIN, after each rollback, and after any write but a plain append (a unit
// of work's SQL may change anything).
struct position_cache {
    std::uint64_t last = 0;
    bool known = false;
    void forget() noexcept { known = false; }
};

// A connection owned by one thread at a time (opened with SQLITE_OPEN_NOMUTEX: eddy never
// shares one between threads concurrently; a worker thread owns each).
class connection {
public:
    connection(const std::string& path, const sqlite_options& o) : m_path(path) {
        const int rc = sqlite3_open_v2(
            path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
            nullptr);
        if (rc != SQLITE_OK) {
            std::string msg = m_db != nullptr ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
            sqlite3_close_v2(m_db);
            throw sqlite_error(rc, msg, "opening '" + path + "'");
        }
        sqlite3_extended_result_codes(m_db, 1);
        sqlite3_busy_timeout(m_db, static_cast<int>(o.busy_timeout.count()));
        try {
            // The first statement to read the file: a foreign file fails here (SQLITE_NOTADB).
            exec("PRAGMA journal_mode=WAL", "setting WAL mode on");
            exec(o.synchronous == sqlite_options::sync::full ? "PRAGMA synchronous=FULL"
                                                             : "PRAGMA synchronous=NORMAL",
                 "setting the durability of");
            exec("PRAGMA foreign_keys=ON", "configuring");
        } catch (...) {
            sqlite3_close_v2(m_db); // the destructor does not run for a throwing constructor
            throw;
        }
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() {
        m_cache.clear(); // finalize before close
        m_text_cache.clear();
        sqlite3_close_v2(m_db);
    }

    // Runs SQL without results (may hold several statements); `what` says what for errors.
    void exec(const char* sql, std::string_view what) {
        char* err = nullptr;
        const int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, &err);
        if (rc != SQLITE_OK) {
            std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
            sqlite3_free(err);
            throw sqlite_error(sqlite3_extended_errcode(m_db), msg,
                               std::string(what) + " '" + m_path + "'");
        }
    }

    // The prepared statement of `sql`, prepared once per connection and reset for reuse.
    statement& cached(const char* sql) {
        auto it = m_cache.find(sql);
        if (it == m_cache.end()) {
            it = m_cache.emplace(sql, statement(m_db, sql)).first;
        }
        return it->second.reset();
    }

    // The prepared statement of a user's `sql` (not a literal: keyed by its text). The cache is
    // emptied when it grows past a bound, so SQL built per call cannot exhaust memory.
    statement& cached_text(const std::string& sql) {
        auto it = m_text_cache.find(sql);
        if (it == m_text_cache.end()) {
            if (m_text_cache.size() >= 256) {
                m_text_cache.clear();
            }
            it = m_text_cache.emplace(sql, statement(m_db, sql)).first;
        }
        return it->second.reset();
    }

    // Rows changed by the last INSERT, UPDATE or DELETE.
    [[nodiscard]] std::int64_t changes() const noexcept { return sqlite3_changes64(m_db); }
    // Rows changed since the connection opened (a DDL statement leaves changes() as it was).
    [[nodiscard]] std::int64_t total_changes() const noexcept {
        return sqlite3_total_changes64(m_db);
    }

    // Whether no transaction is open (SQLite rolls back by itself after some errors).
    [[nodiscard]] bool autocommit() const noexcept { return sqlite3_get_autocommit(m_db) != 0; }
    [[nodiscard]] sqlite3* handle() const noexcept { return m_db; }
    [[nodiscard]] const std::string& path() const noexcept { return m_path; }
    // The writer's position cache (unused on the reader).
    [[nodiscard]] position_cache& positions() noexcept { return m_positions; }

private:
    std::string m_path;
    sqlite3* m_db = nullptr;
    position_cache m_positions;
    // Keyed by the SQL text's address: callers pass string literals (one entry per call site).
    std::unordered_map<const char*, statement> m_cache;
    std::unordered_map<std::string, statement> m_text_cache;
};

} // namespace eddy::detail
