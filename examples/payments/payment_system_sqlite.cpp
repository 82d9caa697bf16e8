// examples/payments/payment_system_sqlite.cpp - the payment system on SQLite, and the data its
// runs left (for orders, replay, saga show, dlq list).
#include <filesystem> // std::filesystem::exists
#include <memory>     // std::unique_ptr, std::make_unique
#include <stdexcept>  // std::invalid_argument
#include <string>     // std::string

#include "payments.hpp"
#include "queries.hpp"
#include "stored_system.hpp"
#include "system.hpp"

namespace payments {

report run_sqlite(const std::string& directory, run_options options) {
    eddy::thread_pool pool(2);
    return run_on(sqlite_backend(directory, pool), pool, std::move(options), make_memory_bus{});
}

std::unique_ptr<stored_system> stored_sqlite(const std::string& store,
                                             const std::string& directory) {
    if (!std::filesystem::exists(directory + "/orders.db")) {
        throw std::invalid_argument("no payment system data in '" + directory +
                                    "': run `payments run --store " + store + "` first");
    }
    return std::make_unique<stored_on<sqlite_backend>>(
        store, [&directory](eddy::thread_pool& p) { return sqlite_backend(directory, p); });
}

} // namespace payments
