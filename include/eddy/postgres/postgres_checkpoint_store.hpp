// eddy/postgres/postgres_checkpoint_store.hpp - eddy::postgres_checkpoint_store, projection
// checkpoints in PostgreSQL, saved alone or within a unit of work.
#pragma once

#include <cstdint> // std::uint64_t, std::int64_t
#include <memory>  // std::make_unique
#include <string>  // std::string
#include <utility> // std::move

#include <eddy/core/task.hpp>
#include <eddy/es/checkpoint_store.hpp>
#include <eddy/es/unit_checkpoint_store.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/unit_op.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/postgres/postgres_unit_of_work.hpp>

namespace eddy {

/// An `eddy::unit_checkpoint_store` in PostgreSQL (table `<schema>.checkpoints`: name,
/// position): `save_checkpoint(unit, name, position)` joins a unit of work of the same
/// `postgres_storage`, so a projection's events, read-model writes and checkpoint commit in one
/// transaction.
///
/// Lazy: tasks (the unit overload is eager: it only adds to the unit). Where the awaiter
/// resumes: on the storage's scheduler. Errors: `eddy::postgres_error`; `eddy::error` for a
/// unit of another storage. Lifetime: a handle on the storage. Thread-safety: every member may
/// be called from any thread concurrently.
///
///     eddy::postgres_checkpoint_store checkpoints(db);
///     co_await checkpoints.save_checkpoint("order_summary", 42);
class postgres_checkpoint_store {
public:
    using unit_type = postgres_unit_of_work;

    explicit postgres_checkpoint_store(postgres_storage storage) : m_storage(std::move(storage)) {}

    /// The checkpoint of `name`; 0 when never saved.
    [[nodiscard]] task<std::uint64_t> load_checkpoint(std::string name) const {
        return load(m_storage.engine(), std::move(name));
    }

    /// Saves `position` for `name` (it may go back, e.g. to 0 for a replay).
    [[nodiscard]] task<void> save_checkpoint(std::string name, std::uint64_t position) {
        return save_alone(m_storage, std::move(name), position);
    }

    /// Adds the save to `unit` (written when, and only if, the unit commits).
    void save_checkpoint(postgres_unit_of_work& unit, std::string name, std::uint64_t position) {
        unit.add(m_storage.engine().get(), std::make_unique<save_op>(std::move(name), position),
                 false);
    }

    /// The storage the store lives in.
    [[nodiscard]] const postgres_storage& storage() const noexcept { return m_storage; }

private:
    struct save_op final : detail::pg_unit_op {
        save_op(std::string n, std::uint64_t p) : name(std::move(n)), position(p) {}
        task<void> run(detail::pg_tx* tx) override { return save(this, tx); }
        std::string name;
        std::uint64_t position;
    };

    static task<void> save(save_op* op, detail::pg_tx* tx) {
        detail::pg_params params;
        params.text(op->name).integer(static_cast<std::int64_t>(op->position));
        detail::pg_query_awaiter upsert = tx->lease->query(
            tx->engine->sql("INSERT INTO {s}.checkpoints (name, position) VALUES ($1, $2) "
                            "ON CONFLICT (name) DO UPDATE SET position = excluded.position"),
            std::move(params));
        co_await upsert;
    }

    static task<void> save_alone(postgres_storage storage, std::string name,
                                 std::uint64_t position) {
        postgres_unit_of_work unit = storage.begin();
        unit.add(storage.engine().get(), std::make_unique<save_op>(std::move(name), position),
                 false);
        co_await storage.commit(std::move(unit));
    }

    static task<std::uint64_t> load(std::shared_ptr<detail::pg_engine> e, std::string name) {
        std::string sql = e->sql("SELECT position FROM {s}.checkpoints WHERE name = $1");
        detail::pg_params params;
        params.text(std::move(name));
        task<detail::pg_rows> read = detail::pg_engine::read(e, std::move(sql), std::move(params));
        const detail::pg_rows rows = co_await std::move(read);
        co_return rows.empty() ? 0 : rows.u64(0, 0);
    }

    postgres_storage m_storage;
};

static_assert(unit_checkpoint_store<postgres_checkpoint_store>);

} // namespace eddy
