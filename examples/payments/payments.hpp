// examples/payments/payments.hpp - what the payments program and its tests see of the
// payment system: its options, its report, and run().
#pragma once

#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t
#include <functional> // std::function
#include <string>     // std::string
#include <vector>     // std::vector

namespace payments {

/// Failure injection, per order (deterministic: a hash of the order id), per command attempt.
struct failure_rates {
    double decline = 0.05;     ///< the card is declined (business failure: compensation)
    double out_of_stock = 0.0; ///< the shop has less stock than ordered (sku "rare")
    double flaky = 0.10;       ///< the payment gateway fails once (the bus retries)
    double poison = 0.01;      ///< the charge command is undecodable (dead-lettered)
    double duplicate = 0.05;   ///< a command is delivered twice (the inbox absorbs it)
};

/// The schemas' prefix a PostgreSQL store uses unless told otherwise (`payments_orders`, ...).
inline constexpr const char* default_schema_prefix = "payments_";

struct run_options {
    /// "memory"; "sqlite:DIR": SQLite files in DIR (created when missing); or
    /// "postgres:CONNINFO": schemas `<schema_prefix><service>` on the PostgreSQL server the
    /// libpq connection string CONNINFO names (created when missing). A run on the store of an
    /// earlier run continues it: its unfinished orders and sagas end first.
    std::string store = "memory";
    /// PostgreSQL only: the schemas are `<schema_prefix>orders`, `...payment`, `...inventory`,
    /// `...shipping` and `...dlq` (a lower-case identifier: letters, digits, `_`).
    std::string schema_prefix = default_schema_prefix;
    /// "memory": the in-process event_bus; "nats:URLS": NATS JetStream (comma-separated server
    /// URLs), for a system spread over several processes sharing a PostgreSQL store.
    std::string bus = "memory";
    /// NATS only: this process's name among the system's instances (letters, digits, '-';
    /// unique among live ones). A restarted instance under its old name resumes its sagas at
    /// once; the sagas of one that died pass to live ones 5 s after its last sign of life.
    std::string instance = "main";
    std::size_t orders = 1000;    ///< orders order-F .. order-(F+N-1), F = first_order
    std::size_t first_order = 1;  ///< (those placed already are kept)
    std::size_t concurrency = 64; ///< sagas in flight at once
    failure_rates failures{};
    int stock_per_sku = 1'000'000;
    /// Dead letters to publish again once the system runs (their numbers in
    /// `list_dead_letters`); `republish_pending`: every one not republished yet.
    std::vector<std::size_t> republish{};
    bool republish_pending = false;
    std::function<void(std::size_t done, std::size_t total)> progress{};
};

struct report {
    std::size_t orders = 0;      ///< orders in the store
    std::size_t resumed = 0;     ///< unfinished orders of an earlier run, ended by this one
    std::size_t taken_over = 0;  ///< ... of which a dead instance left (spread over instances)
    std::size_t sagas_ended = 0; ///< sagas this run ended (its own and those it took over)
    std::size_t completed = 0;
    std::size_t compensated = 0;
    std::size_t stuck = 0;
    std::size_t dead_letters = 0;
    std::vector<std::string> dead_letter_lines;
    long charged_net_cents = 0;     ///< payment ledger: charges minus refunds
    long read_model_paid_cents = 0; ///< sum over confirmed orders in the read model
    int most_charges_per_order = 0;
    std::size_t reserved_orders = 0;
    std::size_t shipped_orders = 0;
    int most_shipments_per_order = 0;
    std::uint64_t duplicates_absorbed = 0;
    double seconds = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    std::vector<std::string> republished; ///< what became of each dead letter published again

    /// The exactly-once checks of the demo.
    [[nodiscard]] bool consistent() const {
        return charged_net_cents == read_model_paid_cents && most_charges_per_order <= 1 &&
               reserved_orders == shipped_orders && most_shipments_per_order <= 1 &&
               completed + compensated + stuck == orders;
    }
};

/// One row of the orders' read model.
struct order_row {
    std::string order_id;
    std::string customer;
    std::string sku;
    int quantity = 0;
    long amount_cents = 0;
    std::string status; ///< placed, confirmed or cancelled
    std::string reason; ///< why it was cancelled

    friend bool operator==(const order_row&, const order_row&) = default;
};

/// What `replay` found: the events read, the rows rebuilt, and how the rebuilt read model
/// differs from the one it replaced (one line per order that differs).
struct replay_report {
    std::uint64_t events = 0;
    std::size_t rows = 0;
    std::vector<std::string> differences;
};

/// Runs the whole system (orders placed, every saga run to its end) and reports over every
/// order in the store. Bad options (an unknown store): std::invalid_argument. The system
/// lives in payment_system.cpp, compiled once for the program and its tests.
report run(run_options options);

/// The read model's rows (`status` empty: all) of a store's earlier runs (`schema_prefix`: as
/// in run_options, for a PostgreSQL store). The memory store keeps nothing between runs, and a
/// store no run wrote is no store: std::invalid_argument.
std::vector<order_row> list_orders(const std::string& store, const std::string& status,
                                   const std::string& schema_prefix = default_schema_prefix);

/// Rebuilds the read model from the order events (from position 1) and compares it with the
/// one it replaced.
replay_report replay(const std::string& store,
                     const std::string& schema_prefix = default_schema_prefix);

/// One archived dead letter (`payments dlq list`).
struct dead_letter_line {
    std::size_t number = 0; ///< 1, 2, ... in archive order
    std::string topic;
    std::string key;
    std::string message_id;
    std::string group; ///< the consumer group that gave up
    std::string error;
    int attempts = 0;
    int republished = 0; ///< times published again since
};

/// The dead letters archived by a store's earlier runs.
std::vector<dead_letter_line>
list_dead_letters(const std::string& store,
                  const std::string& schema_prefix = default_schema_prefix);

/// The saga of an order, as lines: its status, then every transition its log holds. An unknown
/// id: std::invalid_argument.
std::vector<std::string> show_saga(const std::string& store, const std::string& id,
                                   const std::string& schema_prefix = default_schema_prefix);

/// Whether this build has the PostgreSQL store (it needs the eddy::postgres adapter).
bool has_postgres();
/// Whether this build has the NATS bus (it needs eddy::nats and eddy::postgres).
bool has_nats();

/// Drops the schemas of the payment system with `schema_prefix` on the server `conninfo` names,
/// every table in them (tests, and an operator starting over). Schemas that do not exist are
/// skipped. Errors: std::runtime_error with the server's message; std::invalid_argument in a
/// build without PostgreSQL.
void drop_postgres_schemas(const std::string& conninfo, const std::string& schema_prefix);

} // namespace payments
