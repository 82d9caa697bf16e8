// eddy/sqlite/sqlite_storage.hpp - eddy::sqlite_storage, a SQLite database file with its writer
// and reader threads: the unit-of-work storage the SQLite stores attach to.
#pragma once

#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t, std::int64_t
#include <functional> // std::function
#include <memory>     // std::shared_ptr, std::make_shared
#include <string>     // std::string
#include <utility>    // std::move
#include <vector>     // std::vector

#include <eddy/core/scheduler.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/unit_of_work_storage.hpp>
#include <eddy/sqlite/detail/engine.hpp>
#include <eddy/sqlite/detail/user_sql.hpp>
#include <eddy/sqlite/sqlite_options.hpp>
#include <eddy/sqlite/sqlite_unit_of_work.hpp>
#include <eddy/sqlite/sqlite_value.hpp>

namespace eddy {

/// One SQLite database file, the storage the SQLite stores (`sqlite_event_store`,
/// `sqlite_checkpoint_store`, `sqlite_saga_log`) attach to; models `eddy::unit_of_work_storage`.
/// The constructor opens the file (creating it), sets WAL mode, the durability and the busy
/// timeout of `options`, creates or migrates eddy's tables (schema version table
/// `eddy_schema_version`), and starts two threads: the writer (one connection; every write of
/// every store runs there, so commit order is position order) and the reader (another
/// connection; reads, and polling for other processes' commits). SQLite calls block: they never
/// run on the caller's threads.
///
/// Eager construction (blocking: opening and migrating); `commit` is lazy (a task).
/// Where the awaiter resumes: on `scheduler` (`co_await scheduler.schedule()` from the worker
/// thread that finished the call). With `eddy::inline_scheduler` the caller continues on the
/// worker thread itself (no hop; fine for tests and tools, but it then holds up the worker
/// until its next suspension). `eddy::virtual_time_scheduler` is not supported: its `run`
/// cannot see work pending on a real thread and would stop or jump time meanwhile; test with a
/// `thread_pool` or the inline scheduler.
/// Group commit: commits queued while the writer is busy (from any number of coroutines, and
/// those queued while it runs the group, up to `max_group`) are written in one transaction, each
/// unit of work in a SAVEPOINT of its own (a plain event-store append needs none: see
/// `sqlite_event_store`), so each succeeds or fails alone and sees its own conflict; every one
/// is durable (per `options.synchronous`) when its task completes.
/// Errors: `eddy::sqlite_error` for any failing SQLite call (an unwritable path, a file that is
/// not a database, a full disk, a lock held past the busy timeout), with SQLite's code and
/// message; `eddy::sqlite_schema_too_new` when the file was written by a newer eddy; from
/// `commit`, the first failing write's error (nothing of the unit is written).
/// Lifetime: a handle: copies share the database; the threads stop when the last handle (or a
/// store or stream holding one) is gone. `scheduler` must outlive every handle.
/// Thread-safety: every member may be called from any thread concurrently. Several processes
/// may open the same file (SQLite's locking serializes their writers; conflicts are detected
/// by the UNIQUE constraints and the version checks inside each write transaction).
///
///     eddy::thread_pool pool(2);
///     eddy::sqlite_storage db("orders.db", pool);
///     eddy::sqlite_unit_of_work unit = db.begin();
///     co_await db.commit(std::move(unit));
class sqlite_storage {
public:
    using unit_type = sqlite_unit_of_work;

    /// What the writer thread did so far (a snapshot): committed transactions, the commits
    /// (units, appends, saga log writes...) they held, and commits waiting in its queue. With
    /// group commit, `commits / transactions` is the mean group size.
    struct write_stats {
        std::uint64_t transactions = 0;
        std::uint64_t commits = 0;
        std::size_t queued = 0;
    };

    template <class Scheduler>
    sqlite_storage(std::string path, Scheduler& scheduler, sqlite_options options = {})
        : m_engine(std::make_shared<detail::sqlite_engine>(std::move(path), options,
                                                           detail::resume_on_function(scheduler))) {
        static_assert(eddy::scheduler<Scheduler>,
                      "eddy::sqlite_storage: the second argument must model eddy::scheduler");
    }

    /// A new, empty unit of work of this storage.
    [[nodiscard]] unit_type begin() const { return unit_type(m_engine.get()); }

    /// Writes every write of `unit` in one transaction, or none (throwing the first failure).
    [[nodiscard]] task<commit_result> commit(unit_type unit) const {
        std::size_t appends = 0;
        auto ops = std::make_shared<std::vector<std::unique_ptr<detail::sqlite_unit_op>>>(
            unit.release(m_engine.get(), appends));
        detail::sqlite_engine* e = m_engine.get();
        return detail::sqlite_engine::write<commit_result>(
            m_engine, [ops, appends, e](detail::connection& c) {
                commit_result r;
                r.appends.resize(appends);
                for (auto& op : *ops) {
                    op->run(c, *e, r);
                }
                return r;
            });
    }

    /// Runs one SQL statement of the user's (`?` parameters from `params`) on the reader
    /// connection and returns its rows: queries of a read model kept in the same file. Sees
    /// every commit completed before the call.
    /// Errors: a wrong parameter count (`eddy::error`), SQLite's own (`eddy::sqlite_error`).
    [[nodiscard]] task<std::vector<sqlite_row>> query(std::string sql,
                                                      std::vector<sqlite_value> params = {}) const {
        return detail::sqlite_engine::read<std::vector<sqlite_row>>(
            m_engine, [sql = std::move(sql), params = std::move(params)](detail::connection& c) {
                return detail::run_user_sql(c, sql, params);
            });
    }

    /// Runs one SQL statement of the user's on the writer, in a transaction of its own (a
    /// read model's CREATE TABLE, a one-off fix); returns the number of rows it changed.
    [[nodiscard]] task<std::int64_t> execute(std::string sql,
                                             std::vector<sqlite_value> params = {}) const {
        return detail::sqlite_engine::write<std::int64_t>(
            m_engine,
            [sql = std::move(sql), params = std::move(params)](detail::connection& c) {
                std::int64_t changed = 0;
                (void)detail::run_user_sql(c, sql, params, &changed);
                return changed;
            },
            false);
    }

    /// A snapshot of the writer's statistics.
    [[nodiscard]] write_stats stats() const {
        const detail::sqlite_worker& w = m_engine->writer();
        return write_stats{w.transactions(), w.committed_jobs(), w.queued()};
    }

    /// The database file's path.
    [[nodiscard]] const std::string& path() const noexcept { return m_engine->path(); }

    /// For the stores: the shared engine.
    [[nodiscard]] const std::shared_ptr<detail::sqlite_engine>& engine() const noexcept {
        return m_engine;
    }

private:
    std::shared_ptr<detail::sqlite_engine> m_engine;
};

static_assert(unit_of_work_storage<sqlite_storage>);

} // namespace eddy
