// eddy/es/detail/memory_event_log.hpp - the shared state of eddy::memory_event_store: every
// event in commit order, an index per stream, and the signal new events raise.
#pragma once

#include <chrono>        // std::chrono::system_clock
#include <cstddef>       // std::size_t
#include <cstdint>       // std::uint64_t
#include <functional>    // std::function
#include <memory>        // std::shared_ptr, std::make_shared
#include <mutex>         // std::mutex
#include <string>        // std::string
#include <unordered_map> // std::unordered_map
#include <utility>       // std::move
#include <vector>        // std::vector

#include <eddy/core/async_event.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/uuid_v7_generator.hpp>

namespace eddy::detail {

template <class Events>
struct memory_event_log {
    memory_event_log(std::function<std::chrono::system_clock::time_point()> clock,
                     std::function<std::uint64_t()> random)
        : m_clock(clock), m_ids(std::move(clock), std::move(random)) {}

    std::mutex m_mutex;
    std::vector<event_envelope<Events>> m_all; // guarded; position p at index p - 1
    std::unordered_map<std::string, std::vector<std::size_t>> m_streams; // guarded; indices
    // Replaced and set by every append: a reader that found nothing new waits on the one it
    // saw under the lock, so no append can slip between its check and its wait.
    std::shared_ptr<async_event> m_appended = std::make_shared<async_event>(); // guarded
    std::function<std::chrono::system_clock::time_point()> m_clock;            // guarded
    uuid_v7_generator m_ids;

    std::uint64_t version_locked(const std::string& stream_id) const {
        auto it = m_streams.find(stream_id);
        return it == m_streams.end() ? 0 : it->second.size();
    }
};

} // namespace eddy::detail
