// eddy/sqlite/sqlite_unit_of_work.hpp - eddy::sqlite_unit_of_work, the writes of one step that a
// sqlite_storage commits in one transaction.
#pragma once

#include <cstddef> // std::size_t
#include <memory>  // std::unique_ptr, std::make_unique
#include <string>  // std::string
#include <utility> // std::move
#include <vector>  // std::vector

#include <eddy/core/error.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/detail/unit_op.hpp>
#include <eddy/sqlite/detail/user_sql.hpp>
#include <eddy/sqlite/sqlite_value.hpp>

namespace eddy {

/// The writes of one step (appends to several streams, checkpoint saves, outbox messages, inbox
/// marks, the user's own SQL) collected for
/// `sqlite_storage::commit`, which runs them in one SQLite transaction (a SAVEPOINT inside the
/// group commit's transaction): all are written or none. Made by `sqlite_storage::begin()`;
/// stores attached to the same storage add to it (`events.append(unit, ...)`,
/// `checkpoints.save_checkpoint(unit, ...)`). Nothing touches the file before the commit.
///
/// Eager, move-only value. Thread-safety: one owner at a time.
/// Lifetime: independent of the storage; committing it on another storage is an `eddy::error`.
///
///     eddy::sqlite_unit_of_work unit = storage.begin();
///     orders.append(unit, "order-1", eddy::expected_version::no_stream(), {placed});
///     checkpoints.save_checkpoint(unit, "orders-view", 41);
///     unit.execute("UPDATE order_view SET status = ? WHERE id = ?", {"placed", "order-1"});
///     co_await storage.commit(std::move(unit));
class sqlite_unit_of_work {
public:
    /// Adds one SQL statement of the user's (`?` parameters bound from `params`, in order) to
    /// the unit: a read model's rows commit with the events and checkpoint that produced them.
    /// Errors, at commit (failing the whole unit): a wrong parameter count (`eddy::error`),
    /// SQLite's own (`eddy::sqlite_error`: syntax, constraints).
    void execute(std::string sql, std::vector<sqlite_value> params = {}) {
        m_ops.push_back(std::make_unique<sql_op>(std::move(sql), std::move(params)));
    }

    sqlite_unit_of_work(sqlite_unit_of_work&&) noexcept = default;
    sqlite_unit_of_work& operator=(sqlite_unit_of_work&&) noexcept = default;

    /// The number of writes added so far.
    [[nodiscard]] std::size_t size() const noexcept { return m_ops.size(); }

    /// For stores: adds a write; `is_append` reserves the next index of `commit_result::appends`
    /// (returned). Throws `eddy::error` when the unit belongs to another storage.
    std::size_t add(const void* storage, std::unique_ptr<detail::sqlite_unit_op> op,
                    bool is_append) {
        check_owner(storage, "eddy::sqlite: a unit of work of another sqlite_storage");
        m_ops.push_back(std::move(op));
        return is_append ? m_appends++ : m_appends;
    }

    /// For the storage: takes the writes out.
    std::vector<std::unique_ptr<detail::sqlite_unit_op>> release(const void* storage,
                                                                 std::size_t& appends) {
        check_owner(storage, "eddy::sqlite_storage::commit: a unit of work of another storage");
        appends = m_appends;
        m_appends = 0;
        return std::move(m_ops);
    }

private:
    friend class sqlite_storage;

    struct sql_op final : detail::sqlite_unit_op {
        sql_op(std::string s, std::vector<sqlite_value> p)
            : sql(std::move(s)), params(std::move(p)) {}
        void run(detail::connection& c, detail::sqlite_engine&, commit_result&) override {
            (void)detail::run_user_sql(c, sql, params);
        }
        std::string sql;
        std::vector<sqlite_value> params;
    };

    explicit sqlite_unit_of_work(const void* owner) noexcept : m_owner(owner) {}

    void check_owner(const void* storage, const char* what) const {
        if (storage != m_owner) {
            throw error(what);
        }
    }

    const void* m_owner;
    std::vector<std::unique_ptr<detail::sqlite_unit_op>> m_ops;
    std::size_t m_appends = 0;
};

} // namespace eddy
