// eddy/postgres/detail/libpq.hpp - the one header that includes <libpq-fe.h>: owned connections
// and results, statement parameters, text-format values, errors with their SQLSTATE, and the
// blocking calls the storage's constructor makes (connecting, migrating).
#pragma once

#include <charconv>     // std::from_chars
#include <cstddef>      // std::size_t
#include <cstdint>      // std::int64_t, std::uint64_t
#include <cstdlib>      // std::getenv
#include <memory>       // std::unique_ptr
#include <string>       // std::string, std::to_string, std::char_traits
#include <string_view>  // std::string_view
#include <system_error> // std::errc
#include <utility>      // std::move
#include <vector>       // std::vector

// Where the distribution puts it: found through the eddy::postgres target's include directory,
// or (Debian, without it) under postgresql/.
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#elif __has_include(<postgresql/libpq-fe.h>)
#include <postgresql/libpq-fe.h>
#else
#error "eddy::postgres needs libpq's <libpq-fe.h> (Debian: apt-get install libpq-dev)"
#endif

#include <eddy/postgres/postgres_error.hpp>

namespace eddy::detail {

struct pg_conn_deleter {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using pg_conn_ptr = std::unique_ptr<PGconn, pg_conn_deleter>;

struct pg_result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using pg_result_ptr = std::unique_ptr<PGresult, pg_result_deleter>;

// Statement parameters, all sent as text except bytea values (binary: any bytes, no escaping).
class pg_params {
public:
    pg_params& text(std::string v) {
        m_values.push_back(std::move(v));
        m_null.push_back(false);
        m_binary.push_back(0);
        return *this;
    }
    pg_params& integer(std::int64_t v) { return text(std::to_string(v)); }
    pg_params& bytes(std::string v) {
        text(std::move(v));
        m_binary.back() = 1;
        return *this;
    }
    pg_params& null() {
        text({});
        m_null.back() = true;
        return *this;
    }
    [[nodiscard]] std::size_t size() const noexcept { return m_values.size(); }

    // Pointers into the values, valid while this object is neither changed nor moved.
    struct view {
        std::vector<const char*> values;
        std::vector<int> lengths;
    };
    [[nodiscard]] view pointers() const {
        view v;
        for (std::size_t i = 0; i < m_values.size(); ++i) {
            v.values.push_back(m_null[i] ? nullptr : m_values[i].c_str());
            v.lengths.push_back(static_cast<int>(m_values[i].size()));
        }
        return v;
    }
    [[nodiscard]] const int* formats() const noexcept { return m_binary.data(); }

private:
    std::vector<std::string> m_values;
    std::vector<bool> m_null;
    std::vector<int> m_binary;
};

// A statement's rows, in text format.
class pg_rows {
public:
    pg_rows() = default;
    explicit pg_rows(pg_result_ptr r) : m_result(std::move(r)) {}

    [[nodiscard]] int size() const noexcept { return m_result ? PQntuples(m_result.get()) : 0; }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    [[nodiscard]] int columns() const noexcept { return m_result ? PQnfields(m_result.get()) : 0; }
    // The type (OID) of column `col`.
    [[nodiscard]] Oid type(int col) const { return PQftype(m_result.get(), col); }
    // The rows an INSERT, UPDATE, DELETE (...) changed; 0 for other statements.
    [[nodiscard]] std::int64_t affected() const {
        const char* n = m_result ? PQcmdTuples(m_result.get()) : "";
        std::int64_t v = 0;
        (void)std::from_chars(n, n + std::char_traits<char>::length(n), v);
        return v;
    }
    [[nodiscard]] bool null(int row, int col) const {
        return PQgetisnull(m_result.get(), row, col) != 0;
    }
    [[nodiscard]] std::string text(int row, int col) const {
        return std::string(PQgetvalue(m_result.get(), row, col),
                           static_cast<std::size_t>(PQgetlength(m_result.get(), row, col)));
    }
    [[nodiscard]] std::uint64_t u64(int row, int col) const {
        const char* p = PQgetvalue(m_result.get(), row, col);
        const char* end = p + PQgetlength(m_result.get(), row, col);
        std::uint64_t v = 0;
        if (std::from_chars(p, end, v).ec != std::errc{}) {
            throw error("eddy::postgres: not an unsigned integer: '" + std::string(p, end) + "'");
        }
        return v;
    }
    [[nodiscard]] std::int64_t i64(int row, int col) const {
        const char* p = PQgetvalue(m_result.get(), row, col);
        const char* end = p + PQgetlength(m_result.get(), row, col);
        std::int64_t v = 0;
        if (std::from_chars(p, end, v).ec != std::errc{}) {
            throw error("eddy::postgres: not an integer: '" + std::string(p, end) + "'");
        }
        return v;
    }
    [[nodiscard]] bool boolean(int row, int col) const {
        return *PQgetvalue(m_result.get(), row, col) == 't';
    }
    // A bytea column: text format is "\x" and two hex digits per byte.
    [[nodiscard]] std::string bytes(int row, int col) const {
        const std::string_view hex(PQgetvalue(m_result.get(), row, col),
                                   static_cast<std::size_t>(PQgetlength(m_result.get(), row, col)));
        if (hex.size() < 2 || hex[0] != '\\' || hex[1] != 'x' || hex.size() % 2 != 0) {
            throw error("eddy::postgres: a bytea value not in hex format");
        }
        auto digit = [](char c) {
            return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; // only what the server writes
        };
        std::string out;
        out.reserve(hex.size() / 2 - 1);
        for (std::size_t i = 2; i < hex.size(); i += 2) {
            out.push_back(static_cast<char>(digit(hex[i]) * 16 + digit(hex[i + 1])));
        }
        return out;
    }

private:
    pg_result_ptr m_result;
};

// The error a failed result reports (its SQLSTATE and primary message).
inline postgres_error pg_result_error(const PGresult* r, const std::string& context) {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    std::string message = primary != nullptr ? primary : PQresultErrorMessage(r);
    return postgres_error(state != nullptr ? state : "XX000", std::move(message), context);
}

// The error of a connection libpq reports broken (no SQLSTATE from a server): 08006.
inline postgres_error pg_connection_error(const PGconn* c, const std::string& context) {
    std::string message = c != nullptr ? PQerrorMessage(c) : "out of memory";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
        message.pop_back();
    }
    if (message.empty()) {
        message = "the connection to the server was lost";
    }
    return postgres_error("08006", std::move(message), context);
}

// Notices (such as "schema already exists, skipping") are not errors: libpq would print them
// to stderr.
inline void pg_quiet(PGconn* c) noexcept {
    if (c != nullptr) {
        PQsetNoticeProcessor(
            c, [](void*, const char*) {}, nullptr);
    }
}

// Connection parameters: the user's conninfo (expanded) and eddy's application name when the
// user set none, so operators can tell eddy's sessions apart in pg_stat_activity; with a
// `search_path` (a validated schema name), sessions start with that schema first on the search
// path (the user's own SQL names its tables unqualified; eddy's statements qualify theirs).
struct pg_conninfo {
    std::string conninfo;
    std::string application_name;
    std::string search_path;

