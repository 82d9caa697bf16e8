// eddy/es/decode_error.hpp - eddy::decode_error, the error of a payload a codec cannot decode.
#pragma once

#include <cstdint>  // std::uint32_t, std::uint64_t
#include <optional> // std::optional
#include <string>   // std::string, std::to_string
#include <utility>  // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown by a codec for bytes it cannot turn back into the value they claim to be: malformed
/// bytes (truncated, not the codec's format), a missing field, a field of the wrong type, a value
/// out of range. For an event it names the type name and schema version the payload was stored
/// under and, when the reader knows them, the stream and global position; always the
/// underlying reason (the codec library's own message). Never undefined behaviour, never a crash.
/// The name is the codec's side of the boundary (encode/decode), so one type serves events and
/// the other values a store keeps (snapshots, saga contexts, outbox payloads); for such a value
/// `type_name()` is empty and `schema_version()` 0.
///
/// A codec throws it without a location; `eddy::decode_event` (what stores call) rethrows it
/// `located(stream, position)`. An event whose (name, version) is unknown is not a decode_error
/// but an `eddy::unknown_event_type`.
/// Thread-safety: like `std::runtime_error`.
///
///     catch (const eddy::decode_error& d) {
///         dead_letter(d.type_name(), d.position(), d.reason());
///     }
class decode_error : public error {
public:
    /// An event of `type_name` and `schema_version` whose payload cannot be decoded.
    decode_error(std::string type_name, std::uint32_t schema_version, std::string reason)
        : decode_error(std::move(type_name), schema_version, std::move(reason), {}, {}) {}

    /// A value (snapshot, context, payload; not an event) that cannot be decoded.
    explicit decode_error(std::string reason) : decode_error({}, 0, std::move(reason), {}, {}) {}

    /// The same error, naming where the payload was read: stream id and global position (for
    /// a snapshot, its stream and version).
    [[nodiscard]] decode_error located(std::string stream, std::uint64_t position) const {
        return decode_error(m_type_name, m_schema_version, m_reason, std::move(stream), position);
    }

    /// The event type name the payload was stored under; empty for a value.
    [[nodiscard]] const std::string& type_name() const noexcept { return m_type_name; }
    /// The schema version the payload was stored under; 0 for a value.
    [[nodiscard]] std::uint32_t schema_version() const noexcept { return m_schema_version; }
    /// Why the bytes could not be decoded (the codec library's message).
    [[nodiscard]] const std::string& reason() const noexcept { return m_reason; }
    /// The stream of the payload; empty when the error is not located.
    [[nodiscard]] const std::string& stream() const noexcept { return m_stream; }
    /// The global position of the payload; empty when the error is not located.
    [[nodiscard]] std::optional<std::uint64_t> position() const noexcept { return m_position; }

private:
    decode_error(std::string type_name, std::uint32_t schema_version, std::string reason,
                 std::string stream, std::optional<std::uint64_t> position)
        : error(message(type_name, schema_version, reason, stream, position)),
          m_type_name(std::move(type_name)), m_schema_version(schema_version),
          m_reason(std::move(reason)), m_stream(std::move(stream)), m_position(position) {}

    static std::string message(const std::string& type_name, std::uint32_t schema_version,
                               const std::string& reason, const std::string& stream,
                               std::optional<std::uint64_t> position) {
        std::string m = type_name.empty()
                            ? std::string("eddy: cannot decode a value")
                            : "eddy: cannot decode event '" + type_name + "' schema version " +
                                  std::to_string(schema_version);
        if (position) {
            m += " (stream '" + stream + "', position " + std::to_string(*position) + ")";
        }
        return m + ": " + reason;
    }

    std::string m_type_name;
    std::uint32_t m_schema_version;
    std::string m_reason;
    std::string m_stream;
    std::optional<std::uint64_t> m_position;
};

} // namespace eddy
