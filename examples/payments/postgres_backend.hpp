// examples/payments/postgres_backend.hpp - the payment system on PostgreSQL: a schema per
// service (as separate services would have separate databases), and the orders' read model
// as a table of the order service's schema. A header of its own, beside backend.hpp and
// order_view.hpp: only payment_system_postgres.cpp includes it, and the example builds without
// eddy::postgres (libpq) when that adapter is off.
#pragma once

#include <chrono>      // std::chrono::milliseconds
#include <cstdint>     // std::int64_t
#include <string>      // std::string
#include <string_view> // std::string_view
#include <utility>     // std::move
#include <variant>     // std::holds_alternative
#include <vector>      // std::vector

#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/postgres/postgres_checkpoint_store.hpp>
#include <eddy/postgres/postgres_event_store.hpp>
#include <eddy/postgres/postgres_idempotency_store.hpp>
#include <eddy/postgres/postgres_inbox_store.hpp>
#include <eddy/postgres/postgres_outbox_store.hpp>
#include <eddy/postgres/postgres_saga_log.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/postgres/postgres_unit_of_work.hpp>

#include "order_view.hpp"

namespace payments {

/// The read model as the table `order_view` of the order service's schema
/// (`<prefix>orders.order_view`): `payments orders` reads it with SQL after the run (or while
/// it runs, from another process); its rows commit with the projection's checkpoint.
class postgres_order_view {
public:
    explicit postgres_order_view(eddy::postgres_storage storage) : m_storage(std::move(storage)) {}

    [[nodiscard]] std::string_view name() const { return "order_view"; }

    eddy::task<void> create() {
        (void)co_await m_storage.execute(
            "CREATE TABLE IF NOT EXISTS order_view (order_id text PRIMARY KEY, customer text NOT "
            "NULL, sku text NOT NULL, quantity bigint NOT NULL, amount_cents bigint NOT NULL, "
            "status text NOT NULL, reason text NOT NULL)");
    }

    void handle(const eddy::event_envelope<order_events>& e, eddy::postgres_unit_of_work& unit) {
        order_row row;
        apply_to_row(row, e);
        if (std::holds_alternative<order_placed>(e.payload)) {
            unit.execute("INSERT INTO order_view VALUES ($1, $2, $3, $4, $5, $6, $7)",
                         {row.order_id, row.customer, row.sku,
                          static_cast<std::int64_t>(row.quantity),
                          static_cast<std::int64_t>(row.amount_cents), row.status, row.reason});
        } else {
            unit.execute("UPDATE order_view SET status = $1, reason = $2 WHERE order_id = $3",
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
    eddy::postgres_storage m_storage;
};

/// PostgreSQL schemas `<prefix><database>` (created when missing) on the server `conninfo`
/// names (a libpq connection string): `payments_orders`, `payments_payment`,
/// `payments_inventory`, `payments_shipping` and `payments_dlq` with the default prefix
/// "payments_". A re-run with the same prefix continues where the last one stopped; another
/// prefix is another, independent system on the same database (the tests use fresh ones).
/// Every commit is durable when it completes (the server's synchronous_commit).
struct postgres_backend {
    using storage_type = eddy::postgres_storage;
    template <class Events>
    using event_store = eddy::postgres_event_store<Events>;
    template <class Payload>
    using outbox_store = eddy::postgres_outbox_store<Payload>;
    using inbox_store = eddy::postgres_inbox_store;
    using keys_type = eddy::postgres_idempotency_store<std::string>;
    template <class Ctx>
    using saga_log = eddy::postgres_saga_log<Ctx>;
    using checkpoint_store = eddy::postgres_checkpoint_store;
    using order_view = postgres_order_view;
    /// 5 s, not SQLite's 250 ms: handling a command is about ten statements, each a round trip
    /// to the server, and under load (a shared machine, sanitizers) a short timeout fires while
    /// the command waits its turn; each timed-out attempt then sends it again, and the
    /// one-at-a-time inventory service falls further behind until compensations time out too
    /// (sagas parked, orders stuck). A lost command (a poison one) costs its saga 3 x 5 s.
    static constexpr std::chrono::milliseconds step_timeout{5000};

    postgres_backend(std::string server, std::string schema_prefix, eddy::thread_pool& p)
        : conninfo(std::move(server)), prefix(std::move(schema_prefix)), pool(&p) {}
    storage_type open(const std::string& database) const { return open(database, *pool); }
    /// The schema, its results resumed on `scheduler` (a service's strand). The order service
    /// (events, outbox, keys, saga log of every saga in flight, read model) gets more
    /// connections than the others: 7 + 4 x 4 = 23 a process, listeners included.
    storage_type open(const std::string& database, eddy::thread_pool& scheduler) const {
        eddy::postgres_options o;
        o.schema = prefix + database;
        o.pool_size = database == "orders" ? 6 : 3;
        return storage_type(conninfo, scheduler, o);
    }
    keys_type keys(const storage_type& s) const { return keys_type(s, "order-placement"); }
    template <class Ctx>
    saga_log<Ctx> saga_log_of(const storage_type& s) const {
        return saga_log<Ctx>(s, "orders");
    }
    order_view view_of(const storage_type& s) const { return order_view(s); }

    std::string conninfo;
    std::string prefix;
    eddy::thread_pool* pool;
};

} // namespace payments
