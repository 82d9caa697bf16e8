// eddy/es/memory_storage.hpp - eddy::memory_storage, one in-memory "database" the memory stores
// share, with units of work that commit atomically across them.
#pragma once

#include <chrono>     // std::chrono::system_clock
#include <cstdint>    // std::uint64_t
#include <functional> // std::function
#include <memory>     // std::shared_ptr, std::make_shared
#include <mutex>      // std::lock_guard
#include <random>     // std::random_device, std::mt19937_64
#include <utility>    // std::move

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/detail/memory_storage_state.hpp>
#include <eddy/es/memory_unit_of_work.hpp>
#include <eddy/es/unit_of_work_storage.hpp>

namespace eddy {

/// The in-memory storage the memory stores attach to (`memory_event_store<E>(storage)`,
/// `memory_checkpoint_store(storage)`, and the outbox, inbox and saga stores of the layers
/// above): one state, one mutex, one table per store type (two stores of the same type on one
/// storage see the same data, like two connections to one database). Models
/// `eddy::unit_of_work_storage`: `begin()` returns an empty `memory_unit_of_work`; `commit`
/// checks every intent of the unit (expected versions, event ids, ...) under the mutex and, only
/// when all pass, runs its `on_commit` callbacks and applies all its writes before releasing the
/// mutex: all or nothing, and no reader sees part of a unit.
///
/// Lazy: `commit` is a task; it completes synchronously on the awaiting thread. Where the
/// awaiter resumes: that thread, after subscribers the commit woke have run (they resume inline
/// on it, after the mutex was released).
/// Errors: the first failed check's error (`eddy::concurrency_conflict`,
/// `eddy::duplicate_event_id`, ...), with nothing applied; a unit of another storage is bad
/// input (`eddy::error`, eagerly).
/// Lifetime: stores, units and streams share the state, so each may outlive the
/// `memory_storage` object; copies of a `memory_storage` are handles to the same state.
/// Thread-safety: every member may be called from any thread concurrently; commits are serialized.
///
///     eddy::memory_storage storage;
///     eddy::memory_event_store<order_events> events(storage);
///     auto unit = storage.begin();
///     events.append(unit, "order-1", eddy::expected_version::exact(3), batch);
///     eddy::commit_result r = co_await storage.commit(std::move(unit));
class memory_storage {
public:
    using unit_type = memory_unit_of_work;
    using clock_function = std::function<std::chrono::system_clock::time_point()>;
    using random_function = std::function<std::uint64_t()>;

    /// System clock; event ids from a privately seeded random source.
    memory_storage() : memory_storage([] { return std::chrono::system_clock::now(); }) {}

    /// The given clock (recorded times and the ids' time); privately seeded random bits.
    explicit memory_storage(clock_function clock)
        : memory_storage(std::move(clock),
                         [engine = std::mt19937_64(std::random_device{}())]() mutable {
                             return static_cast<std::uint64_t>(engine());
                         }) {}

    /// The given clock and random source: ids and times are exactly reproducible.
    memory_storage(clock_function clock, random_function random)
        : m_state(std::make_shared<detail::memory_storage_state>(std::move(clock),
                                                                 std::move(random))) {}

    /// An empty unit of work of this storage.
    [[nodiscard]] memory_unit_of_work begin() const { return memory_unit_of_work(m_state); }

    /// Commits `unit`: all of it or, when a check fails, nothing (the error propagates).
    [[nodiscard]] task<commit_result> commit(memory_unit_of_work unit) const {
        if (unit.m_state != m_state) {
            throw error("eddy::memory_storage::commit: the unit of work belongs to another "
                        "storage");
        }
        return commit_impl(std::move(unit));
    }

    // For memory stores: the shared state.
    [[nodiscard]] const std::shared_ptr<detail::memory_storage_state>& state() const noexcept {
        return m_state;
    }

private:
    static task<commit_result> commit_impl(memory_unit_of_work unit) {
        commit_result result;
        result.appends.resize(unit.m_appends);
        {
            std::lock_guard lock(unit.m_state->mutex);
            for (auto& [table, changes] : unit.m_changes) {
                changes->check(result);
            }
            for (auto& f : unit.m_on_commit) {
                f();
            }
            for (auto& [table, changes] : unit.m_changes) {
                changes->apply();
            }
        }
        for (auto& [table, changes] : unit.m_changes) {
            changes->after_commit();
        }
        co_return result;
    }

    std::shared_ptr<detail::memory_storage_state> m_state;
};

} // namespace eddy
