// eddy/es/memory_checkpoint_store.hpp - eddy::memory_checkpoint_store, checkpoints in memory.
#pragma once

#include <cstddef> // std::size_t
#include <cstdint> // std::uint64_t
#include <memory>  // std::shared_ptr, std::make_unique
#include <mutex>   // std::lock_guard
#include <string>  // std::string
#include <utility> // std::move

#include <eddy/core/task.hpp>
#include <eddy/es/checkpoint_store.hpp>
#include <eddy/es/detail/memory_checkpoint_table.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/es/memory_unit_of_work.hpp>

namespace eddy {

/// An `eddy::checkpoint_store` in memory, in an `eddy::memory_storage` (its own, or one shared
/// with an event store and read models, so that `save_checkpoint(unit, ...)` commits with the
/// unit's read-model writes: an exactly-once projection, see `eddy::projector`).
///
/// Lazy: operations are tasks; they complete synchronously on the awaiting thread.
/// Errors: `eddy::error` for a unit of another storage. Lifetime: the tasks share the storage's
/// state, so they may outlive the store object. Thread-safety: every member may be called from
/// any thread concurrently.
///
///     eddy::memory_checkpoint_store checkpoints;
///     co_await checkpoints.save_checkpoint("order_summary", 42);
/// (A template only so that files which include it without using it do not compile its
/// members; `memory_checkpoint_store` is its one instantiation.)
template <class Unused = void>
class basic_memory_checkpoint_store {
public:
    using unit_type = memory_unit_of_work;

    /// In a storage of its own.
    basic_memory_checkpoint_store() : basic_memory_checkpoint_store(memory_storage()) {}

    /// In `storage` (two checkpoint stores on one storage see the same checkpoints).
    explicit basic_memory_checkpoint_store(const memory_storage& storage)
        : m_storage(storage),
          m_table(storage.state(), &storage.state()->template table<table_type>()) {}

    [[nodiscard]] task<std::uint64_t> load_checkpoint(std::string name) {
        return load(m_table, std::move(name));
    }

    [[nodiscard]] task<void> save_checkpoint(std::string name, std::uint64_t position) {
        return save(m_table, std::move(name), position);
    }

    /// Adds the save to `unit`: the checkpoint changes when (and only if) the unit commits.
    void save_checkpoint(memory_unit_of_work& unit, std::string name, std::uint64_t position) {
        auto& changes =
            unit.template changes_for<changes_type>(*m_storage.state(), *m_table, [this] {
                return std::make_unique<changes_type>(*m_table);
            });
        changes.add(std::move(name), position);
    }

    /// How many checkpoints were saved in all. Synchronous.
    [[nodiscard]] std::size_t saves() const {
        std::lock_guard lock(m_table->m_storage->mutex);
        return m_table->m_saves;
    }

    /// The storage the store lives in.
    [[nodiscard]] const memory_storage& storage() const noexcept { return m_storage; }

private:
    using table_type = detail::basic_memory_checkpoint_table<Unused>;
    using changes_type = detail::basic_memory_checkpoint_changes<Unused>;

    static task<std::uint64_t> load(std::shared_ptr<table_type> t, std::string name) {
        std::uint64_t position = 0;
        {
            std::lock_guard lock(t->m_storage->mutex);
            auto it = t->m_positions.find(name);
            position = it == t->m_positions.end() ? 0 : it->second;
        }
        co_return position;
    }

    static task<void> save(std::shared_ptr<table_type> t, std::string name,
                           std::uint64_t position) {
        {
            std::lock_guard lock(t->m_storage->mutex);
            t->save_locked(std::move(name), position);
        }
        co_return;
    }

    memory_storage m_storage;
    std::shared_ptr<table_type> m_table; // aliases the storage's state
};

/// The in-memory checkpoint store (see `basic_memory_checkpoint_store`).
using memory_checkpoint_store = basic_memory_checkpoint_store<>;

} // namespace eddy
