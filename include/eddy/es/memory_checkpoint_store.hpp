// eddy/es/memory_checkpoint_store.hpp - eddy::memory_checkpoint_store, checkpoints in memory.
#pragma once

#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t
#include <functional> // std::less
#include <map>        // std::map
#include <memory>     // std::shared_ptr, std::make_shared
#include <mutex>      // std::mutex, std::lock_guard
#include <string>     // std::string
#include <utility>    // std::move

#include <eddy/core/task.hpp>
#include <eddy/es/checkpoint_store.hpp>

namespace eddy {

/// An `eddy::checkpoint_store` in memory.
///
/// Lazy: operations are tasks; they complete synchronously on the awaiting thread.
/// Errors: none of its own. Lifetime: the tasks share the store's state, so they may outlive
/// the store object. Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::memory_checkpoint_store checkpoints;
///     co_await checkpoints.save_checkpoint("order_summary", 42);
class memory_checkpoint_store {
public:
    [[nodiscard]] task<std::uint64_t> load_checkpoint(std::string name) {
        return load(m_state, std::move(name));
    }

    [[nodiscard]] task<void> save_checkpoint(std::string name, std::uint64_t position) {
        return save(m_state, std::move(name), position);
    }

    /// How many checkpoints were saved in all. Synchronous.
    [[nodiscard]] std::size_t saves() const {
        std::lock_guard lock(m_state->m_mutex);
        return m_state->m_saves;
    }

private:
    struct shared {
        std::mutex m_mutex;
        std::map<std::string, std::uint64_t, std::less<>> m_positions; // guarded
        std::size_t m_saves = 0;                                       // guarded
    };

    static task<std::uint64_t> load(std::shared_ptr<shared> s, std::string name) {
        std::lock_guard lock(s->m_mutex);
        auto it = s->m_positions.find(name);
        co_return it == s->m_positions.end() ? std::uint64_t{0} : it->second;
    }

    static task<void> save(std::shared_ptr<shared> s, std::string name, std::uint64_t position) {
        std::lock_guard lock(s->m_mutex);
        s->m_positions[std::move(name)] = position;
        ++s->m_saves;
        co_return;
    }

    std::shared_ptr<shared> m_state = std::make_shared<shared>();
};

} // namespace eddy
