// examples/payments/queries.hpp - the commands other than `run` (orders, replay, saga show,
// dlq list) over any persistent backend: compiled with the backend's system
// (payment_system_<backend>.cpp).
#pragma once

#include <chrono>     // std::chrono::system_clock, std::chrono::milliseconds
#include <cstdio>     // std::snprintf
#include <ctime>      // std::time_t, std::tm, gmtime_r
#include <functional> // std::function
#include <map>        // std::map
#include <stdexcept>  // std::invalid_argument
#include <string>     // std::string
#include <utility>    // std::move
#include <vector>     // std::vector

#include "payments.hpp"
#include "stored_system.hpp"
#include "system.hpp"

namespace payments {

inline std::string time_of(std::chrono::system_clock::time_point t) {
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

/// The data earlier runs left in backend `B`'s store: each query opens what it reads, its
/// results resumed on a thread of its own.
template <class B>
class stored_on final : public stored_system {
public:
    /// `make`: the backend, on the given pool.
    stored_on(std::string store, const std::function<B(eddy::thread_pool&)>& make)
        : m_store(std::move(store)), m_backend(make(m_pool)) {}

    std::vector<order_row> orders() override {
        typename B::order_view view = m_backend.view_of(m_backend.open("orders"));
        eddy::sync_wait(view.create());
        return eddy::sync_wait(view.rows());
    }

    replay_report replay() override {
        const auto storage = m_backend.open("orders");
        typename B::template event_store<order_events> events(storage);
        typename B::checkpoint_store checkpoints(storage);
        typename B::order_view view = m_backend.view_of(storage);
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

    std::vector<dead_letter_line> dead_letters() override {
        typename B::template event_store<dead_letter_events> events(m_backend.open("dlq"));
        dead_letter_archive archive(events, "");
        std::vector<dead_letter_line> out;
        for (const auto& d : eddy::sync_wait(archive.list())) {
            out.push_back(dead_letter_line{d.number, d.letter.topic, d.letter.key,
                                           d.letter.message_id, d.letter.group, d.letter.error,
                                           d.letter.attempts, d.republished});
        }
        return out;
    }

    std::vector<std::string> saga(const std::string& id) override {
        const auto storage = m_backend.open("orders");
        auto log = m_backend.template saga_log_of<order_ctx>(storage);
        eddy::saga_coordinator<typename B::template saga_log<order_ctx>, eddy::thread_pool>
            coordinator(m_pool, log);
        coordinator.add(system<B, memory_bus>::order_saga_definition(nullptr)); // never run here
        const auto state = eddy::sync_wait(coordinator.inspect(id));
        if (!state) {
            throw std::invalid_argument("no saga '" + id + "' in " + m_store);
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

private:
    std::string m_store;
    eddy::thread_pool m_pool{1}; // before the backend: it refers to it
    B m_backend;
};

} // namespace payments
