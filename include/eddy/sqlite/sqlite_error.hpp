// eddy/sqlite/sqlite_error.hpp - eddy::sqlite_error (a failed SQLite call, with its result code
// and message) and eddy::sqlite_schema_too_new (a database written by a newer eddy).
#pragma once

#include <string>  // std::string, std::to_string
#include <utility> // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown by the SQLite adapter when a SQLite call fails: opening a file that is not a database
/// (or a read-only path), a full disk, a lock held longer than the busy timeout. Carries
/// SQLite's extended result code (`SQLITE_FULL`, `SQLITE_BUSY`, ..., the adapter's "SQL state")
/// and message; `what()` names the operation and the file.
///
/// Thread-safety: like `std::runtime_error`.
///
///     try { eddy::sqlite_storage db("/readonly/x.db", pool); }
///     catch (const eddy::sqlite_error& e) { e.code(); e.sqlite_message(); }
class sqlite_error : public error {
public:
    sqlite_error(int extended_code, std::string sqlite_message, const std::string& context)
        : error("eddy::sqlite: " + context + ": " + sqlite_message + " (SQLite code " +
                std::to_string(extended_code) + ")"),
          m_code(extended_code), m_message(std::move(sqlite_message)) {}

    /// The primary result code (`SQLITE_BUSY`, `SQLITE_FULL`, ...).
    [[nodiscard]] int code() const noexcept { return m_code & 0xFF; }
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE`, ...).
    [[nodiscard]] int extended_code() const noexcept { return m_code; }
    /// SQLite's own message (`sqlite3_errmsg`).
    [[nodiscard]] const std::string& sqlite_message() const noexcept { return m_message; }

private:
    int m_code;
    std::string m_message;
};

/// Thrown when opening a database whose eddy schema version is newer than this code knows (a
/// newer eddy wrote it): nothing was changed in the file. Upgrade the program, or open a copy.
///
/// Thread-safety: like `std::runtime_error`.
class sqlite_schema_too_new : public error {
public:
    sqlite_schema_too_new(const std::string& path, int found, int known)
        : error("eddy::sqlite: the database '" + path + "' has eddy schema version " +
                std::to_string(found) + ", newer than the version " + std::to_string(known) +
                " this program knows; upgrade the program (nothing was changed)"),
          m_found(found), m_known(known) {}

    [[nodiscard]] int found() const noexcept { return m_found; }
    [[nodiscard]] int known() const noexcept { return m_known; }

private:
    int m_found;
    int m_known;
};

} // namespace eddy
