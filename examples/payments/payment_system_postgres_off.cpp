// examples/payments/payment_system_postgres_off.cpp - stands in for
// payment_system_postgres.cpp in a build without eddy::postgres: the PostgreSQL store is then
// a clear error.
#include <memory>    // std::unique_ptr
#include <stdexcept> // std::invalid_argument
#include <string>    // std::string

#include "payments.hpp"
#include "stored_system.hpp"

namespace payments {

namespace {
[[noreturn]] void unavailable() {
    throw std::invalid_argument("this build of payments has no PostgreSQL store (configure with "
                                "-DEDDY_POSTGRES=ON; it needs libpq)");
}
} // namespace

report run_postgres(const std::string&, run_options) { unavailable(); }

std::unique_ptr<stored_system> stored_postgres(const std::string&, const std::string&,
                                               const std::string&) {
    unavailable();
}

bool has_postgres() { return false; }

void drop_postgres_schemas(const std::string&, const std::string&) { unavailable(); }

} // namespace payments
