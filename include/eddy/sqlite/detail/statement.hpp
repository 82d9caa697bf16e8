// eddy/sqlite/detail/statement.hpp - a prepared SQLite statement (RAII): bind, step, columns.
#pragma once

#include <cstdint>     // std::int64_t
#include <string>      // std::string
#include <string_view> // std::string_view
#include <utility>     // std::exchange

#include <sqlite3.h>

#include <eddy/sqlite/sqlite_error.hpp>

namespace eddy::detail {

// Throws the connection's last error as an eddy::sqlite_error.
[[noreturn]] inline void throw_sqlite(sqlite3* db, int rc, const std::string& context) {
    const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const int code = db != nullptr ? sqlite3_extended_errcode(db) : rc;
    throw sqlite_error(code, msg != nullptr ? msg : "unknown error", context);
}

// One prepared statement. Binding indices are 1-based, column indices 0-based (SQLite's).
// Not thread-safe: used by the thread that owns its connection.
class statement {
public:
    statement() = default;
    statement(sqlite3* db, std::string_view sql) : m_db(db) {
        const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                          SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr);
        if (rc != SQLITE_OK) {
            throw_sqlite(db, rc, "preparing \"" + std::string(sql) + "\"");
        }
    }
    statement(statement&& o) noexcept
        : m_db(std::exchange(o.m_db, nullptr)), m_stmt(std::exchange(o.m_stmt, nullptr)) {}
    statement& operator=(statement&& o) noexcept {
        if (this != &o) {
            sqlite3_finalize(m_stmt);
            m_db = std::exchange(o.m_db, nullptr);
            m_stmt = std::exchange(o.m_stmt, nullptr);
        }
        return *this;
    }
    ~statement() { sqlite3_finalize(m_stmt); }

    // Ready for a new execution: no row pending, no binding left from the last one.
    statement& reset() {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
        return *this;
    }

    statement& bind(int i, std::int64_t v) {
        check(sqlite3_bind_int64(m_stmt, i, v));
        return *this;
    }
    statement& bind(int i, std::string_view v) {
        check(sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
        return *this;
    }
    // Binds text without copying it: `v` must stay valid until the parameter is bound again or
    // cleared (SQLite's rule for SQLITE_STATIC; see static_binds).
    statement& bind_static(int i, std::string_view v) {
        check(sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
        return *this;
    }
    void clear_bindings() noexcept { sqlite3_clear_bindings(m_stmt); }
    statement& bind_null(int i) {
        check(sqlite3_bind_null(m_stmt, i));
        return *this;
    }
    statement& bind(int i, double v) {
        check(sqlite3_bind_double(m_stmt, i, v));
        return *this;
    }

    // True while a row is available; false when done. Throws on error (and resets, so the
    // statement's locks are released).
    bool step() {
        const int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc == SQLITE_DONE) {
            sqlite3_reset(m_stmt);
            return false;
        }
        sqlite3_reset(m_stmt);
        throw_sqlite(m_db, rc, std::string("executing \"") + sql() + "\"");
    }

    // Runs a statement that returns no row (or whose rows are ignored).
    void run() {
        while (step()) {
        }
    }

    [[nodiscard]] std::int64_t int64(int col) const { return sqlite3_column_int64(m_stmt, col); }
    [[nodiscard]] bool is_null(int col) const {
        return sqlite3_column_type(m_stmt, col) == SQLITE_NULL;
    }
    [[nodiscard]] std::string text(int col) const {
        const auto* p = sqlite3_column_text(m_stmt, col);
        const int n = sqlite3_column_bytes(m_stmt, col);
        return p == nullptr
                   ? std::string()
                   : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    }
    [[nodiscard]] double real(int col) const { return sqlite3_column_double(m_stmt, col); }
    [[nodiscard]] int type(int col) const { return sqlite3_column_type(m_stmt, col); }
    [[nodiscard]] int columns() const { return sqlite3_column_count(m_stmt); }
    [[nodiscard]] int parameters() const { return sqlite3_bind_parameter_count(m_stmt); }
    [[nodiscard]] const char* sql() const { return m_stmt ? sqlite3_sql(m_stmt) : ""; }

private:
    void check(int rc) const {
        if (rc != SQLITE_OK) {
            throw_sqlite(m_db, rc, std::string("binding a parameter of \"") + sql() + "\"");
        }
    }

    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
};

// Clears a statement's parameters when the texts bound to it with bind_static go out of scope
// (a cached statement would otherwise keep pointers to them until its next use).
class static_binds {
public:
    explicit static_binds(statement& s) noexcept : m_statement(&s) {}
    static_binds(const static_binds&) = delete;
    static_binds& operator=(const static_binds&) = delete;
    ~static_binds() { m_statement->clear_bindings(); }

private:
    statement* m_statement;
};

} // namespace eddy::detail
