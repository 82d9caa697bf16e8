// eddy/postgres/postgres_storage.hpp - eddy::postgres_storage, a PostgreSQL schema reached
// through a small connection pool driven by an eddy-owned I/O thread: the unit-of-work storage
// the PostgreSQL stores attach to.
#pragma once

#include <cstddef> // std::size_t
#include <cstdint> // std::int64_t
#include <memory>  // std::shared_ptr, std::make_shared
#include <string>  // std::string
#include <utility> // std::move
#include <vector>  // std::vector

#include <eddy/core/scheduler.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/unit_of_work_storage.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/user_sql.hpp>
#include <eddy/postgres/postgres_options.hpp>
#include <eddy/postgres/postgres_row.hpp>
#include <eddy/postgres/postgres_unit_of_work.hpp>
#include <eddy/postgres/postgres_value.hpp>

namespace eddy {

namespace detail {
// The user's statement on a connection of the pool, outside any transaction (its own).
inline task<pg_rows> pg_user_statement(std::shared_ptr<pg_engine> e, std::string sql,
                                       std::vector<postgres_value> values) {
    pg_params params = pg_user_params(sql, values); // before anything is sent
    task<pg_rows> read = pg_engine::read(std::move(e), std::move(sql), std::move(params));
    co_return co_await std::move(read);
}

inline task<std::vector<postgres_row>> pg_user_query(std::shared_ptr<pg_engine> e, std::string sql,
                                                     std::vector<postgres_value> values) {
    task<pg_rows> t = pg_user_statement(std::move(e), std::move(sql), std::move(values));
    const pg_rows rows = co_await std::move(t);
    co_return pg_user_rows(rows);
}

inline task<std::int64_t> pg_user_execute(std::shared_ptr<pg_engine> e, std::string sql,
                                          std::vector<postgres_value> values) {
    task<pg_rows> t = pg_user_statement(std::move(e), std::move(sql), std::move(values));
    const pg_rows rows = co_await std::move(t);
    co_return rows.affected();
}
} // namespace detail

/// A schema of a PostgreSQL database, the storage the PostgreSQL stores
/// (`postgres_event_store`, `postgres_checkpoint_store`, `postgres_outbox_store`,
/// `postgres_inbox_store`, `postgres_idempotency_store`, `postgres_snapshot_store`,
/// `postgres_saga_log`) attach to; models
/// `eddy::unit_of_work_storage`. The constructor connects (`conninfo` is a libpq connection
/// string, e.g. "host=127.0.0.1 port=5432 dbname=app user=app"), creates or migrates eddy's
/// tables in `options.schema` (version table `<schema>.schema_version`, forward migrations
/// under an advisory lock, so several programs may start at once), opens
/// `options.pool_size` connections plus one that LISTENs for commits, and starts one I/O
/// thread. That thread drives libpq's non-blocking calls (send, flush, consume input, get
/// result) on every connection, waiting for socket readiness with poll(2): no statement ever
/// blocks a caller's thread. Only parameterized statements are sent; the validated schema name
/// is the only name put into SQL text. eddy's own statements are prepared once per connection
/// (named `eddy_<n>`: parsing was most of the server's time) and run by name; the user's SQL
/// never is. After the user's DEALLOCATE or DISCARD ALL, eddy prepares its statements again.
/// The user's own SQL (`query`, `execute`, and
/// `postgres_unit_of_work::execute`, for read models kept beside the events) runs on the same
/// connections, whose sessions start with the schema first on the search path (then `public`;
/// added after any `options` of `conninfo`): its unqualified names are the schema's tables.
///
/// Eager construction (blocking: connecting and migrating); `commit` is lazy (a task).
/// Where the awaiter resumes: on `scheduler` (`co_await scheduler.schedule()` from the I/O
/// thread that received the last result). With `eddy::inline_scheduler` the caller continues
/// on the I/O thread itself (fine for tests and tools; it holds up every connection's I/O
/// until its next suspension). `eddy::virtual_time_scheduler` is not supported (its `run`
/// cannot see work pending on a real thread).
/// Units: each commit is one transaction on one connection of the pool (waiting, FIFO, for a
/// free one): its writes run in order, its events take their positions together at its end
/// (see `postgres_event_store`), then COMMIT. A commit that wrote events wakes this storage's
/// subscriptions (and, by NOTIFY in the transaction, those of other processes) and completes
/// once the reads its live subscriptions had sent until then (waking included) are answered and
/// handled: with an inline scheduler a waiting subscriber has seen the commit when `commit`
/// returns. (A subscriber resumed on a thread pool reads later, on its own.)
/// Errors: `eddy::postgres_error` (SQLSTATE and message) for a failing statement or a lost
/// connection (the transaction is then rolled back, by the server if need be; if the
/// connection is lost during COMMIT itself, the outcome is unknown, as with any database
/// client); `eddy::postgres_schema_too_new` when the schema was written by a newer eddy;
/// `eddy::error` for a schema name that is not a plain identifier or a pool size of 0; from
/// `commit`, the first failing write's error (nothing of the unit is written).
/// Connection loss: the statement in flight fails, its connection is reconnected (without
/// blocking, in the background) when its lease ends; connections dropped while idle are
/// noticed and reconnected too; while no connection can be made, a waiting operation fails
/// with the connection error.
/// Lifetime: a handle: copies share the pool; the thread stops when the last handle (or a store
/// or stream holding one) is gone. `scheduler` must outlive every handle.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::thread_pool pool(2);
///     eddy::postgres_storage db("host=127.0.0.1 dbname=app", pool, {.schema = "orders"});
///     eddy::postgres_unit_of_work unit = db.begin();
///     co_await db.commit(std::move(unit));
class postgres_storage {
public:
    using unit_type = postgres_unit_of_work;

