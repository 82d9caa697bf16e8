// examples/payments/payment_system_nats_off.cpp - stands in for payment_system_nats.cpp in a
// build without eddy::nats or eddy::postgres: the NATS bus is then a clear error.
#include <stdexcept> // std::invalid_argument
#include <string>    // std::string

#include "payments.hpp"
#include "stored_system.hpp"

namespace payments {

report run_postgres_nats(const std::string&, const std::string&, run_options) {
    throw std::invalid_argument("this build of payments has no NATS bus (configure with "
                                "-DEDDY_NATS=ON -DEDDY_POSTGRES=ON; it needs libnats and libpq)");
}

bool has_nats() { return false; }

} // namespace payments
