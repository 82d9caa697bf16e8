// eddy/es/memory_event_store.hpp - eddy::memory_event_store<Events>, the in-memory event store.
#pragma once

#include <chrono>     // std::chrono::system_clock
#include <cstdint>    // std::uint64_t
#include <functional> // std::function
#include <memory>     // std::shared_ptr, std::make_shared
#include <mutex>      // std::mutex, std::lock_guard
#include <optional>   // std::optional
#include <random>     // std::random_device, std::mt19937_64
#include <string>     // std::string
#include <utility>    // std::exchange, std::move
#include <vector>     // std::vector

#include <eddy/core/async_event.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/detail/memory_event_log.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/event_store.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// An `eddy::event_store` in memory: payloads are the typed `Events` variant, moved in and
/// copied out, never serialized. For tests and for single-process services whose events may die
/// with the process.
///
/// Lazy: `append` is a task; reads are streams (nothing happens before they are pulled).
/// Where the awaiter resumes: every operation completes synchronously on the awaiting thread,
/// except a `subscribe_all` pull waiting for new events: it resumes inline on the thread whose
/// `append` committed them (inside that append, before the append's task completes).
/// Semantics: see `eddy::event_store`. Appends are serialized by a mutex; a global position is
/// assigned and published under the same lock, so readers never see a gap. Stream versions and
/// positions start at 1. Ids the caller left nil are UUID v7s from the store's generator;
/// `recorded_at` is the store's clock (both injectable for deterministic tests).
/// Cancellation: a `subscribe_all` pull waiting for new events ends with
/// `eddy::operation_cancelled` when the puller's stop token is stopped.
/// Errors: `eddy::concurrency_conflict` from `append`.
/// Lifetime: streams share the store's state, so they may outlive the store object.
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

    /// System clock; event ids from a privately seeded random source.
    memory_event_store() : memory_event_store([] { return std::chrono::system_clock::now(); }) {}

    /// The given clock (for `recorded_at` and the ids' time); privately seeded random bits.
    explicit memory_event_store(clock_function clock)
        : memory_event_store(std::move(clock),
                             [engine = std::mt19937_64(std::random_device{}())]() mutable {
                                 return static_cast<std::uint64_t>(engine());
                             }) {}

    /// The given clock and random source: ids and times are exactly reproducible.
    memory_event_store(clock_function clock, random_function random)
        : m_log(std::make_shared<log_type>(std::move(clock), std::move(random))) {}

    [[nodiscard]] task<append_result> append(std::string stream_id, expected_version expected,
                                             std::vector<proposed_event<Events>> batch) {
        return append_to(m_log, std::move(stream_id), expected, std::move(batch));
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

    /// The stream's current version (0: no events). Synchronous; a snapshot.
    [[nodiscard]] std::uint64_t stream_version(const std::string& stream_id) const {
        std::lock_guard lock(m_log->m_mutex);
        return m_log->version_locked(stream_id);
    }

    /// The global position of the last event (0: empty store). Synchronous; a snapshot.
    [[nodiscard]] std::uint64_t last_position() const {
        std::lock_guard lock(m_log->m_mutex);
        return m_log->m_all.size();
    }

private:
    using log_type = detail::memory_event_log<Events>;

    static task<append_result> append_to(std::shared_ptr<log_type> log, std::string stream_id,
                                         expected_version expected,
                                         std::vector<proposed_event<Events>> batch) {
        append_result result;
        std::shared_ptr<async_event> appended;
        {
            std::lock_guard lock(log->m_mutex);
            std::vector<std::size_t>& indices = log->m_streams[stream_id];
            const std::uint64_t actual = indices.size();
            if (!expected.accepts(actual)) {
                if (indices.empty()) {
                    log->m_streams.erase(stream_id);
                }
                throw concurrency_conflict(stream_id, expected, actual);
            }
            result.stream_version = actual;
            result.first_position = log->m_all.size() + 1;
            result.last_position = log->m_all.size();
            if (batch.empty()) {
                if (indices.empty()) {
                    log->m_streams.erase(stream_id);
                }
                co_return result;
            }
            const auto now = log->m_clock();
            log->m_all.reserve(log->m_all.size() + batch.size());
            for (proposed_event<Events>& e : batch) {
                envelope_type env;
                env.event_id = e.event_id.is_nil() ? log->m_ids.next() : e.event_id;
                env.stream_id = stream_id;
                env.stream_version = ++result.stream_version;
                env.global_position = ++result.last_position;
                env.type_name = std::string(event_name_of(e.payload));
                env.schema_version = event_schema_version_of(e.payload);
                env.recorded_at = now;
                env.metadata = std::move(e.metadata);
                env.payload = std::move(e.payload);
                indices.push_back(log->m_all.size());
                log->m_all.push_back(std::move(env));
            }
            appended = std::exchange(log->m_appended, std::make_shared<async_event>());
        }
        appended->set(); // resumes waiting subscribers here, outside the lock
        co_return result;
    }

    static stream<envelope_type> read_stream_of(std::shared_ptr<log_type> log,
                                                std::string stream_id, std::uint64_t from) {
        for (std::uint64_t version = from == 0 ? 1 : from;; ++version) {
            std::optional<envelope_type> next;
            {
                std::lock_guard lock(log->m_mutex);
                auto it = log->m_streams.find(stream_id);
                if (it != log->m_streams.end() && version <= it->second.size()) {
                    next = log->m_all[it->second[version - 1]];
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
                std::lock_guard lock(log->m_mutex);
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

    std::shared_ptr<log_type> m_log;
};

} // namespace eddy