    template <class Scheduler>
    postgres_storage(std::string conninfo, Scheduler& scheduler, postgres_options options = {})
        : m_engine(std::make_shared<detail::pg_engine>(std::move(conninfo), options,
                                                       detail::resume_on_function(scheduler))) {
        static_assert(eddy::scheduler<Scheduler>,
                      "eddy::postgres_storage: the second argument must model eddy::scheduler");
    }

    /// A new, empty unit of work of this storage.
    [[nodiscard]] unit_type begin() const { return unit_type(m_engine.get()); }

    /// Writes every write of `unit` in one transaction, or none (throwing the first failure).
    [[nodiscard]] task<commit_result> commit(unit_type unit) const {
        std::size_t appends = 0;
        auto ops =
            std::make_shared<detail::pg_engine::op_list>(unit.release(m_engine.get(), appends));
        return detail::pg_engine::commit(m_engine, std::move(ops), appends);
    }

    /// Runs one SQL statement of the user's (`$1`..`$n` bound from `params`; see
    /// `postgres_value`) on a connection of the pool and returns its rows, typed: queries of a
    /// read model kept in this schema (the schema is first on the search path, so its tables
    /// are named unqualified). Sees every commit completed before the call.
    /// Lazy (a task); resumes on the storage's scheduler. Only parameterized: values never go
    /// into the SQL text.
    /// Errors: a number of `params` other than the highest `$n` of `sql` (`eddy::error`, nothing
    /// sent), the server's own (`eddy::postgres_error`), a floating-point column the server
    /// wrote in a form that does not read back (`eddy::error`).
    ///
    ///     auto rows = co_await db.query("SELECT id, total FROM order_view WHERE status = $1",
    ///                                   {"confirmed"});
    [[nodiscard]] task<std::vector<postgres_row>>
    query(std::string sql, std::vector<postgres_value> params = {}) const {
        return detail::pg_user_query(m_engine, std::move(sql), std::move(params));
    }

    /// Runs one SQL statement of the user's in a transaction of its own (a read model's
    /// `CREATE TABLE IF NOT EXISTS`, a one-off fix) and returns the number of rows it changed
    /// (0 for DDL). Like `query` otherwise (lazy; the storage's scheduler; errors).
    ///
    ///     co_await db.execute("CREATE TABLE IF NOT EXISTS order_view (id text PRIMARY KEY)");
    [[nodiscard]] task<std::int64_t> execute(std::string sql,
                                             std::vector<postgres_value> params = {}) const {
        return detail::pg_user_execute(m_engine, std::move(sql), std::move(params));
    }

    /// The schema eddy's tables are in.
    [[nodiscard]] const std::string& schema() const noexcept { return m_engine->schema(); }

    /// For the stores: the shared engine.
    [[nodiscard]] const std::shared_ptr<detail::pg_engine>& engine() const noexcept {
        return m_engine;
    }

private:
    std::shared_ptr<detail::pg_engine> m_engine;
};

static_assert(unit_of_work_storage<postgres_storage>);

} // namespace eddy
