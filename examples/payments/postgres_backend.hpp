// examples/payments/postgres_backend.hpp - the payment system on PostgreSQL: a schema per
// service (as separate services would have separate databases), and the orders' read model
// as a table of the order service's schema. A header of its own, beside backend.hpp and
// order_view.hpp: only payment_system_postgres.cpp includes it, and the example builds without
// eddy::postgres (libpq) when that adapter is off.
#pragma once

#include <chrono>      // std::chrono::milliseconds
#include <cstdint>     // std::int64_t
#include <map>         // std::map
#include <memory>      // std::shared_ptr, std::make_shared
#include <mutex>       // std::mutex, std::lock_guard
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
#include <eddy/postgres/postgres_lease.hpp>
#include <eddy/postgres/postgres_outbox_store.hpp>
#include <eddy/postgres/postgres_saga_log.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/postgres/postgres_unit_of_work.hpp>

#include "order_view.hpp"

namespace payments {

/// Runs `ddl` (CREATE TABLE IF NOT EXISTS ...) under an advisory lock: the processes of one
/// system start at once, and concurrent CREATE TABLE IF NOT EXISTS of one name can fail.
inline eddy::task<void> create_tables(eddy::postgres_storage storage, std::string ddl) {
    std::string sql = "DO $$ BEGIN PERFORM pg_advisory_xact_lock(hashtext('payments tables')); " +
                      ddl + " END $$";
    (void)co_await storage.execute(std::move(sql));
}

/// The read model as the table `order_view` of the order service's schema
/// (`<prefix>orders.order_view`): `payments orders` reads it with SQL after the run (or while
/// it runs, from another process); its rows commit with the projection's checkpoint.
class postgres_order_view {
public:
    explicit postgres_order_view(eddy::postgres_storage storage) : m_storage(std::move(storage)) {}

    [[nodiscard]] std::string_view name() const { return "order_view"; }

