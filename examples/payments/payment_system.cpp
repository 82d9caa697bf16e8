// examples/payments/payment_system.cpp - run(): the payment system on the store the options
// name. The system itself is system.hpp, compiled once per backend (payment_system_memory.cpp,
// payment_system_sqlite.cpp), so no translation unit holds both.
#include <stdexcept> // std::invalid_argument
#include <string>    // std::string
#include <utility>   // std::move

#include "payments.hpp"

namespace payments {

report run_memory(run_options options);
report run_sqlite(const std::string& directory, run_options options);

report run(run_options options) {
    const std::string store = options.store; // a copy: options is moved from below
    if (store == "memory") {
        return run_memory(std::move(options));
    }
    if (store.rfind("sqlite:", 0) == 0 && store.size() > 7) {
        return run_sqlite(store.substr(7), std::move(options));
    }
    throw std::invalid_argument("unknown store '" + store + "': use memory or sqlite:DIRECTORY");
}

} // namespace payments
