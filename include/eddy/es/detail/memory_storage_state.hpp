// eddy/es/detail/memory_storage_state.hpp - the shared state behind eddy::memory_storage: one
// mutex, the clock and id generator, and the tables the memory stores attach to it.
#pragma once

#include <chrono>     // std::chrono::system_clock
#include <cstdint>    // std::uint64_t
#include <functional> // std::function
#include <memory>     // std::unique_ptr, std::make_unique
#include <mutex>      // std::mutex, std::lock_guard
#include <utility>    // std::move, std::pair
#include <vector>     // std::vector

#include <eddy/es/commit_result.hpp>
#include <eddy/es/uuid_v7_generator.hpp>

namespace eddy::detail {

/// A table of a memory storage (the events of one event type, the checkpoints, later the
/// outbox...). Owned by the storage state; guarded by its mutex.
struct memory_table {
    memory_table() = default;
    memory_table(const memory_table&) = delete;
    memory_table& operator=(const memory_table&) = delete;
    virtual ~memory_table() = default;
};

/// The intents a unit of work collected for one table. The storage commits a unit by calling,
/// under its mutex, `check` on every table's changes (any exception aborts the unit with nothing
/// applied; a check may reserve memory so that `apply` does not allocate), then `apply` on each,
/// then, after releasing the mutex, `after_commit` (waking readers, who take the mutex).
struct memory_changes {
    memory_changes() = default;
    memory_changes(const memory_changes&) = delete;
    memory_changes& operator=(const memory_changes&) = delete;
    virtual ~memory_changes() = default;
    virtual void check(commit_result& result) = 0;
    virtual void apply() = 0;
    virtual void after_commit() {}
};

// A distinct address per table type: the key of its table in a storage (never typeid).
template <class Table>
inline constexpr char memory_table_key = 0;

struct memory_storage_state {
    using clock_function = std::function<std::chrono::system_clock::time_point()>;
    using random_function = std::function<std::uint64_t()>;

    memory_storage_state(clock_function clk, random_function random)
        : clock(clk), ids(std::move(clk), std::move(random)) {}

    std::mutex mutex;
    clock_function clock; // guarded
    uuid_v7_generator ids;
    std::vector<std::pair<const void*, std::unique_ptr<memory_table>>> tables; // guarded

    /// The table of type `Table` (made with `Table(*this)` on first use). Tables live as long
    /// as the state.
    template <class Table>
    Table& table() {
        std::lock_guard lock(mutex);
        const void* key = &memory_table_key<Table>;
        for (auto& [k, t] : tables) {
            if (k == key) {
                return static_cast<Table&>(*t);
            }
        }
        auto made = std::make_unique<Table>(*this);
        Table& out = *made;
        tables.emplace_back(key, std::move(made));
        return out;
    }
};

} // namespace eddy::detail
