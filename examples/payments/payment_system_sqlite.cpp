// examples/payments/payment_system_sqlite.cpp - the payment system on SQLite, and the
// commands that read what its runs left (orders, replay, saga show, dlq list).
#include <chrono>     // std::chrono::system_clock, std::chrono::milliseconds
#include <cstdio>     // std::snprintf
#include <ctime>      // std::time_t, std::tm, gmtime_r
#include <filesystem> // std::filesystem::exists
#include <map>        // std::map
#include <stdexcept>  // std::invalid_argument
#include <string>     // std::string
#include <vector>     // std::vector

#include "payments.hpp"
#include "system.hpp"

namespace payments {

report run_sqlite(const std::string& directory, run_options options) {
    eddy::thread_pool pool(2);
    return run_on(sqlite_backend(directory, pool), pool, std::move(options));
}

namespace {

// The SQLite backend of a store that earlier runs wrote: the commands other than `run` read it.
sqlite_backend persisted(const std::string& store, eddy::thread_pool& pool) {
    if (store == "memory") {
        throw std::invalid_argument("the memory store keeps nothing between runs: give the "
                                    "sqlite:DIRECTORY of an earlier run");
    }
    if (store.rfind("sqlite:", 0) != 0 || store.size() <= 7) {
        throw std::invalid_argument("unknown store '" + store + "': use sqlite:DIRECTORY");
    }
    const std::string dir = store.substr(7);
    if (!std::filesystem::exists(dir + "/orders.db")) {
        throw std::invalid_argument("no payment system data in '" + dir +
                                    "': run `payments run --store " + store + "` first");
    }
    return sqlite_backend(dir, pool);
}

std::string time_of(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    std::snprintf(text, sizeof text, "%02d:%02d:%02d.%03d", utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(ms));
    return text;
}

} // namespace

std::vector<order_row> list_orders(const std::string& store, const std::string& status) {
    if (!status.empty() && status != "placed" && status != "confirmed" && status != "cancelled") {
        throw std::invalid_argument("unknown status '" + status +
                                    "': use placed, confirmed or cancelled");
    }
    eddy::thread_pool pool(1);
    const sqlite_backend b = persisted(store, pool);
    sqlite_order_view view(b.open("orders"));
    eddy::sync_wait(view.create());
    std::vector<order_row> rows = eddy::sync_wait(view.rows());
    if (!status.empty()) {
        std::erase_if(rows, [&](const order_row& r) { return r.status != status; });
    }
    return rows;
}

replay_report replay(const std::string& store) {
    eddy::thread_pool pool(1);
    const sqlite_backend b = persisted(store, pool);
    const auto storage = b.open("orders");
    sqlite_backend::event_store<order_events> events(storage);
    sqlite_backend::checkpoint_store checkpoints(storage);
    sqlite_order_view view(storage);
    eddy::sync_wait(view.create());
    eddy::projector projector(events, checkpoints);
    std::map<std::string, order_row> before;
    for (auto& row : eddy::sync_wait(view.rows())) {
        before[row.order_id] = std::move(row);
    }
    replay_report out;
    out.events = eddy::sync_wait(projector.replay(view));
    const auto after = eddy::sync_wait(view.rows());
    out.rows = after.size();
    for (const auto& row : after) {
        const auto it = before.find(row.order_id);
        if (it == before.end()) {
            out.differences.push_back(row.order_id + ": missing before, now " + row.status);
        } else {
            if (!(it->second == row)) {
                out.differences.push_back(row.order_id + ": was " + it->second.status +
                                          ", rebuilt " + row.status);
            }
            before.erase(it);
        }
    }
    for (const auto& [id, row] : before) {
        out.differences.push_back(id + ": " + row.status + " before, absent from the events");
    }
    return out;
}

std::vector<dead_letter_line> list_dead_letters(const std::string& store) {
    eddy::thread_pool pool(1);
    const sqlite_backend b = persisted(store, pool);
    sqlite_backend::event_store<dead_letter_events> events(b.open("dlq"));
    dead_letter_archive archive(events, "");
    std::vector<dead_letter_line> out;
    for (const auto& d : eddy::sync_wait(archive.list())) {
        out.push_back(dead_letter_line{d.number, d.letter.topic, d.letter.key, d.letter.message_id,
                                       d.letter.group, d.letter.error, d.letter.attempts,
                                       d.republished});
    }
    return out;
}

std::vector<std::string> show_saga(const std::string& store, const std::string& id) {
    eddy::thread_pool pool(1);
    const sqlite_backend b = persisted(store, pool);
    const auto storage = b.open("orders");
    auto log = b.saga_log_of<order_ctx>(storage);
    eddy::saga_coordinator<sqlite_backend::saga_log<order_ctx>, eddy::thread_pool> coordinator(pool,
                                                                                               log);
    coordinator.add(system<sqlite_backend>::order_saga_definition(nullptr)); // never run here
    const auto state = eddy::sync_wait(coordinator.inspect(id));
    if (!state) {
        throw std::invalid_argument("no saga '" + id + "' in " + store);
    }
    std::vector<std::string> lines;
    std::string head = "saga " + id + ": " + std::string(eddy::to_string(state->status));
    const bool ended = state->status == eddy::saga_status::completed ||
                       state->status == eddy::saga_status::compensated;
    if (!ended && !state->current_step.empty()) {
        head += ", at step " + state->current_step;
    }
    if (!state->cause.empty()) {
        head += " (" + state->cause + ")";
    }
    lines.push_back(head);
    const auto& ctx = state->context;
    lines.push_back("  order " + ctx.order_id + ": " + std::to_string(ctx.quantity) + " x " +
                    ctx.sku + ", " + std::to_string(ctx.amount_cents) + " cents");
    for (const auto& t : state->history.transitions) {
        std::string line = "  " + time_of(t.at) + "  " + std::string(eddy::to_string(t.kind));
        if (!t.step.empty()) {
            line += " " + t.step + " #" + std::to_string(t.attempt);
        }
        if (!t.error.empty()) {
            line += ": " + t.error;
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

} // namespace payments
