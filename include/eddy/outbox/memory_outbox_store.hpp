// eddy/outbox/memory_outbox_store.hpp - eddy::memory_outbox_store<Payload>, the in-memory
// eddy::outbox_store, attached to an eddy::memory_storage.
#pragma once

#include <chrono>     // std::chrono::system_clock, std::chrono::steady_clock
#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t
#include <functional> // std::function
#include <memory>     // std::shared_ptr, std::make_shared, std::make_unique
#include <mutex>      // std::lock_guard
#include <set>        // std::set
#include <string>     // std::string
#include <utility>    // std::move
#include <vector>     // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/es/memory_unit_of_work.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/outbox/detail/memory_outbox_table.hpp>
#include <eddy/outbox/outbox_listener.hpp>
#include <eddy/outbox/outbox_message.hpp>

namespace eddy {

/// The outbox of a `memory_storage`: messages enqueued in a unit of work appear when it
/// commits, together with its events (the dual write cannot half-happen). Models
/// `eddy::outbox_store` (see there for claim, lease and order rules). Leases and `created` use
/// the storage's clock (a fake clock makes them testable in virtual time).
/// `on_enqueue(f)`: `f()` runs after every commit that enqueued messages (on the committing
/// thread, outside the storage's lock), until the returned listener is destroyed: a relay
/// wakes at once instead of waiting for its next poll.
///
/// Lazy: the tasks complete synchronously on the awaiting thread.
/// Errors: a message id already in the outbox fails the unit's commit (`eddy::error`, nothing
/// of the unit applied); `mark_published` / `release` of an unknown id, or `release` of a
/// message leased to another relay: `eddy::error` naming the id.
/// Lifetime: the store shares the storage's state. Thread-safety: every member may be called
/// concurrently.
///
///     eddy::memory_storage storage;
///     eddy::memory_outbox_store<order_event> outbox(storage);
///     auto unit = storage.begin();
///     events.append(unit, "order-7", eddy::expected_version::no_stream(), batch);
///     outbox.enqueue(unit, {placed_message});
///     co_await storage.commit(std::move(unit));
template <class Payload>
class memory_outbox_store {
    using table_type = detail::memory_outbox_table<Payload>;

public:
    using payload_type = Payload;
    using unit_type = memory_unit_of_work;
    using message_type = outbox_message<Payload>;
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::system_clock::time_point;

    /// Unregisters its `on_enqueue` callback when destroyed (`eddy::outbox_listener`).
    using listener = outbox_listener;

    /// In a storage of its own.
    memory_outbox_store() : memory_outbox_store(memory_storage()) {}

    /// In `storage` (two outbox stores of one payload type on one storage share the outbox).
    explicit memory_outbox_store(const memory_storage& storage)
        : m_storage(storage), m_table(storage.state(), &storage.state()->table<table_type>()) {}

    /// Adds `messages` to `unit`; a nil id is given a UUID v7 now.
    void enqueue(memory_unit_of_work& unit, std::vector<message_type> messages) {
        auto& changes = unit.changes_for<detail::memory_outbox_changes<Payload>>(
            *m_storage.state(), *m_table,
            [this] { return std::make_unique<detail::memory_outbox_changes<Payload>>(*m_table); });
        for (auto& m : messages) {
            if (m.topic.empty()) {
                throw error("eddy::memory_outbox_store::enqueue: a message needs a topic");
            }
            if (m.id.is_nil()) {
                std::lock_guard lock(m_table->m_storage->mutex);
                m.id = m_table->m_storage->ids.next();
            }
            changes.add(std::move(m));
        }
    }

    [[nodiscard]] task<std::vector<message_type>> claim(std::string relay, std::size_t max,
                                                        duration lease) {
        return claim_impl(m_table, std::move(relay), max, lease);
    }

    [[nodiscard]] task<void> mark_published(std::string relay, std::vector<uuid> ids) {
        return mark_impl(m_table, std::move(relay), std::move(ids));
    }

    [[nodiscard]] task<void> release(std::string relay, uuid id, std::string error) {
        return release_impl(m_table, std::move(relay), id, std::move(error));
    }

    /// Ends every lease `relay` holds (its messages are pending again, attempts unchanged):
    /// for a relay starting again under the id it had before a crash. Returns how many.
    [[nodiscard]] task<std::size_t> release_leases(std::string relay) {
        return release_leases_impl(m_table, std::move(relay));
    }

    [[nodiscard]] task<outbox_stats> stats() { return stats_impl(m_table); }

    [[nodiscard]] task<std::size_t> purge_published(duration age) {
        return purge_impl(m_table, age);
    }

    /// Every message, in enqueue order (published ones until purged). Synchronous; for tests
    /// and operators.
    [[nodiscard]] std::vector<message_type> messages() const {
        std::lock_guard lock(m_table->m_storage->mutex);
        std::vector<message_type> out;
        out.reserve(m_table->m_entries.size());
        for (const auto& e : m_table->m_entries) {
            out.push_back(e.message);
        }
        return out;
    }

