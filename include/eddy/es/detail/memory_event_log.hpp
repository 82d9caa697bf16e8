// eddy/es/detail/memory_event_log.hpp - the table of eddy::memory_event_store<Events> in a
// memory storage: every event in commit order, an index per stream and per event id, and the
// signal new events raise.
#pragma once

#include <algorithm>     // std::max
#include <cstddef>       // std::size_t
#include <cstdint>       // std::uint64_t
#include <memory>        // std::shared_ptr, std::make_shared
#include <mutex>         // std::mutex
#include <string>        // std::string
#include <unordered_map> // std::unordered_map
#include <utility>       // std::pair
#include <vector>        // std::vector

#include <eddy/core/async_event.hpp>
#include <eddy/es/detail/memory_storage_state.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/stream_metadata.hpp>
#include <eddy/es/uuid.hpp>

namespace eddy::detail {

struct uuid_hash {
    std::size_t operator()(const uuid& id) const noexcept {
        // v7: 48 time bits, then a counter and random bits; fold both halves.
        std::uint64_t hi = 0;
        std::uint64_t lo = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            hi = (hi << 8) | id.bytes[i];
            lo = (lo << 8) | id.bytes[i + 8];
        }
        return static_cast<std::size_t>(hi * 0x9E3779B97F4A7C15ULL ^ lo);
    }
};

template <class Events>
struct memory_event_log : memory_table {
    explicit memory_event_log(memory_storage_state& storage) : m_storage(&storage) {}

    struct stream_entry {
        std::vector<std::size_t> indices; // version v at v - 1: indices into m_all
        stream_metadata metadata;
        std::uint64_t deleted_before = 0; // soft delete: versions below are hidden
        bool deleted = false;             // deleted and not appended to since
    };

    memory_storage_state* m_storage;           // owns this table; its mutex guards everything here
    std::vector<event_envelope<Events>> m_all; // position p at index p - 1
    // Per event: the indices of the first and last event of the append that stored it.
    std::vector<std::pair<std::size_t, std::size_t>> m_batch_of;
    std::unordered_map<std::string, stream_entry> m_streams;
    std::unordered_map<uuid, std::size_t, uuid_hash> m_by_id; // caller-given and assigned ids
    // Replaced and set by every commit that appended: a reader that found nothing new waits on
    // the one it saw under the lock, so no append can slip between its check and its wait.
    std::shared_ptr<async_event> m_appended = std::make_shared<async_event>();

    std::mutex& mutex() const noexcept { return m_storage->mutex; }

    const stream_entry* find_locked(const std::string& stream_id) const {
        auto it = m_streams.find(stream_id);
        return it == m_streams.end() ? nullptr : &it->second;
    }

    /// The number of events ever appended to the stream.
    std::uint64_t count_locked(const std::string& stream_id) const {
        const stream_entry* s = find_locked(stream_id);
        return s == nullptr ? 0 : s->indices.size();
    }

    /// The version expectations are checked against: 0 for a soft-deleted stream.
    std::uint64_t version_locked(const std::string& stream_id) const {
        const stream_entry* s = find_locked(stream_id);
        return s == nullptr || s->deleted ? 0 : s->indices.size();
    }

    /// The first version read_stream returns (beyond the end when none is readable).
    static std::uint64_t first_readable(const stream_entry& s) noexcept {
        const std::uint64_t count = s.indices.size();
        std::uint64_t first =
            std::max<std::uint64_t>({1, s.metadata.truncate_before, s.deleted_before});
        if (s.metadata.max_count > 0 && count > s.metadata.max_count) {
            first = std::max(first, count - s.metadata.max_count + 1);
        }
        return first;
    }
};

} // namespace eddy::detail
