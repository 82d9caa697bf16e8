// eddy/es/memory_snapshot_store.hpp - eddy::memory_snapshot_store<State>, snapshots in memory.
#pragma once

#include <cstddef>    // std::size_t
#include <functional> // std::less
#include <map>        // std::map
#include <memory>     // std::shared_ptr, std::make_shared
#include <mutex>      // std::mutex, std::lock_guard
#include <optional>   // std::optional
#include <string>     // std::string
#include <utility>    // std::move

#include <eddy/core/task.hpp>
#include <eddy/es/snapshot_store.hpp>

namespace eddy {

/// An `eddy::snapshot_store` in memory: the latest snapshot per stream, copied in and out.
///
/// Lazy: operations are tasks; they complete synchronously on the awaiting thread.
/// Semantics: `save_snapshot` keeps the snapshot with the higher version (an older one arriving
/// late never replaces a newer one). Errors: none of its own.
/// Lifetime: the tasks share the store's state, so they may outlive the store object.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::memory_snapshot_store<order> snapshots;
///     co_await snapshots.save_snapshot("order-1", {.version = 100, .state = o});
template <class State>
class memory_snapshot_store {
public:
    using state_type = State;

    [[nodiscard]] task<void> save_snapshot(std::string stream_id, snapshot<State> snap) {
        return save(m_state, std::move(stream_id), std::move(snap));
    }

    [[nodiscard]] task<std::optional<snapshot<State>>> load_snapshot(std::string stream_id) {
        return load(m_state, std::move(stream_id));
    }

    /// How many times a snapshot was stored (accepted saves). Synchronous.
    [[nodiscard]] std::size_t saves() const {
        std::lock_guard lock(m_state->m_mutex);
        return m_state->m_saves;
    }

private:
    struct shared {
        std::mutex m_mutex;
        std::map<std::string, snapshot<State>, std::less<>> m_snapshots; // guarded
        std::size_t m_saves = 0;                                         // guarded
    };

    static task<void> save(std::shared_ptr<shared> s, std::string id, snapshot<State> snap) {
        std::lock_guard lock(s->m_mutex);
        auto it = s->m_snapshots.find(id);
        if (it == s->m_snapshots.end()) {
            s->m_snapshots.emplace(std::move(id), std::move(snap));
            ++s->m_saves;
        } else if (it->second.version <= snap.version) {
            it->second = std::move(snap);
            ++s->m_saves;
        }
        co_return;
    }

    static task<std::optional<snapshot<State>>> load(std::shared_ptr<shared> s, std::string id) {
        std::lock_guard lock(s->m_mutex);
        auto it = s->m_snapshots.find(id);
        if (it == s->m_snapshots.end()) {
            co_return std::nullopt;
        }
        co_return it->second;
    }

    std::shared_ptr<shared> m_state = std::make_shared<shared>();
};

} // namespace eddy
