// examples/payments/order_view.hpp - the query side of the order service: a denormalized read
// model of the orders (one row per order), kept by a projection of the order events whose
// writes commit with its checkpoint (exactly once). In memory, or a table in orders.db.
#pragma once

#include <map>         // std::map
#include <mutex>       // std::mutex, std::lock_guard
#include <string>      // std::string
#include <string_view> // std::string_view
#include <utility>     // std::move
#include <variant>     // std::visit
#include <vector>      // std::vector

#include <eddy/core/task.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/memory_unit_of_work.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>
#include <eddy/sqlite/sqlite_unit_of_work.hpp>

#include "domain.hpp"
#include "payments.hpp"

namespace payments {

// The row change one order event makes.
inline void apply_to_row(order_row& row, const eddy::event_envelope<order_events>& e) {
    std::visit(
        [&](const auto& event) {
            using E = std::decay_t<decltype(event)>;
            if constexpr (std::is_same_v<E, order_placed>) {
                row = order_row{e.stream_id,        event.customer, event.sku, event.quantity,
                                event.amount_cents, "placed",       {}};
            } else if constexpr (std::is_same_v<E, order_confirmed>) {
                row.status = "confirmed";
            } else {
                row.status = "cancelled";
                row.reason = event.reason;
            }
        },
        e.payload);
}

/// The read model in memory (the memory backend: rebuilt by each run).
class memory_order_view {
public:
    [[nodiscard]] std::string_view name() const { return "order_view"; }

    eddy::task<void> create() { co_return; }

    void handle(const eddy::event_envelope<order_events>& e, eddy::memory_unit_of_work& unit) {
        unit.on_commit([this, e] {
            std::lock_guard lock(m_mutex);
            apply_to_row(m_rows[e.stream_id], e);
        });
    }

    void reset() {
        std::lock_guard lock(m_mutex);
        m_rows.clear();
    }

    eddy::task<std::vector<order_row>> rows() {
        std::vector<order_row> out;
        {
            std::lock_guard lock(m_mutex);
            for (const auto& [id, row] : m_rows) {
                out.push_back(row);
            }
        }
        co_return out;
    }

private:
    std::mutex m_mutex;
    std::map<std::string, order_row> m_rows;
};

/// The read model as the table `order_view` of orders.db: `payments orders` reads it with SQL
/// after the run (or while it runs, from another process).
class sqlite_order_view {
public:
    explicit sqlite_order_view(eddy::sqlite_storage storage) : m_storage(std::move(storage)) {}

    [[nodiscard]] std::string_view name() const { return "order_view"; }

    eddy::task<void> create() {
        (void)co_await m_storage.execute(
            "CREATE TABLE IF NOT EXISTS order_view (order_id TEXT PRIMARY KEY, customer TEXT "
            "NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL, amount_cents INTEGER NOT "
            "NULL, status TEXT NOT NULL, reason TEXT NOT NULL)");
    }

    void handle(const eddy::event_envelope<order_events>& e, eddy::sqlite_unit_of_work& unit) {
        order_row row;
        apply_to_row(row, e);
        if (std::holds_alternative<order_placed>(e.payload)) {
            unit.execute("INSERT INTO order_view VALUES (?, ?, ?, ?, ?, ?, ?)",
                         {row.order_id, row.customer, row.sku,
                          static_cast<std::int64_t>(row.quantity),
                          static_cast<std::int64_t>(row.amount_cents), row.status, row.reason});
        } else {
            unit.execute("UPDATE order_view SET status = ?, reason = ? WHERE order_id = ?",
                         {row.status, row.reason, e.stream_id});
        }
    }

    eddy::task<void> reset() { (void)co_await m_storage.execute("DELETE FROM order_view"); }

    eddy::task<std::vector<order_row>> rows() {
        auto result = co_await m_storage.query(
            "SELECT order_id, customer, sku, quantity, amount_cents, status, reason "
            "FROM order_view ORDER BY order_id");
        std::vector<order_row> out;
        out.reserve(result.size());
        for (const auto& r : result) {
            out.push_back(order_row{r.text(0), r.text(1), r.text(2), static_cast<int>(r.integer(3)),
                                    static_cast<long>(r.integer(4)), r.text(5), r.text(6)});
        }
        co_return out;
    }

private:
    eddy::sqlite_storage m_storage;
};

} // namespace payments
