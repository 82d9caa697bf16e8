// examples/payments/payment_system.cpp - run() and the queries: the payment system on the store
// and bus the options name. The system itself is system.hpp, compiled once per backend
// (payment_system_memory.cpp, payment_system_sqlite.cpp, payment_system_postgres.cpp), so no
// translation unit holds two.
#include <memory>    // std::unique_ptr
#include <stdexcept> // std::invalid_argument
#include <string>    // std::string
#include <utility>   // std::move
#include <vector>    // std::vector

#include "payments.hpp"
#include "stored_system.hpp"

namespace payments {

namespace {

const char* const store_forms = "memory, sqlite:DIRECTORY or postgres:CONNINFO";

// What follows `kind:` in `store` ("" when `store` is not of that kind, or nothing follows).
std::string after(const std::string& store, const std::string& kind) {
    const std::string head = kind + ":";
    return store.rfind(head, 0) == 0 ? store.substr(head.size()) : std::string();
}

// The store of earlier runs that the queries read.
std::unique_ptr<stored_system> persisted(const std::string& store, const std::string& prefix) {
    if (store == "memory") {
        throw std::invalid_argument("the memory store keeps nothing between runs: give the "
                                    "sqlite:DIRECTORY or postgres:CONNINFO of an earlier run");
    }
    if (const std::string dir = after(store, "sqlite"); !dir.empty()) {
        return stored_sqlite(store, dir);
    }
    if (const std::string conninfo = after(store, "postgres"); !conninfo.empty()) {
        return stored_postgres(store, conninfo, prefix);
    }
    throw std::invalid_argument("unknown store '" + store +
                                "': use sqlite:DIRECTORY or postgres:CONNINFO");
}

} // namespace

report run(run_options options) {
    const std::string store = options.store; // a copy: options is moved from below
    if (options.bus != "memory") {
        const std::string urls = after(options.bus, "nats");
        if (urls.empty()) {
            throw std::invalid_argument("unknown bus '" + options.bus +
                                        "': use memory or nats:URLS");
        }
        const std::string conninfo = after(store, "postgres");
        if (conninfo.empty()) {
            throw std::invalid_argument(
                "the NATS bus spreads the system over processes, which share its data: use "
                "--store postgres:CONNINFO, not '" +
                store + "'");
        }
        return run_postgres_nats(conninfo, urls, std::move(options));
    }
    if (store == "memory") {
        return run_memory(std::move(options));
    }
    if (const std::string dir = after(store, "sqlite"); !dir.empty()) {
        return run_sqlite(dir, std::move(options));
    }
    if (const std::string conninfo = after(store, "postgres"); !conninfo.empty()) {
        return run_postgres(conninfo, std::move(options));
    }
    throw std::invalid_argument("unknown store '" + store + "': use " + store_forms);
}

std::vector<order_row> list_orders(const std::string& store, const std::string& status,
                                   const std::string& schema_prefix) {
    if (!status.empty() && status != "placed" && status != "confirmed" && status != "cancelled") {
        throw std::invalid_argument("unknown status '" + status +
                                    "': use placed, confirmed or cancelled");
    }
    std::vector<order_row> rows = persisted(store, schema_prefix)->orders();
    if (!status.empty()) {
        std::erase_if(rows, [&](const order_row& r) { return r.status != status; });
    }
    return rows;
}

replay_report replay(const std::string& store, const std::string& schema_prefix) {
    return persisted(store, schema_prefix)->replay();
}

std::vector<dead_letter_line> list_dead_letters(const std::string& store,
                                                const std::string& schema_prefix) {
    return persisted(store, schema_prefix)->dead_letters();
}

std::vector<std::string> show_saga(const std::string& store, const std::string& id,
                                   const std::string& schema_prefix) {
    return persisted(store, schema_prefix)->saga(id);
}

} // namespace payments