    /// Calls `f` after each commit that enqueued messages, until the listener is destroyed.
    [[nodiscard]] listener on_enqueue(std::function<void()> f) {
        if (!f) {
            throw error("eddy::memory_outbox_store::on_enqueue: empty function");
        }
        std::lock_guard lock(m_table->m_storage->mutex);
        const std::uint64_t id = m_table->m_next_listener++;
        m_table->m_listeners.emplace(id, std::make_shared<std::function<void()>>(std::move(f)));
        return listener([table = m_table, id] {
            std::lock_guard lock(table->m_storage->mutex);
            table->m_listeners.erase(id);
        });
    }

private:
    static task<std::vector<message_type>>
    claim_impl(std::shared_ptr<table_type> t, std::string relay, std::size_t max, duration lease) {
        std::vector<message_type> out;
        {
            std::lock_guard lock(t->m_storage->mutex);
            const time_point now = t->m_storage->clock();
            const auto until = now + std::chrono::duration_cast<time_point::duration>(lease);
            std::set<std::string> blocked; // aggregates with an earlier message not handed out
            // Published messages stay until purged: skip the published prefix once, not per claim.
            auto& first = t->m_first_pending;
            while (first < t->m_entries.size() &&
                   t->m_entries[first].message.status == outbox_status::published) {
                ++first;
            }
            for (std::size_t i = first; i < t->m_entries.size(); ++i) {
                auto& e = t->m_entries[i];
                if (out.size() >= max) {
                    break;
                }
                if (e.message.status != outbox_status::pending) {
                    continue;
                }
                const std::string& aggregate = e.message.aggregate_id;
                // Leased (to anyone, this relay included: it is in flight) until the lease ends.
                const bool held = !e.claimed_by.empty() && e.lease_until > now;
                if (held || blocked.contains(aggregate)) {
                    blocked.insert(aggregate);
                    continue;
                }
                e.claimed_by = relay;
                e.lease_until = until;
                out.push_back(e.message);
            }
        }
        co_return out;
    }

    static task<void> mark_impl(std::shared_ptr<table_type> t, std::string relay,
                                std::vector<uuid> ids) {
        {
            std::lock_guard lock(t->m_storage->mutex);
            const time_point now = t->m_storage->clock();
            for (const uuid& id : ids) {
                auto* e = t->find_locked(id);
                if (e == nullptr) {
                    throw error("eddy::memory_outbox_store::mark_published: no message " +
                                id.to_string());
                }
                if (e->message.status == outbox_status::published) {
                    continue; // another relay got there first (after this one's lease ended)
                }
                e->message.status = outbox_status::published;
                e->claimed_by.clear();
                e->published_at = now;
                ++t->m_published;
            }
        }
        (void)relay;
        co_return;
    }

    static task<void> release_impl(std::shared_ptr<table_type> t, std::string relay, uuid id,
                                   std::string error_text) {
        {
            std::lock_guard lock(t->m_storage->mutex);
            auto* e = t->find_locked(id);
            if (e == nullptr) {
                throw error("eddy::memory_outbox_store::release: no message " + id.to_string());
            }
            if (e->claimed_by != relay) {
                throw error("eddy::memory_outbox_store::release: message " + id.to_string() +
                            " is not leased to relay '" + relay + "'");
            }
            e->claimed_by.clear();
            ++e->message.attempts;
            e->message.last_error = std::move(error_text);
        }
        co_return;
    }

    static task<std::size_t> release_leases_impl(std::shared_ptr<table_type> t, std::string relay) {
        std::size_t released = 0;
        {
            std::lock_guard lock(t->m_storage->mutex);
            for (auto& e : t->m_entries) {
                if (e.message.status == outbox_status::pending && e.claimed_by == relay) {
                    e.claimed_by.clear();
                    ++released;
                }
            }
        }
        co_return released;
    }

    static task<outbox_stats> stats_impl(std::shared_ptr<table_type> t) {
        outbox_stats s;
        {
            std::lock_guard lock(t->m_storage->mutex);
            for (const auto& e : t->m_entries) {
                if (e.message.status == outbox_status::pending) {
                    if (s.pending == 0) {
                        s.oldest_pending = e.message.created;
                    }
                    ++s.pending;
                }
            }
            s.published = t->m_published;
        }
        co_return s;
    }

    static task<std::size_t> purge_impl(std::shared_ptr<table_type> t, duration age) {
        std::size_t removed = 0;
        {
            std::lock_guard lock(t->m_storage->mutex);
            const time_point older_than =
                t->m_storage->clock() - std::chrono::duration_cast<time_point::duration>(age);
            removed = std::erase_if(t->m_entries, [&](const auto& e) {
                const bool drop =
                    e.message.status == outbox_status::published && e.published_at < older_than;
                if (drop) {
                    t->m_sequence_of.erase(e.message.id);
                }
                return drop;
            });
            t->m_first_pending = 0; // indices moved
        }
        co_return removed;
    }

    memory_storage m_storage;
    std::shared_ptr<table_type> m_table; // aliases the storage's state
};

} // namespace eddy
