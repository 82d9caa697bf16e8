// eddy/postgres/postgres_error.hpp - eddy::postgres_error (a failed PostgreSQL call, with its
// SQLSTATE and message) and eddy::postgres_schema_too_new (a schema written by a newer eddy).
#pragma once

#include <string>  // std::string, std::to_string
#include <utility> // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown by the PostgreSQL adapter when the server or the connection fails a statement: a lost
/// connection (SQLSTATE class 08, e.g. `08006`; also a backend terminated by an administrator,
/// `57P01`), a server refusing the connection, a constraint or a lock timeout. Carries the
/// SQLSTATE (five characters; `08006` when libpq reports a broken connection without one) and
/// the server's or libpq's message; `what()` names the operation and the schema.
/// A failed operation never leaves a unit of work half applied: its transaction is rolled back
/// (by the server when the connection died).
///
/// Thread-safety: like `std::runtime_error`.
///
///     try { co_await storage.commit(std::move(unit)); }
///     catch (const eddy::postgres_error& e) { if (e.connection_lost()) { /* retry */ } }
class postgres_error : public error {
public:
    postgres_error(std::string sqlstate, std::string message, const std::string& context)
        : error("eddy::postgres: " + context + ": " + message + " (SQLSTATE " + sqlstate + ")"),
          m_sqlstate(std::move(sqlstate)), m_message(std::move(message)) {}

    /// The five-character SQLSTATE (`23505`, `08006`, `57P01`, ...).
    [[nodiscard]] const std::string& sqlstate() const noexcept { return m_sqlstate; }
    /// The server's (or libpq's) message, without the context.
    [[nodiscard]] const std::string& server_message() const noexcept { return m_message; }
    /// True when the connection was lost or the backend was terminated (SQLSTATE class 08, or
    /// 57P01..57P03): the operation may be retried on a new connection.
    [[nodiscard]] bool connection_lost() const noexcept {
        return m_sqlstate.rfind("08", 0) == 0 || m_sqlstate == "57P01" || m_sqlstate == "57P02" ||
               m_sqlstate == "57P03";
    }

private:
    std::string m_sqlstate;
    std::string m_message;
};

/// Thrown when opening a schema whose eddy schema version is newer than this code knows (a newer
/// eddy wrote it): nothing was changed. Upgrade the program, or use another schema.
///
/// Thread-safety: like `std::runtime_error`.
class postgres_schema_too_new : public error {
public:
    postgres_schema_too_new(const std::string& schema, int found, int known)
        : error("eddy::postgres: the schema '" + schema + "' has eddy schema version " +
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
