// The payment system end to end, in process, on the memory, the SQLite and the PostgreSQL
// store (the server of EDDY_PG_CONNINFO, set by scripts/test; fresh schemas per case): every
// outcome is accounted for and the exactly-once invariants hold, with the default failure mix
// and with every failure kind turned up. The queries read what a run left.
#include "payments.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

// A fresh directory for the SQLite store, removed at the end.
struct scratch_dir {
    scratch_dir() {
        char pattern[] = "/tmp/eddy-payments-test-XXXXXX";
        if (mkdtemp(pattern) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path = pattern;
    }
    ~scratch_dir() { std::filesystem::remove_all(path); }
    std::string path;
};

// The PostgreSQL server of the tests; none is a failure that names the fix.
std::string pg_conninfo() {
    const char* c = std::getenv("EDDY_PG_CONNINFO");
    if (c == nullptr || *c == '\0') {
        throw std::runtime_error(
            "EDDY_PG_CONNINFO is not set: the payment system's PostgreSQL tests need a server. "
            "Run them with scripts/test (it starts a throwaway server), or: source "
            "scripts/lib/postgres.sh && postgres_start, then run the tests, then postgres_stop");
    }
    return c;
}

// A schema prefix no other test uses; its schemas are dropped before and after.
struct fresh_prefix {
    fresh_prefix() {
        static std::atomic<int> counter{0};
        name =
            "eddy_payments_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_";
        payments::drop_postgres_schemas(pg_conninfo(), name);
    }
    fresh_prefix(const fresh_prefix&) = delete;
    fresh_prefix& operator=(const fresh_prefix&) = delete;
    ~fresh_prefix() {
        try {
            payments::drop_postgres_schemas(pg_conninfo(), name);
        } catch (...) { // NOLINT: the test's own failure is the one to report
        }
    }
    std::string name;
};

// The stores of this build (PostgreSQL when eddy::postgres is built).
std::vector<std::string> stores() {
    std::vector<std::string> out{"memory", "sqlite"};
    if (payments::has_postgres()) {
        out.emplace_back("postgres");
    }
    return out;
}

// A fresh store of kind `store`: `options.store` and `options.schema_prefix` set.
struct fresh_store {
    explicit fresh_store(const std::string& kind, payments::run_options& options) {
        if (kind == "memory") {
            options.store = "memory";
        } else if (kind == "sqlite") {
            dir.emplace();
            options.store = "sqlite:" + dir->path;
        } else {
            prefix.emplace();
            options.store = "postgres:" + pg_conninfo();
            options.schema_prefix = prefix->name;
        }
    }
    std::optional<scratch_dir> dir;
    std::optional<fresh_prefix> prefix;
};

} // namespace

TEST_CASE("the payment system keeps its invariants", "[examples][payments][concurrency]") {
    payments::run_options options;
    const std::string store = GENERATE(from_range(stores()));
    CAPTURE(store);
    const fresh_store fresh(store, options);
    options.orders = 300;
    options.concurrency = 32;
    const auto r = payments::run(options);
    CAPTURE(r.completed, r.compensated, r.stuck, r.dead_letters, r.p50_ms, r.p99_ms);
    CHECK(r.completed + r.compensated + r.stuck == 300);
    CHECK(r.completed > 200);
    CHECK(r.compensated > 0); // the default mix declines some cards
    CHECK(r.charged_net_cents == r.read_model_paid_cents);
    CHECK(r.most_charges_per_order == 1);
    CHECK(r.reserved_orders == r.shipped_orders);
    CHECK(r.shipped_orders == r.completed);
    CHECK(r.most_shipments_per_order == 1);
    CHECK(r.consistent());
    if (store == "memory") {
        return; // it kept nothing
    }
    // What the run left, read by the commands other than `run`.
    const auto rows = payments::list_orders(options.store, "", options.schema_prefix);
    CHECK(rows.size() == 300);
    CHECK(payments::list_orders(options.store, "confirmed", options.schema_prefix).size() ==
          r.completed);
    const auto replayed = payments::replay(options.store, options.schema_prefix);
    CHECK(replayed.rows == 300);
    CHECK(replayed.differences.empty());
    const auto saga = payments::show_saga(options.store, "order-1", options.schema_prefix);
    REQUIRE(saga.size() > 2);
    CHECK((saga[0] == "saga order-1: completed" ||
           saga[0].rfind("saga order-1: compensated", 0) == 0));
    CHECK(payments::list_dead_letters(options.store, options.schema_prefix).size() ==
          r.dead_letters);
}

TEST_CASE("the queries name a store no run wrote", "[examples][payments]") {
    CHECK_THROWS_WITH(payments::list_orders("memory", ""),
                      Catch::Contains("the memory store keeps nothing between runs"));
    CHECK_THROWS_WITH(payments::replay("sqlite:/nonexistent/eddy-payments"),
                      "no payment system data in '/nonexistent/eddy-payments': run `payments run "
                      "--store sqlite:/nonexistent/eddy-payments` first");
    if (payments::has_postgres()) {
        const std::string store = "postgres:" + pg_conninfo();
        CHECK_THROWS_WITH(payments::list_dead_letters(store, "eddy_payments_never_run_"),
                          "no payment system data in schema 'eddy_payments_never_run_orders': run "
                          "`payments run --store " +
                              store + " --schema-prefix eddy_payments_never_run_` first");
        CHECK_THROWS_WITH(payments::list_orders(store, "", "Bad-Prefix"),
                          Catch::Contains("the schema prefix 'Bad-Prefix' is not a lower-case "
                                          "identifier"));
    }
    payments::run_options options;
    options.store = "mysql:x";
    CHECK_THROWS_WITH(payments::run(options),
                      "unknown store 'mysql:x': use memory, sqlite:DIRECTORY or postgres:CONNINFO");
}

TEST_CASE("heavy failures still leave every order consistent",
          "[examples][payments][concurrency]") {
    payments::run_options options;
    const std::string store = GENERATE(from_range(stores()));
    CAPTURE(store);
    const fresh_store fresh(store, options);
    options.orders = 200;
    options.concurrency = 16;
    options.failures = {
        .decline = 0.2, .out_of_stock = 0.2, .flaky = 0.5, .poison = 0.1, .duplicate = 0.3};
    const auto r = payments::run(options);
    CAPTURE(r.completed, r.compensated, r.stuck, r.dead_letters, r.p50_ms, r.p99_ms);
    CHECK(r.completed + r.compensated + r.stuck == 200);
    CHECK(r.stuck == 0);
    CHECK(r.dead_letters > 0); // poison commands
    CHECK(r.charged_net_cents == r.read_model_paid_cents);
    CHECK(r.most_charges_per_order <= 1);
    CHECK(r.reserved_orders == r.shipped_orders);
    CHECK(r.shipped_orders == r.completed);
    CHECK(r.consistent());
}
