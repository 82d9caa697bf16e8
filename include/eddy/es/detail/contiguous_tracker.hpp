// eddy/es/detail/contiguous_tracker.hpp - the highest position below which every dispatched
// event has completed, while completions arrive out of order.
#pragma once

#include <algorithm> // std::lower_bound
#include <cstdint>   // std::uint64_t
#include <deque>     // std::deque
#include <utility>   // std::pair

namespace eddy::detail {

// Positions are dispatched in increasing order (possibly with gaps) and completed in any
// order. `checkpoint()` is the last position of the completed prefix: an event not yet
// completed holds back every later one, so a checkpoint never skips an event. Not
// thread-safe: the caller locks.
class contiguous_tracker {
public:
    explicit contiguous_tracker(std::uint64_t checkpoint) noexcept : m_checkpoint(checkpoint) {}

    void dispatched(std::uint64_t position) { m_in_flight.emplace_back(position, false); }

    // Marks `position` completed; returns true when the checkpoint advanced.
    bool completed(std::uint64_t position) {
        auto it = std::lower_bound(m_in_flight.begin(), m_in_flight.end(), position,
                                   [](const auto& e, std::uint64_t p) { return e.first < p; });
        if (it == m_in_flight.end() || it->first != position) {
            return false;
        }
        it->second = true;
        bool advanced = false;
        while (!m_in_flight.empty() && m_in_flight.front().second) {
            m_checkpoint = m_in_flight.front().first;
            m_in_flight.pop_front();
            advanced = true;
        }
        return advanced;
    }

    [[nodiscard]] std::uint64_t checkpoint() const noexcept { return m_checkpoint; }
    [[nodiscard]] std::size_t in_flight() const noexcept { return m_in_flight.size(); }

private:
    std::uint64_t m_checkpoint;
    std::deque<std::pair<std::uint64_t, bool>> m_in_flight; // dispatched, in position order
};

} // namespace eddy::detail
