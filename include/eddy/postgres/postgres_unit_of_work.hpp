// eddy/postgres/postgres_unit_of_work.hpp - eddy::postgres_unit_of_work, the writes of one step
// that a postgres_storage commits in one transaction.
#pragma once

#include <cstddef> // std::size_t
#include <memory>  // std::unique_ptr
#include <utility> // std::move
#include <vector>  // std::vector

#include <eddy/core/error.hpp>
#include <eddy/postgres/detail/unit_op.hpp>

namespace eddy {

/// The writes of one step (appends to several streams, checkpoint saves) collected for
/// `postgres_storage::commit`, which runs them in one PostgreSQL transaction: all are written
/// or none. Made by `postgres_storage::begin()`; stores attached to the same storage add to it
/// (`events.append(unit, ...)`, `checkpoints.save_checkpoint(unit, ...)`). Nothing is sent to
/// the server before the commit.
///
/// Eager, move-only value. Thread-safety: one owner at a time.
/// Lifetime: independent of the storage; committing it on another storage is an `eddy::error`.
///
///     eddy::postgres_unit_of_work unit = storage.begin();
///     orders.append(unit, "order-1", eddy::expected_version::no_stream(), {placed});
///     checkpoints.save_checkpoint(unit, "orders-view", 41);
///     co_await storage.commit(std::move(unit));
class postgres_unit_of_work {
public:
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
