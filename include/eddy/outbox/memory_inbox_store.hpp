// eddy/outbox/memory_inbox_store.hpp - eddy::memory_inbox_store, the in-memory
// eddy::inbox_store, attached to an eddy::memory_storage.
#pragma once

#include <cstddef> // std::size_t
#include <memory>  // std::shared_ptr, std::make_unique
#include <mutex>   // std::lock_guard
#include <set>     // std::set
#include <string>  // std::string
#include <utility> // std::move, std::pair
#include <vector>  // std::vector

#include <eddy/core/task.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/detail/memory_storage_state.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/es/memory_unit_of_work.hpp>
#include <eddy/outbox/duplicate_message.hpp>

namespace eddy {

namespace detail {

// Templates only to defer their instantiation to the files that use them (the umbrella's
// compile cost): there is one instantiation, with `void`.
template <class = void>
struct basic_memory_inbox_table : memory_table {
    explicit basic_memory_inbox_table(memory_storage_state& storage) : m_storage(&storage) {}
    memory_storage_state* m_storage; // its mutex guards the set
    std::set<std::pair<std::string, std::string>, std::less<>> m_processed;
};

template <class Unused = void>
class basic_memory_inbox_changes final : public memory_changes {
public:
    explicit basic_memory_inbox_changes(basic_memory_inbox_table<Unused>& table) noexcept
        : m_table(&table) {}

    void add(std::string consumer, std::string id) {
        m_marks.emplace_back(std::move(consumer), std::move(id));
    }

    void check(commit_result&) override {
        std::set<std::pair<std::string, std::string>> in_unit;
        for (const auto& mark : m_marks) {
            if (m_table->m_processed.contains(mark) || !in_unit.insert(mark).second) {
                throw duplicate_message(mark.first, mark.second);
            }
        }
    }

    void apply() override {
        for (auto& mark : m_marks) {
            m_table->m_processed.insert(std::move(mark));
        }
    }

private:
    basic_memory_inbox_table<Unused>* m_table;
    std::vector<std::pair<std::string, std::string>> m_marks;
};

} // namespace detail

/// The inbox of a `memory_storage` (see `eddy::inbox_store`): marks commit with the unit's
/// other writes (events, read-model `on_commit` callbacks, outbox messages). Marks are kept
/// for the storage's lifetime (no expiry).
///
/// Lazy: `is_processed` completes synchronously on the awaiting thread.
/// Errors: `eddy::duplicate_message` from the commit of a unit marking a processed message.
/// Thread-safety: every member may be called concurrently.
///
///     eddy::memory_inbox_store inbox(storage);
///     auto unit = storage.begin();
///     inbox.mark_processed(unit, "billing", message_id);
///     unit.on_commit([&] { ledger.add(amount); });
///     co_await storage.commit(std::move(unit)); // throws duplicate_message the second time
/// (A template only so that files which include it without using it do not compile its
/// members; `memory_inbox_store` is its one instantiation.)
template <class Unused = void>
class basic_memory_inbox_store {
public:
    using unit_type = memory_unit_of_work;

    /// In a storage of its own.
    basic_memory_inbox_store() : basic_memory_inbox_store(memory_storage()) {}

    /// In `storage` (two inbox stores on one storage share the marks).
    explicit basic_memory_inbox_store(const memory_storage& storage)
        : m_storage(storage),
          m_table(storage.state(), &storage.state()->template table<table_type>()) {}

    void mark_processed(memory_unit_of_work& unit, std::string consumer, std::string message_id) {
        auto& changes =
            unit.template changes_for<changes_type>(*m_storage.state(), *m_table, [this] {
                return std::make_unique<changes_type>(*m_table);
            });
        changes.add(std::move(consumer), std::move(message_id));
    }

    [[nodiscard]] task<bool> is_processed(std::string consumer, std::string message_id) {
        return lookup(m_table, std::move(consumer), std::move(message_id));
    }

    /// How many marks the inbox holds. Synchronous.
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(m_table->m_storage->mutex);
        return m_table->m_processed.size();
    }

private:
    using table_type = detail::basic_memory_inbox_table<Unused>;
    using changes_type = detail::basic_memory_inbox_changes<Unused>;

    static task<bool> lookup(std::shared_ptr<table_type> t, std::string consumer,
                             std::string message_id) {
        bool found = false;
        {
            std::lock_guard lock(t->m_storage->mutex);
            found = t->m_processed.contains(std::pair(std::move(consumer), std::move(message_id)));
        }
        co_return found;
    }

    memory_storage m_storage;
    std::shared_ptr<table_type> m_table;
};

/// The in-memory inbox (see `basic_memory_inbox_store`).
using memory_inbox_store = basic_memory_inbox_store<>;

} // namespace eddy