    eddy::task<void> create() {
        return create_tables(m_storage,
                             "CREATE TABLE IF NOT EXISTS order_view (order_id text PRIMARY KEY, "
                             "customer text NOT NULL, sku text NOT NULL, quantity bigint NOT NULL, "
                             "amount_cents bigint NOT NULL, status text NOT NULL, reason text NOT "
                             "NULL);");
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

/// The instances of the system in the order service's schema (see solo_instance in
/// backend.hpp): an instance's lease is an `eddy::postgres_lease` `instance:<name>`, a role's
/// `role:<role>` (eddy's table `leases`), each held under the instance's name; table
/// `saga_owners` names the instance each running saga belongs to. Times are the server's, so
/// the processes' clocks do not matter. An instance renews its lease every second; one that stops
/// renewing for `ttl` (killed, or frozen that long) has its sagas taken over by the first live
/// instance that looks. Not fenced: an instance frozen for longer than `ttl` that wakes up runs on
/// beside its successor until it renews (its saga steps are idempotent commands, so no effect
/// doubles, but the saga's log interleaves two writers; the read model's units are fenced by the
/// role's lease, see `project`); instance names must be unique among live processes.
class postgres_instance {
public:
    postgres_instance(eddy::postgres_storage storage, std::string name,
                      std::chrono::milliseconds ttl)
        : m_storage(std::move(storage)), m_name(std::move(name)), m_ttl(ttl),
          m_leases(std::make_shared<leases>()) {}

    eddy::task<void> join() {
        eddy::task<void> create = create_tables(
            m_storage,
            "CREATE TABLE IF NOT EXISTS saga_owners (saga_id text PRIMARY KEY, instance text NOT "
            "NULL);");
        co_await std::move(create);
        co_await renew();
    }

    /// Renews the instance's lease (taking it back if it ended: a restart under the name).
    eddy::task<void> renew() {
        const eddy::postgres_lease lease = lease_of("instance:" + m_name);
        eddy::task<bool> held = lease.acquire_or_renew();
        (void)co_await std::move(held);
    }

    /// Ends the instance's leases (its sagas have ended: none is left to take over).
    eddy::task<void> leave() {
        std::vector<eddy::postgres_lease> held;
        {
            std::lock_guard lock(m_leases->mutex);
            for (const auto& [name, lease] : m_leases->by_name) {
                held.push_back(lease);
            }
        }
        for (const eddy::postgres_lease& lease : held) {
            eddy::task<void> release = lease.release();
            co_await std::move(release);
        }
    }

    /// Whether saga `id` is this instance's: claimed now, or earlier (a restart of the same
    /// instance, or a take-over). False when another instance holds it.
    eddy::task<bool> claim(std::string id) {
        std::vector<eddy::postgres_value> params{std::move(id), m_name};
        auto rows = co_await m_storage.query(
            "INSERT INTO saga_owners VALUES ($1, $2) ON CONFLICT (saga_id) DO UPDATE SET "
            "instance = saga_owners.instance RETURNING instance",
            std::move(params));
        co_return !rows.empty() && rows.front().text(0) == m_name;
    }

    /// Saga `id` has ended: nobody is to take it over.
    eddy::task<void> release(std::string id) {
        std::vector<eddy::postgres_value> params{std::move(id), m_name};
        (void)co_await m_storage.execute(
            "DELETE FROM saga_owners WHERE saga_id = $1 AND instance = $2", std::move(params));
    }

    /// Makes the sagas of instances whose lease ended this instance's, and returns them. Two
    /// instances taking over at once: the second's update waits on the first's row locks, then
    /// finds the owner alive, so each saga passes to one.
    eddy::task<std::vector<std::string>> take_over() {
        std::vector<eddy::postgres_value> params{m_name};
        auto rows = co_await m_storage.query(
            "UPDATE saga_owners SET instance = $1 WHERE instance <> $1 AND NOT EXISTS (SELECT 1 "
            "FROM leases l WHERE l.name = 'instance:' || saga_owners.instance AND "
            "l.expires_at >= now()) RETURNING saga_id",
            std::move(params));
        std::vector<std::string> ids;
        for (const auto& r : rows) {
            ids.push_back(r.text(0));
        }
        co_return ids;
    }

    /// Takes or renews the lease of `role`: whether this instance holds it now.
    eddy::task<bool> lead(std::string role) { return lease_of("role:" + role).acquire_or_renew(); }

    /// Brings the read model `v` up to date through projector `p` as the holder of `role`'s
    /// lease (taken by `lead`), each event's unit fenced by it: an instance frozen past its
    /// lease while another took the role over commits nothing more (its projector stops with
    /// `eddy::lease_lost`, which ends this pass quietly; `lead` then tells it it lost the role).
    template <class Projector, class View>
    eddy::task<void> project(Projector* p, View* v, std::string role) {
        const eddy::postgres_lease lease = lease_of("role:" + role);
        auto fenced_view = eddy::fenced(*v, lease);
        try {
            (void)co_await p->catch_up(fenced_view);
        } catch (const eddy::lease_lost&) {
            // another instance leads now: its projector goes on from the checkpoint
        }
    }

private:
    // The leases this instance took, by name (a handle: copies of the instance share them, and
    // a task in flight keeps its lease's state).
    struct leases {
        std::mutex mutex;
        std::map<std::string, eddy::postgres_lease> by_name; // guarded by mutex
    };

    eddy::postgres_lease lease_of(const std::string& name) {
        std::lock_guard lock(m_leases->mutex);
        auto it = m_leases->by_name.find(name);
        if (it == m_leases->by_name.end()) {
            it = m_leases->by_name
                     .emplace(name, eddy::postgres_lease(m_storage, name, m_name, m_ttl))
                     .first;
        }
        return it->second;
    }

    eddy::postgres_storage m_storage;
    std::string m_name;
    std::chrono::milliseconds m_ttl;
    std::shared_ptr<leases> m_leases;
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
    /// inventory service (one command of a sku at a time) falls further behind until compensations
    /// time out too (sagas parked, orders stuck). A lost command (a poison one) costs its saga 3 x
    /// 5 s.
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
    using instance_type = postgres_instance;
    /// An instance that stops renewing its lease for 5 s is taken for dead.
    instance_type instance_of(const storage_type& s, const std::string& name) const {
        return instance_type(s, name, std::chrono::seconds(5));
    }

    std::string conninfo;
    std::string prefix;
    eddy::thread_pool* pool;
};

} // namespace payments
