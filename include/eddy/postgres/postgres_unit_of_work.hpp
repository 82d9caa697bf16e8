// eddy/postgres/postgres_unit_of_work.hpp - eddy::postgres_unit_of_work, the writes of one step
// that a postgres_storage commits in one transaction.
#pragma once

#include <cstddef> // std::size_t
#include <memory>  // std::unique_ptr, std::make_unique
#include <string>  // std::string
#include <utility> // std::move
#include <vector>  // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/unit_op.hpp>
#include <eddy/postgres/detail/user_sql.hpp>
#include <eddy/postgres/postgres_value.hpp>

namespace eddy {

/// The writes of one step (appends to several streams, checkpoint saves, outbox messages, inbox
/// marks, the user's own SQL) collected for `postgres_storage::commit`, which runs them in one
/// PostgreSQL transaction: all are written or none. Made by `postgres_storage::begin()`; stores
/// attached to the same storage add to it (`events.append(unit, ...)`,
/// `checkpoints.save_checkpoint(unit, ...)`). Nothing is sent to the server before the commit.
///
/// Eager, move-only value. Thread-safety: one owner at a time.
/// Lifetime: independent of the storage; committing it on another storage is an `eddy::error`.
///
///     eddy::postgres_unit_of_work unit = storage.begin();
///     orders.append(unit, "order-1", eddy::expected_version::no_stream(), {placed});
///     checkpoints.save_checkpoint(unit, "orders-view", 41);
///     unit.execute("UPDATE order_view SET status = $1 WHERE id = $2", {"placed", "order-1"});
///     co_await storage.commit(std::move(unit));
class postgres_unit_of_work {
public:
    /// Adds one SQL statement of the user's to the unit (`$1`..`$n` bound from `params`, in
    /// order; see `postgres_value`): a read model's rows commit with the events, outbox
    /// messages, inbox marks and checkpoint of the same unit, or not at all. It runs at commit,
    /// in the order added among the unit's writes (before its events are inserted), with the
    /// storage's schema first on the search path: `order_view` is `<schema>.order_view`.
    /// Only parameterized: values never go into the SQL text. Eager: it only adds to the unit.
    /// Errors, at commit (failing, and rolling back, the whole unit): a number of `params`
    /// other than the highest `$n` of `sql` (`eddy::error`, naming the statement), the server's
    /// own (`eddy::postgres_error`: syntax, constraints, a type the server cannot infer).
    ///
    ///     unit.execute("INSERT INTO order_view VALUES ($1, $2)", {"order-1", std::int64_t{3}});
    void execute(std::string sql, std::vector<postgres_value> params = {}) {
        m_ops.push_back(std::make_unique<sql_op>(std::move(sql), std::move(params)));
    }

    postgres_unit_of_work(postgres_unit_of_work&&) noexcept = default;
    postgres_unit_of_work& operator=(postgres_unit_of_work&&) noexcept = default;

    /// The number of writes added so far.
    [[nodiscard]] std::size_t size() const noexcept { return m_ops.size(); }

    /// For stores: adds a write; `is_append` reserves the next index of `commit_result::appends`
    /// (returned). Throws `eddy::error` when the unit belongs to another storage.
    std::size_t add(const void* storage, std::unique_ptr<detail::pg_unit_op> op, bool is_append) {
        check_owner(storage, "eddy::postgres: a unit of work of another postgres_storage");
        m_ops.push_back(std::move(op));
        return is_append ? m_appends++ : m_appends;
    }

    /// For stores: adds a check that runs first in the unit's transaction, before every write
    /// added before or after it (a fence: `postgres_lease::fence`), so a failing check rolls
    /// the unit back before any of its writes is sent. Checks added later run earlier.
    /// Throws `eddy::error` when the unit belongs to another storage.
    void add_check(const void* storage, std::unique_ptr<detail::pg_unit_op> op) {
        check_owner(storage, "eddy::postgres: a unit of work of another postgres_storage");
        m_ops.insert(m_ops.begin(), std::move(op));
    }

    /// For the storage: takes the writes out.
    std::vector<std::unique_ptr<detail::pg_unit_op>> release(const void* storage,
                                                             std::size_t& appends) {
        check_owner(storage, "eddy::postgres_storage::commit: a unit of work of another storage");
        appends = m_appends;
        m_appends = 0;
        return std::move(m_ops);
    }

private:
    friend class postgres_storage;

    struct sql_op final : detail::pg_unit_op {
        sql_op(std::string s, std::vector<postgres_value> p)
            : sql(std::move(s)), params(std::move(p)) {}
        task<void> run(detail::pg_tx* tx) override { return run_sql(this, tx); }
        std::string sql;
        std::vector<postgres_value> params;
    };

    static task<void> run_sql(sql_op* op, detail::pg_tx* tx) {
        detail::pg_params params = detail::pg_user_params(op->sql, op->params);
        detail::pg_query_awaiter q = tx->lease->query(op->sql, std::move(params));
        co_await q;
    }

    explicit postgres_unit_of_work(const void* owner) noexcept : m_owner(owner) {}

    void check_owner(const void* storage, const char* what) const {
        if (storage != m_owner) {
            throw error(what);
        }
    }

    const void* m_owner;
    std::vector<std::unique_ptr<detail::pg_unit_op>> m_ops;
    std::size_t m_appends = 0;
};

} // namespace eddy
