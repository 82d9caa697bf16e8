// eddy/bus/record_too_large.hpp - the error of a publish over its topic's record size limit.
#pragma once

#include <cstddef> // std::size_t
#include <string>  // std::string, std::to_string
#include <utility> // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown by `publish` (and `transaction::publish`) when a record is larger than its topic's
/// `topic_config::max_record_bytes`; nothing is appended. The size is the key's bytes, every
/// header key's and value's bytes, and the payload's bytes (see `topic_config`). Oversize
/// input is refused where it enters the bus, so the producer learns it, rather than
/// dead-lettered after the fact where nobody waits for the answer.
///
///     try { co_await bus.publish("orders", key, huge); }
///     catch (const eddy::record_too_large& e) { log(e.size(), e.limit()); }
class record_too_large : public error {
public:
    record_too_large(std::string topic, std::size_t size, std::size_t limit)
        : error("eddy::event_bus::publish: a record of " + std::to_string(size) +
                " bytes (key, headers and payload) exceeds the limit of topic '" + topic +
                "', max_record_bytes " + std::to_string(limit) + "; nothing was published"),
          m_topic(std::move(topic)), m_size(size), m_limit(limit) {}

    /// The topic published to.
    [[nodiscard]] const std::string& topic() const noexcept { return m_topic; }
    /// The record's measured size in bytes.
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    /// The topic's `max_record_bytes`.
    [[nodiscard]] std::size_t limit() const noexcept { return m_limit; }

private:
    std::string m_topic;
    std::size_t m_size;
    std::size_t m_limit;
};

} // namespace eddy