    [[nodiscard]] PGconn* start() const {
        const std::string o = options();
        const char* keys[] = {"dbname", "fallback_application_name", "options", nullptr};
        const char* values[] = {conninfo.c_str(), application_name.c_str(), o.c_str(), nullptr};
        if (o.empty()) {
            keys[2] = nullptr; // the user's options (or PGOPTIONS) as they are
        }
        PGconn* c = PQconnectStartParams(keys, values, 1);
        pg_quiet(c);
        return c;
    }
    [[nodiscard]] pg_conn_ptr connect_blocking(const std::string& context) const {
        const std::string o = options();
        const char* keys[] = {"dbname", "fallback_application_name", "options", nullptr};
        const char* values[] = {conninfo.c_str(), application_name.c_str(), o.c_str(), nullptr};
        if (o.empty()) {
            keys[2] = nullptr;
        }
        pg_conn_ptr c(PQconnectdbParams(keys, values, 1));
        if (!c || PQstatus(c.get()) != CONNECTION_OK) {
            throw pg_connection_error(c.get(), context);
        }
        pg_quiet(c.get());
        return c;
    }

    // The "options" parameter: the user's own (from the conninfo, else PGOPTIONS), then the
    // search path (a later -c wins). Empty without a search path.
    [[nodiscard]] std::string options() const {
        if (search_path.empty()) {
            return {};
        }
        std::string user;
        char* error = nullptr;
        if (PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &error)) {
            for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
                if (std::string_view(o->keyword) == "options" && o->val != nullptr) {
                    user = o->val;
                }
            }
            PQconninfoFree(parsed);
        } else {
            PQfreemem(error); // a plain database name: no options in it
        }
        const char* env = std::getenv("PGOPTIONS"); // ignored by libpq once "options" is given
        if (user.empty() && env != nullptr) {
            user = env;
        }
        return (user.empty() ? "" : user + " ") + "-c search_path=" + search_path + ",public";
    }
};

// Runs one statement on a blocking connection (the constructor's schema work).
inline pg_rows pg_exec_blocking(PGconn* c, const std::string& sql, const pg_params& params,
                                const std::string& context) {
    const pg_params::view v = params.pointers();
    pg_result_ptr r(PQexecParams(c, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                 v.values.data(), v.lengths.data(), params.formats(), 0));
    if (!r) {
        throw pg_connection_error(c, context);
    }
    const ExecStatusType s = PQresultStatus(r.get());
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        if (PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) == nullptr &&
            PQstatus(c) != CONNECTION_OK) {
            throw pg_connection_error(c, context);
        }
        throw pg_result_error(r.get(), context);
    }
    return pg_rows(std::move(r));
}

// Runs a script of several statements without parameters (migrations).
inline void pg_exec_script(PGconn* c, const std::string& sql, const std::string& context) {
    pg_result_ptr r(PQexec(c, sql.c_str()));
    if (!r) {
        throw pg_connection_error(c, context);
    }
    const ExecStatusType s = PQresultStatus(r.get());
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        throw pg_result_error(r.get(), context);
    }
}

} // namespace eddy::detail
