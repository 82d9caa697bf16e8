// tests/postgres/pg_test_schema.hpp - the server the eddy::postgres tests use (EDDY_PG_CONNINFO,
// set by scripts/test) and a fresh schema per fixture, dropped with it, so tests are
// independent of each other and of earlier runs.
#pragma once

#include <atomic>    // std::atomic
#include <cstddef>   // std::size_t
#include <cstdlib>   // std::getenv
#include <stdexcept> // std::runtime_error
#include <string>    // std::string, std::to_string

#include <libpq-fe.h>
#include <unistd.h> // getpid

#include <eddy/postgres/postgres_options.hpp>

namespace eddy::test::postgres {

/// The connection string of the test server; a test without one fails, naming the fix.
inline std::string conninfo() {
    const char* c = std::getenv("EDDY_PG_CONNINFO");
    if (c == nullptr || *c == '\0') {
        throw std::runtime_error(
            "EDDY_PG_CONNINFO is not set: the eddy::postgres tests need a PostgreSQL server. "
            "Run them with scripts/test (it starts a throwaway server), or: source "
            "scripts/lib/postgres.sh && postgres_start, then run the tests, then postgres_stop");
    }
    return c;
}

/// Runs `sql` on a connection of its own (what an operator's tool would do); returns the first
/// column of the first row ("" when none). Throws with the server's message on failure.
inline std::string admin(const std::string& sql) {
    PGconn* c = PQconnectdb(conninfo().c_str());
    if (PQstatus(c) != CONNECTION_OK) {
        std::string m = PQerrorMessage(c);
        PQfinish(c);
        throw std::runtime_error("connecting: " + m);
    }
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr); // "does not exist, skipping"
    PGresult* r = PQexec(c, sql.c_str());
    const ExecStatusType s = PQresultStatus(r);
    std::string out;
    if (s == PGRES_TUPLES_OK && PQntuples(r) > 0) {
        out = PQgetvalue(r, 0, 0);
    }
    std::string m = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
        throw std::runtime_error(sql + ": " + m);
    }
    return out;
}

/// A schema name no other test (or test program) uses; dropped, with its tables, when this is
/// destroyed (declare it before the storages using it).
class fresh_schema {
public:
    fresh_schema() {
        static std::atomic<int> counter{0};
        m_name = "eddy_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
        admin("DROP SCHEMA IF EXISTS \"" + m_name + "\" CASCADE");
    }
    fresh_schema(const fresh_schema&) = delete;
    fresh_schema& operator=(const fresh_schema&) = delete;
    ~fresh_schema() {
        try {
            admin("DROP SCHEMA IF EXISTS \"" + m_name + "\" CASCADE");
        } catch (...) { // NOLINT: a test's own failure is the one to report
        }
    }
    [[nodiscard]] const std::string& name() const noexcept { return m_name; }
    /// A storage's options in this schema, with `pool_size` connections.
    [[nodiscard]] eddy::postgres_options options(std::size_t pool_size) const {
        eddy::postgres_options o;
        o.schema = m_name;
        o.pool_size = pool_size;
        return o;
    }

private:
    std::string m_name;
};

} // namespace eddy::test::postgres
