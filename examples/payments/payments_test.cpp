// The payment system end to end, in process, on the memory and on the SQLite store: every
// outcome is accounted for and the exactly-once invariants hold, with the default failure mix
// and with every failure kind turned up.
#include "payments.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

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

} // namespace

TEST_CASE("the payment system keeps its invariants", "[examples][payments][concurrency]") {
    scratch_dir dir;
    payments::run_options options;
    const std::string store = GENERATE(as<std::string>{}, "memory", "sqlite");
    options.store = store == "memory" ? store : "sqlite:" + dir.path;
    CAPTURE(store);
    options.orders = 300;
    options.concurrency = 32;
    const auto r = payments::run(options);
    CHECK(r.completed + r.compensated + r.stuck == 300);
    CHECK(r.completed > 200);
    CHECK(r.compensated > 0); // the default mix declines some cards
    CHECK(r.charged_net_cents == r.read_model_paid_cents);
    CHECK(r.most_charges_per_order == 1);
    CHECK(r.reserved_orders == r.shipped_orders);
    CHECK(r.shipped_orders == r.completed);
    CHECK(r.most_shipments_per_order == 1);
    CHECK(r.consistent());
}

TEST_CASE("heavy failures still leave every order consistent",
          "[examples][payments][concurrency]") {
    payments::run_options options;
    scratch_dir dir;
    const std::string store = GENERATE(as<std::string>{}, "memory", "sqlite");
    options.store = store == "memory" ? store : "sqlite:" + dir.path;
    CAPTURE(store);
    options.orders = 200;
    options.concurrency = 16;
    options.failures = {
        .decline = 0.2, .out_of_stock = 0.2, .flaky = 0.5, .poison = 0.1, .duplicate = 0.3};
    const auto r = payments::run(options);
    CHECK(r.completed + r.compensated + r.stuck == 200);
    CHECK(r.stuck == 0);
    CHECK(r.dead_letters > 0); // poison commands
    CHECK(r.charged_net_cents == r.read_model_paid_cents);
    CHECK(r.most_charges_per_order <= 1);
    CHECK(r.reserved_orders == r.shipped_orders);
    CHECK(r.shipped_orders == r.completed);
    CHECK(r.consistent());
}
