// eddy/sqlite/sqlite_checkpoint_store.hpp - eddy::sqlite_checkpoint_store, projection checkpoints
// in a SQLite file, saved alone or within a unit of work.
#pragma once

#include <cstdint>    // std::uint64_t, std::int64_t
#include <functional> // std::function
#include <memory>     // std::make_unique
#include <string>     // std::string
#include <utility>    // std::move

#include <eddy/core/task.hpp>
#include <eddy/es/checkpoint_store.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/unit_checkpoint_store.hpp>
#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/detail/engine.hpp>
#include <eddy/sqlite/detail/unit_op.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>
#include <eddy/sqlite/sqlite_unit_of_work.hpp>

namespace eddy {

namespace detail {
inline void save_checkpoint_row(connection& c, const std::string& name, std::uint64_t position) {
    c.cached("INSERT INTO eddy_checkpoints (name, position) VALUES (?, ?) "
             "ON CONFLICT (name) DO UPDATE SET position = excluded.position")
        .bind(1, name)
        .bind(2, static_cast<std::int64_t>(position))
        .run();
}
} // namespace detail

/// An `eddy::unit_checkpoint_store` in a SQLite file (table `eddy_checkpoints`: name, position):
/// `save_checkpoint(unit, name, position)` joins a unit of work of the same `sqlite_storage`, so
/// a projection's read-model writes, events and checkpoint commit in one transaction.
///
/// Lazy: tasks (the unit overload is eager: it only adds to the unit). Where the awaiter
/// resumes: on the storage's scheduler. Errors: `eddy::sqlite_error`; `eddy::error` for a unit
/// of another storage. Lifetime: a handle on the storage. Thread-safety: every member may be
/// called from any thread concurrently.
///
///     eddy::sqlite_checkpoint_store checkpoints(db);
///     co_await checkpoints.save_checkpoint("order_summary", 42);
class sqlite_checkpoint_store {
public:
    using unit_type = sqlite_unit_of_work;

    explicit sqlite_checkpoint_store(sqlite_storage storage) : m_storage(std::move(storage)) {}

    /// The checkpoint of `name`; 0 when never saved.
    [[nodiscard]] task<std::uint64_t> load_checkpoint(std::string name) const {
        return detail::sqlite_engine::read<std::uint64_t>(
            m_storage.engine(), [name](detail::connection& c) { return query(c, name); });
    }

    /// Saves `position` for `name` (it may go back, e.g. to 0 for a replay).
    [[nodiscard]] task<void> save_checkpoint(std::string name, std::uint64_t position) {
        std::function<bool(detail::connection&)> f = [name, position](detail::connection& c) {
            detail::save_checkpoint_row(c, name, position);
            return true;
        };
        return detail::sqlite_engine::write_void(m_storage.engine(), std::move(f));
    }

    /// Adds the save to `unit` (written when, and only if, the unit commits).
    void save_checkpoint(sqlite_unit_of_work& unit, std::string name, std::uint64_t position) {
        unit.add(m_storage.engine().get(), std::make_unique<save_op>(std::move(name), position),
                 false);
    }

    /// The storage the store lives in.
    [[nodiscard]] const sqlite_storage& storage() const noexcept { return m_storage; }

private:
    static std::uint64_t query(detail::connection& c, const std::string& name) {
        detail::statement& s = c.cached("SELECT position FROM eddy_checkpoints WHERE name = ?");
        s.bind(1, name);
        std::uint64_t position = 0;
        if (s.step()) {
            position = static_cast<std::uint64_t>(s.int64(0));
            s.reset();
        }
        return position;
    }

    struct save_op final : detail::sqlite_unit_op {
        save_op(std::string n, std::uint64_t p) : name(std::move(n)), position(p) {}
        void run(detail::connection& c, detail::sqlite_engine&, commit_result&) override {
            detail::save_checkpoint_row(c, name, position);
        }
        std::string name;
        std::uint64_t position;
    };

    sqlite_storage m_storage;
};

static_assert(unit_checkpoint_store<sqlite_checkpoint_store>);

} // namespace eddy
