// examples/payments/payment_system_postgres.cpp - the payment system on PostgreSQL (a schema per
// service), and the data its runs left (for orders, replay, saga show, dlq list). Compiled
// when eddy::postgres is built; payment_system_postgres_off.cpp stands in otherwise.
#include <memory>    // std::unique_ptr, std::make_unique
#include <stdexcept> // std::invalid_argument, std::runtime_error
#include <string>    // std::string

#include <libpq-fe.h>

#include "payments.hpp"
#include "postgres_backend.hpp"
#include "queries.hpp"
#include "stored_system.hpp"
#include "system.hpp"

namespace payments {

// The schema names eddy accepts ([a-z_][a-z0-9_]*, at most 63 characters) for every service.
void check_schema_prefix(const std::string& prefix) {
    bool plain = !prefix.empty() && prefix.size() <= 54 && (prefix[0] < '0' || prefix[0] > '9');
    for (const char c : prefix) {
        plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    }
    if (!plain) {
        throw std::invalid_argument("the schema prefix '" + prefix +
                                    "' is not a lower-case identifier (a-z, 0-9 and _, not "
                                    "starting with a digit, at most 54 characters)");
    }
}

namespace {

const char* const databases[] = {"orders", "payment", "inventory", "shipping", "dlq"};

// One statement on a connection of its own (what an operator's psql would do); the first
// column of the first row ("" when none).
std::string admin(const std::string& conninfo, const std::string& sql, const std::string& param) {
    PGconn* c = PQconnectdb(conninfo.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
        const std::string m = PQerrorMessage(c);
        PQfinish(c);
        throw std::runtime_error("connecting to PostgreSQL: " + m);
    }
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr); // "does not exist, skipping"
    const char* values[] = {param.c_str()};
    PGresult* r =
        PQexecParams(c, sql.c_str(), param.empty() ? 0 : 1, nullptr, values, nullptr, nullptr, 0);
    const ExecStatusType s = PQresultStatus(r);
    const std::string out = s == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    const std::string m = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
        throw std::runtime_error("PostgreSQL: " + m);
    }
    return out;
}

} // namespace

report run_postgres(const std::string& conninfo, run_options options) {
    check_schema_prefix(options.schema_prefix);
    eddy::thread_pool pool(2);
    const std::string prefix = options.schema_prefix;
    return run_on(postgres_backend(conninfo, prefix, pool), pool, std::move(options),
                  make_memory_bus{});
}

std::unique_ptr<stored_system> stored_postgres(const std::string& store,
                                               const std::string& conninfo,
                                               const std::string& schema_prefix) {
    check_schema_prefix(schema_prefix);
    // Opening a storage creates its schema: look first, so a wrong prefix creates nothing.
    const std::string orders = schema_prefix + "orders";
    if (admin(conninfo, "SELECT 1 FROM pg_namespace WHERE nspname = $1", orders).empty()) {
        throw std::invalid_argument("no payment system data in schema '" + orders +
                                    "': run `payments run --store " + store + " --schema-prefix " +
                                    schema_prefix + "` first");
    }
    return std::make_unique<stored_on<postgres_backend>>(
        store, [&conninfo, &schema_prefix](eddy::thread_pool& p) {
            return postgres_backend(conninfo, schema_prefix, p);
        });
}

bool has_postgres() { return true; }

void drop_postgres_schemas(const std::string& conninfo, const std::string& schema_prefix) {
    check_schema_prefix(schema_prefix);
    for (const char* database : databases) {
        admin(conninfo, "DROP SCHEMA IF EXISTS \"" + schema_prefix + database + "\" CASCADE", "");
    }
}

} // namespace payments
