// eddy/bus/offset_out_of_range.hpp - the error of a reader behind a topic's retention.
#pragma once

#include <cstddef> // std::size_t
#include <cstdint> // std::uint64_t
#include <string>  // std::string, std::to_string
#include <utility> // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown (pull form) or reported by `subscription::stop()` (push form) when a consumer
/// group's position in a partition lies before the earliest offset the topic still retains,
/// and the member's `consumer_options::on_out_of_range` is `offset_reset::none`: records the
/// group had not consumed were dropped by retention. Carries where it happened.
///
///     try { auto r = co_await s.next(); }
///     catch (const eddy::offset_out_of_range& e) { e.position(); e.earliest(); }
class offset_out_of_range : public error {
public:
    offset_out_of_range(std::string topic, std::string group, std::size_t partition,
                        std::uint64_t position, std::uint64_t earliest)
        : error("eddy::event_bus: group '" + group + "' is at offset " + std::to_string(position) +
                " of topic '" + topic + "' partition " + std::to_string(partition) +
                ", before the earliest retained offset " + std::to_string(earliest) +
                " (records were dropped by retention; set consumer_options::on_out_of_range "
                "to reset)"),
          m_topic(std::move(topic)), m_group(std::move(group)), m_partition(partition),
          m_position(position), m_earliest(earliest) {}

    [[nodiscard]] const std::string& topic() const noexcept { return m_topic; }
    [[nodiscard]] const std::string& group() const noexcept { return m_group; }
    [[nodiscard]] std::size_t partition() const noexcept { return m_partition; }
    /// The group's position (the next offset it would have read).
    [[nodiscard]] std::uint64_t position() const noexcept { return m_position; }
    /// The earliest offset the partition retains.
    [[nodiscard]] std::uint64_t earliest() const noexcept { return m_earliest; }

private:
    std::string m_topic;
    std::string m_group;
    std::size_t m_partition;
    std::uint64_t m_position;
    std::uint64_t m_earliest;
};

} // namespace eddy
