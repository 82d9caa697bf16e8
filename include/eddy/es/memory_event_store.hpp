// eddy/es/memory_event_store.hpp - eddy::memory_event_store<Events>, the in-memory event store.
#pragma once

#include <algorithm>  // std::max
#include <chrono>     // std::chrono::system_clock
#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t
#include <functional> // std::function
#include <memory>     // std::shared_ptr, std::make_unique
#include <mutex>      // std::lock_guard
#include <optional>   // std::optional
#include <string>     // std::string
#include <utility>    // std::move
#include <vector>     // std::vector

#include <eddy/core/async_event.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/detail/memory_event_changes.hpp>
#include <eddy/es/detail/memory_event_log.hpp>
#include <eddy/es/duplicate_event_id.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/event_store.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/es/memory_unit_of_work.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/es/stream_metadata.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// An `eddy::event_store` in memory: payloads are the typed `Events` variant, moved in and
/// copied out, never serialized. For tests and for single-process services whose events may die
/// with the process. It lives in an `eddy::memory_storage` (its own, or one shared with other
/// memory stores so that a `memory_unit_of_work` commits appends to several streams, checkpoints
/// and read-model writes together).
///
/// Lazy: `append` is a task; reads are streams (nothing happens before they are pulled).
/// Where the awaiter resumes: every operation completes synchronously on the awaiting thread,
/// except a `subscribe_all` pull waiting for new events: it resumes inline on the thread whose
/// `append` (or commit) committed them (inside it, after the storage's lock was released).
/// Semantics: see `eddy::event_store`. Appends are serialized by the storage's mutex; a global
/// position is assigned and published under the same lock, so readers never see a gap. Stream
/// versions and positions start at 1. Ids the caller left nil are UUID v7s from the storage's
/// generator; `recorded_at` is the storage's clock (both injectable for deterministic tests).
/// Idempotency, exact and loud: a batch whose ids are all stored as one whole earlier append of
/// the same stream, in the same order, with the same type names and payloads, appends nothing
/// and returns that append's result (its expected version is not checked again: it held when
/// the batch committed). Any other use of a stored id (another stream, type or payload, some
/// ids new, a different grouping, an id twice) throws `eddy::duplicate_event_id`. Payloads are
/// compared with `==` when every event type has one; otherwise only stream, type name and
/// schema version are compared (a different payload under the same id is then taken as a
/// retry). Metadata is not compared (a retry may carry a new `traceparent`).
/// Stream metadata: `set_stream_metadata` (truncate-before, max count) limits what
/// `read_stream` returns; `delete_stream` soft-deletes: the stream reads as empty and
/// expectations see version 0 (`no_stream` and `any` accept, `exact(v)` and `stream_exists`
/// conflict with actual 0); an append recreates it, its versions continuing after the deleted
/// ones (versions are never reused) and only the new events readable. `read_all` and
/// `subscribe_all` are never limited: the global log is append-only.
/// Cancellation: a `subscribe_all` pull waiting for new events ends with
/// `eddy::operation_cancelled` when the puller's stop token is stopped.
/// Errors: `eddy::concurrency_conflict` from `append` and `delete_stream`,
/// `eddy::duplicate_event_id` from `append` (nothing written); `eddy::error` for a unit of
/// another storage.
/// Lifetime: streams share the storage's state, so they may outlive the store object.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::memory_event_store<order_events> store;
///     co_await store.append("order-1", eddy::expected_version::no_stream(),
///                           {order_placed{"ann"}});
///     auto events = co_await eddy::to_vector(store.read_stream("order-1", 1));
template <event_variant Events>
class memory_event_store {
public:
    using event_type = Events;
    using envelope_type = event_envelope<Events>;
    using clock_function = std::function<std::chrono::system_clock::time_point()>;
    using random_function = std::function<std::uint64_t()>;
    using unit_type = memory_unit_of_work;

    /// In a storage of its own: system clock; ids from a privately seeded random source.
    memory_event_store() : memory_event_store(memory_storage()) {}

    /// In a storage of its own with the given clock (for `recorded_at` and the ids' time).
    explicit memory_event_store(clock_function clock)
        : memory_event_store(memory_storage(std::move(clock))) {}

    /// In a storage of its own with the given clock and random source (reproducible ids).
    memory_event_store(clock_function clock, random_function random)
        : memory_event_store(memory_storage(std::move(clock), std::move(random))) {}

    /// In `storage` (shared with the other stores attached to it; two event stores of the same
    /// `Events` on one storage are two handles to the same events).
    explicit memory_event_store(const memory_storage& storage)
        : m_storage(storage), m_log(storage.state(), &storage.state()->template table<log_type>()) {
    }

    [[nodiscard]] task<append_result> append(std::string stream_id, expected_version expected,
                                             std::vector<proposed_event<Events>> batch) {
        memory_unit_of_work unit = m_storage.begin();
        const std::size_t slot = append(unit, std::move(stream_id), expected, std::move(batch));
        return append_alone(m_storage, std::move(unit), slot);
    }

