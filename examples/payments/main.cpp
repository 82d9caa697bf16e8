// examples/payments/main.cpp - the `payments` command line: runs the payment system and
// reports its outcomes and exactly-once checks.
#include <CLI/CLI.hpp>

#include <cstdio>    // std::printf, std::fprintf
#include <exception> // std::exception
#include <iostream>  // std::cerr (CLI11's errors)
#include <string>    // std::string

#include "payments.hpp"

namespace {

void print_progress(std::size_t done, std::size_t total) {
    constexpr int width = 40;
    const int filled = static_cast<int>(width * done / total);
    std::fprintf(stderr, "\r[%s%s] %3zu%% (%zu/%zu)", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), 100 * done / total, done, total);
    if (done == total) {
        std::fprintf(stderr, "\n");
    }
}

int print(const payments::report& r) {
    std::printf("orders:        %zu (%zu left unfinished by an earlier run, ended now)\n", r.orders,
                r.resumed);
    std::printf("  completed:   %zu\n", r.completed);
    std::printf("  compensated: %zu\n", r.compensated);
    std::printf("  stuck:       %zu\n", r.stuck);
    std::printf("dead letters:  %zu\n", r.dead_letters);
    for (std::size_t i = 0; i < r.dead_letter_lines.size() && i < 5; ++i) {
        std::printf("  %s\n", r.dead_letter_lines[i].c_str());
    }
    std::printf("exactly-once checks:\n");
    std::printf("  charges - refunds = paid in read model: %ld = %ld %s\n", r.charged_net_cents,
                r.read_model_paid_cents,
                r.charged_net_cents == r.read_model_paid_cents ? "ok" : "FAILED");
    std::printf("  no order charged twice:                 %s\n",
                r.most_charges_per_order <= 1 ? "ok" : "FAILED");
    std::printf("  reserved = shipped: %zu = %zu             %s\n", r.reserved_orders,
                r.shipped_orders, r.reserved_orders == r.shipped_orders ? "ok" : "FAILED");
    std::printf("  no order shipped twice:                 %s\n",
                r.most_shipments_per_order <= 1 ? "ok" : "FAILED");
    std::printf("  duplicate commands absorbed by inboxes: %llu\n",
                static_cast<unsigned long long>(r.duplicates_absorbed));
    std::printf("throughput:    %.0f orders/s (%.2f s)\n",
                static_cast<double>(r.orders) / r.seconds, r.seconds);
    std::printf("order latency: p50 %.1f ms, p99 %.1f ms\n", r.p50_ms, r.p99_ms);
    std::printf("%s\n", r.consistent() ? "CONSISTENT" : "INCONSISTENT");
    return r.consistent() ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"payments - the eddy payment system: orders, a saga over payment, inventory "
                 "and shipping services, outboxes, inboxes and dead letters"};
    app.require_subcommand(1);
    payments::run_options options;
    options.store = "sqlite:payments-data";
    bool quiet = false;
    auto* run = app.add_subcommand("run", "place orders and run them to the end, then report");
    run->add_option("--orders", options.orders, "orders to place")
        ->check(CLI::Range(1, 10'000'000));
    run->add_option("--concurrency", options.concurrency, "sagas in flight at once")
        ->check(CLI::Range(1, 100'000));
    run->add_option("--decline-rate", options.failures.decline, "share of declined cards")
        ->check(CLI::Range(0.0, 1.0));
    run->add_option("--out-of-stock-rate", options.failures.out_of_stock,
                    "share of orders for an item out of stock")
        ->check(CLI::Range(0.0, 1.0));
    run->add_option("--flaky-rate", options.failures.flaky,
                    "share of charges whose gateway call fails once (retried)")
        ->check(CLI::Range(0.0, 1.0));
    run->add_option("--poison-rate", options.failures.poison,
                    "share of charge commands that cannot be processed (dead-lettered)")
        ->check(CLI::Range(0.0, 1.0));
    run->add_option("--duplicate-rate", options.failures.duplicate,
                    "share of orders placed twice by a retrying client")
        ->check(CLI::Range(0.0, 1.0));
    run->add_option("--store", options.store,
                    "where the data lives: sqlite:DIRECTORY (one SQLite file per service; a run "
                    "on an earlier run's directory continues it) or memory")
        ->capture_default_str()
        ->check(
            [](const std::string& s) {
                return s == "memory" || (s.rfind("sqlite:", 0) == 0 && s.size() > 7)
                           ? std::string()
                           : "must be memory or sqlite:DIRECTORY, not '" + s + "'";
            },
            "memory|sqlite:DIRECTORY");
    run->add_flag("--quiet", quiet, "no progress bar");
    CLI11_PARSE(app, argc, argv);

    if (!quiet) {
        options.progress = print_progress;
    }
    try {
        return print(payments::run(options));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "payments: %s\n", e.what());
        return 2;
    }
}
