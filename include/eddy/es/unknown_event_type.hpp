// eddy/es/unknown_event_type.hpp - eddy::unknown_event_type, the error of reading an event whose
// type name and schema version no alternative of the event variant has.
#pragma once

#include <cstdint>  // std::uint32_t, std::uint64_t
#include <optional> // std::optional
#include <string>   // std::string, std::to_string
#include <utility>  // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown when a stored or received event has a (type name, schema version) that no alternative
/// of the event variant it is decoded into has: an event written by a newer version of the
/// application, by another service, or a type removed from the code. Carries the type name, the
/// schema version and, when the reader knows it, the stream and global position of the event;
/// the message names all of them (and, when the name is known with other schema versions, those
/// versions). Never undefined behaviour, never a silent drop: a reader that wants to skip such
/// events catches this type (it is distinct from `eddy::decode_error`, a payload that is broken).
///
/// A codec throws it without a location; `eddy::decode_event` (what stores call) rethrows it
/// `located(stream, position)`.
/// Thread-safety: like `std::runtime_error`.
///
///     try { e = eddy::decode_event<order_events>(codec, row.type, row.version, row.bytes,
///                                                row.stream, row.position); }
///     catch (const eddy::unknown_event_type& u) { log(u.what()); } // or skip on purpose
class unknown_event_type : public error {
public:
    /// `detail` says why nothing matched (optional, appended to the message after a colon).
    unknown_event_type(std::string type_name, std::uint32_t schema_version, std::string detail = {})
        : unknown_event_type(std::move(type_name), schema_version, std::move(detail), {}, {}) {}

    /// The same error, naming where the event was read: stream id and global position.
    [[nodiscard]] unknown_event_type located(std::string stream, std::uint64_t position) const {
        return unknown_event_type(m_type_name, m_schema_version, m_detail, std::move(stream),
                                  position);
    }

    [[nodiscard]] const std::string& type_name() const noexcept { return m_type_name; }
    [[nodiscard]] std::uint32_t schema_version() const noexcept { return m_schema_version; }
    /// The stream of the event; empty when the error is not located.
    [[nodiscard]] const std::string& stream() const noexcept { return m_stream; }
    /// The global position of the event; empty when the error is not located.
    [[nodiscard]] std::optional<std::uint64_t> position() const noexcept { return m_position; }
    [[nodiscard]] const std::string& detail() const noexcept { return m_detail; }

private:
    unknown_event_type(std::string type_name, std::uint32_t schema_version, std::string detail,
                       std::string stream, std::optional<std::uint64_t> position)
        : error(message(type_name, schema_version, detail, stream, position)),
          m_type_name(std::move(type_name)), m_schema_version(schema_version),
          m_detail(std::move(detail)), m_stream(std::move(stream)), m_position(position) {}

    static std::string message(const std::string& type_name, std::uint32_t schema_version,
                               const std::string& detail, const std::string& stream,
                               std::optional<std::uint64_t> position) {
        std::string m = "eddy: unknown event type '" + type_name + "' schema version " +
                        std::to_string(schema_version);
        if (position) {
            m += " (stream '" + stream + "', position " + std::to_string(*position) + ")";
        }
        if (!detail.empty()) {
            m += ": " + detail;
        }
        return m;
    }

    std::string m_type_name;
    std::uint32_t m_schema_version;
    std::string m_detail;
    std::string m_stream;
    std::optional<std::uint64_t> m_position;
};

} // namespace eddy