    /// Adds the append to `unit` (checked and applied when the unit commits, with everything
    /// else in it; appends to one stream in one unit see each other's versions). Returns the
    /// index of its result in the `commit_result::appends` of the commit.
    std::size_t append(memory_unit_of_work& unit, std::string stream_id, expected_version expected,
                       std::vector<proposed_event<Events>> batch) {
        auto& changes = unit.changes_for<changes_type>(
            *m_storage.state(), *m_log, [this] { return std::make_unique<changes_type>(*m_log); });
        const std::size_t slot = unit.add_append_slot();
        changes.add(slot, std::move(stream_id), expected, std::move(batch));
        return slot;
    }

    [[nodiscard]] stream<envelope_type> read_stream(std::string stream_id,
                                                    std::uint64_t from_version = 1) const {
        return read_stream_of(m_log, std::move(stream_id), from_version);
    }

    [[nodiscard]] stream<envelope_type> read_all(std::uint64_t from_position = 1) const {
        return read_all_of(m_log, from_position, false);
    }

    [[nodiscard]] stream<envelope_type> subscribe_all(std::uint64_t from_position = 1) const {
        return read_all_of(m_log, from_position, true);
    }

    /// Soft-deletes the stream when its version satisfies `expected` (see above); otherwise
    /// `eddy::concurrency_conflict`.
    [[nodiscard]] task<void> delete_stream(std::string stream_id, expected_version expected) {
        return delete_impl(m_log, std::move(stream_id), expected);
    }

    /// Replaces the stream's metadata (truncate-before, max count).
    [[nodiscard]] task<void> set_stream_metadata(std::string stream_id, stream_metadata md) {
        return set_metadata_impl(m_log, std::move(stream_id), md);
    }

    /// The stream's metadata (all zero when never set).
    [[nodiscard]] task<stream_metadata> get_stream_metadata(std::string stream_id) const {
        return get_metadata_impl(m_log, std::move(stream_id));
    }

    /// The stream's current version as expectations see it (0: no events, or soft-deleted).
    /// Synchronous; a snapshot.
    [[nodiscard]] std::uint64_t stream_version(const std::string& stream_id) const {
        std::lock_guard lock(m_log->mutex());
        return m_log->version_locked(stream_id);
    }

    /// The global position of the last event (0: empty store). Synchronous; a snapshot.
    [[nodiscard]] std::uint64_t last_position() const {
        std::lock_guard lock(m_log->mutex());
        return m_log->m_all.size();
    }

    /// The storage the store lives in.
    [[nodiscard]] const memory_storage& storage() const noexcept { return m_storage; }

private:
    using log_type = detail::memory_event_log<Events>;
    using changes_type = detail::memory_event_changes<Events>;

    static task<append_result> append_alone(memory_storage storage, memory_unit_of_work unit,
                                            std::size_t slot) {
        commit_result r = co_await storage.commit(std::move(unit));
        co_return r.appends[slot];
    }

    static task<void> delete_impl(std::shared_ptr<log_type> log, std::string stream_id,
                                  expected_version expected) {
        {
            std::lock_guard lock(log->mutex());
            const std::uint64_t actual = log->version_locked(stream_id);
            if (!expected.accepts(actual)) {
                throw concurrency_conflict(stream_id, expected, actual);
            }
            auto it = log->m_streams.find(stream_id);
            if (it != log->m_streams.end()) {
                it->second.deleted = true;
                it->second.deleted_before = it->second.indices.size() + 1;
            }
        }
        co_return;
    }

    static task<void> set_metadata_impl(std::shared_ptr<log_type> log, std::string stream_id,
                                        stream_metadata md) {
        {
            std::lock_guard lock(log->mutex());
            log->m_streams[std::move(stream_id)].metadata = md;
        }
        co_return;
    }

    static task<stream_metadata> get_metadata_impl(std::shared_ptr<log_type> log,
                                                   std::string stream_id) {
        stream_metadata md;
        {
            std::lock_guard lock(log->mutex());
            if (const auto* s = log->find_locked(stream_id)) {
                md = s->metadata;
            }
        }
        co_return md;
    }

    static stream<envelope_type> read_stream_of(std::shared_ptr<log_type> log,
                                                std::string stream_id, std::uint64_t from) {
        for (std::uint64_t version = from == 0 ? 1 : from;; ++version) {
            std::optional<envelope_type> next;
            {
                std::lock_guard lock(log->mutex());
                if (const auto* s = log->find_locked(stream_id)) {
                    // Metadata may change between pulls: never read below the readable start.
                    version = std::max(version, log_type::first_readable(*s));
                    if (version <= s->indices.size()) {
                        next = log->m_all[s->indices[version - 1]];
                    }
                }
            }
            if (!next) {
                co_return;
            }
            co_yield std::move(*next);
        }
    }

    static stream<envelope_type> read_all_of(std::shared_ptr<log_type> log, std::uint64_t from,
                                             bool live) {
        for (std::uint64_t position = from == 0 ? 1 : from;;) {
            std::optional<envelope_type> next;
            std::shared_ptr<async_event> appended;
            {
                std::lock_guard lock(log->mutex());
                if (position <= log->m_all.size()) {
                    next = log->m_all[position - 1];
                } else {
                    appended = log->m_appended;
                }
            }
            if (next) {
                ++position;
                co_yield std::move(*next);
            } else if (!live) {
                co_return;
            } else {
                co_await appended->wait(); // g++ 12: never inside a condition
            }
        }
    }

    memory_storage m_storage;
    // Aliases the storage's state: keeps it (and so the table) alive.
    std::shared_ptr<log_type> m_log;
};

} // namespace eddy
