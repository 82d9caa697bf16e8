// eddy/saga/memory_saga_log.hpp - eddy::memory_saga_log<Ctx>, the in-memory eddy::saga_log.
#pragma once

#include <list>          // std::list
#include <mutex>         // std::mutex, std::lock_guard
#include <optional>      // std::optional
#include <string>        // std::string
#include <unordered_map> // std::unordered_map
#include <utility>       // std::move
#include <vector>        // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/saga/saga_transition.hpp>

namespace eddy {

/// Saga histories in memory: the `eddy::saga_log` for tests and single-process services that
/// need resumption after a coordinator is destroyed, not after the process dies (use the
/// SQLite log for that). Contexts are kept as copies, never encoded.
///
/// Every operation completes synchronously (the awaiter continues on its own thread).
/// Errors: `start` of an existing id and `record` for an unknown id throw `eddy::error`.
/// Thread-safety: every member may be called concurrently.
///
///     eddy::memory_saga_log<order> log;
///     eddy::saga_coordinator coordinator(pool, log);
template <class Ctx>
class memory_saga_log {
public:
    using context_type = Ctx;

    [[nodiscard]] task<void> start(std::string id, std::string definition,
                                   saga_transition<Ctx> first) {
        std::lock_guard lock(m_mutex);
        if (m_by_id.contains(id)) {
            throw error("eddy::memory_saga_log: saga id '" + id + "' is already in the log");
        }
        auto& h = m_histories.emplace_back();
        h.id = id;
        h.definition = std::move(definition);
        h.transitions.reserve(16); // a few steps' worth: no regrowth on the common path
        h.transitions.push_back(std::move(first));
        m_by_id.emplace(std::move(id), &h);
        co_return;
    }

    [[nodiscard]] task<void> record(std::string id, saga_transition<Ctx> t) {
        std::lock_guard lock(m_mutex);
        find(id).transitions.push_back(std::move(t));
        co_return;
    }

    [[nodiscard]] task<std::optional<saga_history<Ctx>>> load(std::string id) const {
        std::lock_guard lock(m_mutex);
        const auto it = m_by_id.find(id);
        if (it == m_by_id.end()) {
            co_return std::nullopt;
        }
        co_return *it->second;
    }

    [[nodiscard]] task<std::vector<std::string>> unfinished() const {
        std::vector<std::string> ids;
        {
            std::lock_guard lock(m_mutex);
            for (const auto& h : m_histories) {
                if (h.transitions.empty() || !is_final(h.transitions.back().kind)) {
                    ids.push_back(h.id);
                }
            }
        }
        co_return ids;
    }

private:
    saga_history<Ctx>& find(const std::string& id) {
        const auto it = m_by_id.find(id);
        if (it == m_by_id.end()) {
            throw error("eddy::memory_saga_log: no saga with id '" + id + "'");
        }
        return *it->second;
    }

    mutable std::mutex m_mutex;
    std::list<saga_history<Ctx>> m_histories; // creation order; stable addresses
    std::unordered_map<std::string, saga_history<Ctx>*> m_by_id;
};

} // namespace eddy
