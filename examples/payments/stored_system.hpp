// examples/payments/stored_system.hpp - what the commands other than `run` read: the data
// earlier runs left in a store. One implementation per backend (stored_on in queries.hpp,
// compiled with its backend), so payment_system.cpp dispatches without holding any backend.
#pragma once

#include <memory> // std::unique_ptr
#include <string> // std::string
#include <vector> // std::vector

#include "payments.hpp"

namespace payments {

/// The data of a store that earlier runs wrote (see payments.hpp for each query).
class stored_system {
public:
    stored_system() = default;
    stored_system(const stored_system&) = delete;
    stored_system& operator=(const stored_system&) = delete;
    virtual ~stored_system() = default;

    virtual std::vector<order_row> orders() = 0;
    virtual replay_report replay() = 0;
    virtual std::vector<dead_letter_line> dead_letters() = 0;
    virtual std::vector<std::string> saga(const std::string& id) = 0;
};

// payment_system_sqlite.cpp, payment_system_postgres.cpp (or its stand-in without PostgreSQL).
// `store` is the store's name as the user wrote it (for messages).
report run_memory(run_options options);
report run_sqlite(const std::string& directory, run_options options);
report run_postgres(const std::string& conninfo, run_options options);
// payment_system_nats.cpp (or its stand-in): `urls` the NATS servers, comma-separated.
report run_postgres_nats(const std::string& conninfo, const std::string& urls, run_options options);
// The schema prefix's check (payment_system_postgres.cpp).
void check_schema_prefix(const std::string& prefix);
std::unique_ptr<stored_system> stored_sqlite(const std::string& store,
                                             const std::string& directory);
std::unique_ptr<stored_system> stored_postgres(const std::string& store,
                                               const std::string& conninfo,
                                               const std::string& schema_prefix);

} // namespace payments
