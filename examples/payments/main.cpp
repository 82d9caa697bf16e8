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
    if (r.taken_over > 0) {
        std::printf("  taken over:  %zu (sagas of an instance that died)\n", r.taken_over);
    }
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

int print_orders(const std::vector<payments::order_row>& rows, std::size_t limit) {
    std::printf("%-12s %-14s %-8s %4s %10s  %-10s %s\n", "order", "customer", "sku", "qty", "cents",
                "status", "reason");
    for (std::size_t i = 0; i < rows.size() && i < limit; ++i) {
        const auto& r = rows[i];
        std::printf("%-12s %-14s %-8s %4d %10ld  %-10s %s\n", r.order_id.c_str(),
                    r.customer.c_str(), r.sku.c_str(), r.quantity, r.amount_cents, r.status.c_str(),
                    r.reason.c_str());
    }
    std::printf("%zu orders%s\n", rows.size(),
                rows.size() > limit ? " (the first ones shown: --limit)" : "");
    return 0;
}

int print_replay(const payments::replay_report& r) {
    std::printf("read model rebuilt from the order events (up to position %llu): %zu orders\n",
                static_cast<unsigned long long>(r.events), r.rows);
    for (const auto& line : r.differences) {
        std::printf("  differs: %s\n", line.c_str());
    }
    std::printf("%s\n", r.differences.empty() ? "IDENTICAL to the read model it replaced"
                                              : "DIFFERENT from the read model it replaced");
    return r.differences.empty() ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"payments - the eddy payment system: orders, a saga over payment, inventory "
                 "and shipping services, outboxes, inboxes and dead letters"};
    app.require_subcommand(1);
    payments::run_options options;
    options.store = "sqlite:payments-data";
    const auto store_is_valid = [](const std::string& s) {
        return s == "memory" || (s.rfind("sqlite:", 0) == 0 && s.size() > 7) ||
                       (s.rfind("postgres:", 0) == 0 && s.size() > 9)
                   ? std::string()
                   : "must be memory, sqlite:DIRECTORY or postgres:CONNINFO, not '" + s + "'";
    };
    const char* store_help =
        "where the data lives: sqlite:DIRECTORY (one SQLite file per service), "
        "postgres:CONNINFO (one schema per service, named by --schema-prefix, on the server a "
        "libpq connection string names, e.g. 'postgres:host=localhost dbname=shop'), or memory; "
        "a run on an earlier run's store continues it";
    const char* prefix_help = "postgres: the services' schemas are PREFIXorders, PREFIXpayment, "
                              "PREFIXinventory, PREFIXshipping and PREFIXdlq";
    const char* query_store_help = "an earlier run's sqlite:DIRECTORY or postgres:CONNINFO";
    bool quiet = false;
    auto* run = app.add_subcommand("run", "place orders and run them to the end, then report");
    run->add_option("--orders", options.orders,
                    "orders to place (order-F..order-(F+N-1); those placed already are kept)")
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
    run->add_option("--store", options.store, store_help)
        ->capture_default_str()
        ->check(store_is_valid, "memory|sqlite:DIRECTORY|postgres:CONNINFO");
    run->add_option("--schema-prefix", options.schema_prefix, prefix_help)->capture_default_str();
    run->add_option("--bus", options.bus,
                    "the message bus: memory (the in-process event_bus, one process), or "
                    "nats:URLS (NATS JetStream, comma-separated server URLs; with a postgres: "
                    "store, so that several processes run one system: start one per --instance)")
        ->capture_default_str()
        ->check(
            [](const std::string& b) {
                return b == "memory" || (b.rfind("nats:", 0) == 0 && b.size() > 5)
                           ? std::string()
                           : "must be memory or nats:URLS, not '" + b + "'";
            },
            "memory|nats:URLS");
    run->add_option("--instance", options.instance,
                    "with nats: this process's name among the system's processes (a-z, 0-9, "
                    "'-'); a restart under the same name resumes its sagas")
        ->capture_default_str();
    run->add_option("--first-order", options.first_order,
                    "the orders placed are order-F..order-(F+N-1) (processes of one system place "
                    "ranges of their own)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1'000'000'000));
    run->add_flag("--quiet", quiet, "no progress bar");

    std::string query_store = options.store;
    std::string query_prefix = options.schema_prefix;
    std::string status;
    std::size_t limit = 20;
    auto* orders = app.add_subcommand("orders", "list orders from the read model");
    orders->add_option("--store", query_store, query_store_help)->capture_default_str();
    orders->add_option("--schema-prefix", query_prefix, prefix_help)->capture_default_str();
    orders->add_option("--status", status, "only orders in this status")
        ->check(CLI::IsMember({"placed", "confirmed", "cancelled"}));
    orders->add_option("--limit", limit, "show at most this many")->capture_default_str();

    auto* replay = app.add_subcommand(
        "replay", "rebuild the read model from the order events and compare it with the old one");
    replay->add_option("--store", query_store, query_store_help)->capture_default_str();
    replay->add_option("--schema-prefix", query_prefix, prefix_help)->capture_default_str();

    std::string saga_id;
    auto* saga = app.add_subcommand("saga", "the orchestrator's sagas");
    saga->require_subcommand(1);
    auto* show = saga->add_subcommand("show", "a saga's status and every transition of its log");
    show->add_option("ID", saga_id, "the saga's id (the order id, e.g. order-7)")->required();
    show->add_option("--store", query_store, query_store_help)->capture_default_str();
    show->add_option("--schema-prefix", query_prefix, prefix_help)->capture_default_str();

    auto* dlq = app.add_subcommand("dlq", "the dead-letter archive");
    dlq->require_subcommand(1);
    auto* dlq_list = dlq->add_subcommand("list", "dead letters of earlier runs");
    dlq_list->add_option("--store", query_store, query_store_help)->capture_default_str();
    dlq_list->add_option("--schema-prefix", query_prefix, prefix_help)->capture_default_str();
    auto* dlq_reprocess = dlq->add_subcommand(
        "reprocess", "publish dead letters to their topics again, with the system running");
    dlq_reprocess
        ->add_option("NUMBER", options.republish,
                     "dead letters by their number in `dlq list` (none: every one not "
                     "republished yet)")
        ->check(CLI::PositiveNumber);
    dlq_reprocess->add_option("--store", query_store, query_store_help)->capture_default_str();
    dlq_reprocess->add_option("--schema-prefix", query_prefix, prefix_help)->capture_default_str();

    auto* drop = app.add_subcommand(
        "drop", "delete a PostgreSQL store's schemas, every table in them (a SQLite store: "
                "delete its directory)");
    drop->add_option("--store", query_store, "postgres:CONNINFO")->required();
    drop->add_option("--schema-prefix", query_prefix, prefix_help)->capture_default_str();

    CLI11_PARSE(app, argc, argv);

    try {
        if (*drop) {
            if (query_store.rfind("postgres:", 0) != 0 || query_store.size() <= 9) {
                std::fprintf(stderr, "payments: drop takes a postgres:CONNINFO store\n");
                return 2;
            }
            payments::drop_postgres_schemas(query_store.substr(9), query_prefix);
            std::printf("dropped the schemas %s*\n", query_prefix.c_str());
            return 0;
        }
        if (*orders) {
            return print_orders(payments::list_orders(query_store, status, query_prefix), limit);
        }
        if (*replay) {
            return print_replay(payments::replay(query_store, query_prefix));
        }
        if (*show) {
            for (const auto& line : payments::show_saga(query_store, saga_id, query_prefix)) {
                std::printf("%s\n", line.c_str());
            }
            return 0;
        }
        if (*dlq_list) {
            const auto letters = payments::list_dead_letters(query_store, query_prefix);
            for (const auto& d : letters) {
                std::printf("#%zu %s key=%s id=%s group=%s attempts=%d republished=%d: %s\n",
                            d.number, d.topic.c_str(), d.key.c_str(), d.message_id.c_str(),
                            d.group.c_str(), d.attempts, d.republished, d.error.c_str());
            }
            std::printf("%zu dead letters\n", letters.size());
            return 0;
        }
        if (*dlq_reprocess) {
            // an earlier run's store, or a clear error
            (void)payments::list_dead_letters(query_store, query_prefix);
            options.store = query_store;
            options.schema_prefix = query_prefix;
            options.orders = 0; // no new orders: only what is left, and the dead letters
            options.republish_pending = options.republish.empty();
            const auto r = payments::run(options);
            for (const auto& line : r.republished) {
                std::printf("%s\n", line.c_str());
            }
            return print(r); // the whole system's checks after it
        }
        if (!quiet) {
            options.progress = print_progress;
        }
        return print(payments::run(options));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "payments: %s\n", e.what());
        return 2;
    }
}
