// eddy/outbox/detail/memory_outbox_table.hpp - the table of eddy::memory_outbox_store in a
// memory storage, and the messages a unit of work enqueues into it.
#pragma once

#include <algorithm>  // std::erase_if
#include <chrono>     // std::chrono::system_clock
#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t
#include <deque>      // std::deque
#include <functional> // std::function
#include <map>        // std::map
#include <memory>     // std::shared_ptr
#include <mutex>      // std::lock_guard
#include <string>     // std::string
#include <utility>    // std::move
#include <vector>     // std::vector

#include <eddy/core/error.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/detail/memory_storage_state.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/outbox/outbox_message.hpp>

namespace eddy::detail {

template <class Payload>
struct memory_outbox_table : memory_table {
    using time_point = std::chrono::system_clock::time_point;

    struct entry {
        outbox_message<Payload> message;
        std::string claimed_by; // empty: unclaimed
        time_point lease_until{};
        time_point published_at{};
    };

    explicit memory_outbox_table(memory_storage_state& storage) : m_storage(&storage) {}

    memory_storage_state* m_storage; // owns this table; its mutex guards everything here
    std::deque<entry> m_entries;     // enqueue order; published ones stay until purged
    std::map<uuid, std::uint64_t> m_sequence_of; // every stored id
    std::uint64_t m_next_sequence = 1;
    std::size_t m_first_pending = 0; // entries before it are published: claims start here
    std::uint64_t m_published = 0;
    std::uint64_t m_next_listener = 1;
    std::map<std::uint64_t, std::shared_ptr<std::function<void()>>> m_listeners;

    entry* find_locked(const uuid& id) {
        const auto it = m_sequence_of.find(id);
        if (it == m_sequence_of.end() || m_entries.empty()) {
            return nullptr;
        }
        // Sequences are dense from the front's (purging only drops published entries, so a
        // gap can exist: fall back to a search then).
        const std::uint64_t first = m_entries.front().message.sequence;
        if (it->second >= first && it->second - first < m_entries.size()) {
            entry& e = m_entries[it->second - first];
            if (e.message.id == id) {
                return &e;
            }
        }
        for (entry& e : m_entries) {
            if (e.message.id == id) {
                return &e;
            }
        }
        return nullptr;
    }
};

template <class Payload>
class memory_outbox_changes final : public memory_changes {
public:
    explicit memory_outbox_changes(memory_outbox_table<Payload>& table) noexcept
        : m_table(&table) {}

    void add(outbox_message<Payload> m) { m_messages.push_back(std::move(m)); }

    void check(commit_result&) override {
        std::map<uuid, bool> seen;
        for (const auto& m : m_messages) {
            if (m_table->m_sequence_of.contains(m.id) || !seen.emplace(m.id, true).second) {
                throw error("eddy::memory_outbox_store: message id " + m.id.to_string() +
                            " is already in the outbox");
            }
        }
    }

    void apply() override {
        const auto now = m_table->m_storage->clock();
        for (auto& m : m_messages) {
            m.sequence = m_table->m_next_sequence++;
            m.created = now;
            m.status = outbox_status::pending;
            m.attempts = 0;
            m.last_error.clear();
            m_table->m_sequence_of.emplace(m.id, m.sequence);
            m_table->m_entries.push_back({std::move(m), {}, {}, {}});
        }
        // Listeners are copied here, under the lock, and called after it is released.
        for (const auto& [id, f] : m_table->m_listeners) {
            m_wake.push_back(f);
        }
    }

    void after_commit() override {
        for (const auto& f : m_wake) {
            (*f)();
        }
    }

private:
    memory_outbox_table<Payload>* m_table;
    std::vector<outbox_message<Payload>> m_messages;
    std::vector<std::shared_ptr<std::function<void()>>> m_wake;
};

} // namespace eddy::detail
