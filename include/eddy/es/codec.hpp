// eddy/es/codec.hpp - the eddy::codec concept (events to bytes and back, at a storage or broker
// boundary), eddy::value_codec (the same for snapshots, saga contexts, outbox payloads), and the
// two calls stores make through them, eddy::encode_event and eddy::decode_event.
#pragma once

#include <cstdint>     // std::uint32_t, std::uint64_t
#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view

#include <eddy/core/error.hpp>
#include <eddy/es/decode_error.hpp>
#include <eddy/es/detail/codec_requirements.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/es/unknown_event_type.hpp>

namespace eddy {

/// An event as it crosses a boundary: the type name and schema version of its alternative (what
/// a store keeps in columns of their own and decodes by) and the encoded payload.
struct encoded_event {
    std::string type_name;
    std::uint32_t schema_version = 1;
    std::string bytes;

    friend bool operator==(const encoded_event&, const encoded_event&) = default;
};

/// A codec of the events `Events` (a `std::variant` of named events): what a store of bytes
/// (SQLite, PostgreSQL) or a broker (NATS) needs, and the only place events are serialized;
/// in-process paths move typed values. Members, all `const` (a store calls them concurrently):
/// - `c.encode(const Events&)` -> `eddy::encoded_event`: the alternative's `event_name` and
///   `schema_version` and its payload's bytes (the payload only: name and version travel beside
///   it, so stored bytes stay plain data readable by ordinary tools).
/// - `c.template decode<Events>(std::string_view type_name, std::uint32_t schema_version,
///   std::string_view bytes)` -> `Events`: the alternative with that (name, version), decoded.
///   Throws `eddy::unknown_event_type` when no alternative has it, `eddy::decode_error` when the
///   bytes cannot be decoded. Decoding into a variant `Stored` that keeps old schema versions as
///   alternatives of their own gives the old alternative; `eddy::upcaster<Stored, Current>` then
///   brings it to the current type: the codec stays ignorant of schema evolution.
/// Why this shape: the type name and version are returned and taken separately (not embedded in
/// the bytes) so stores can index and filter by type without decoding, and so a codec needs no
/// registry: the event variant is the registry (an alternative is found by its static
/// `event_name` and `schema_version`). `decode` is a member template because one codec value
/// serves every event variant of an application. No opt-in tag: a structural match on a member
/// returning `eddy::encoded_event` cannot be an accident.
/// Lifetime: results own their data; nothing refers to the codec or the bytes after a call.
/// Use `static_assert(eddy::detail::check_codec<C, Events>())` for a diagnostic naming what is
/// missing; `encode_event` and `decode_event` do that.
///
///     static_assert(eddy::codec<eddy::json_codec, order_events>);
template <class C, class Events>
concept codec =
    event_variant<Events> && detail::has_encode<C, Events> && detail::has_decode<C, Events>;

/// A codec of values of type `T` that are not events (snapshots, saga contexts, outbox
/// payloads): `c.encode_value(const T&)` -> `std::string` and `c.template decode_value<T>(
/// std::string_view)` -> `T`, which throws `eddy::decode_error` for bytes it cannot decode. The
/// value's kind and version are the store's business (a snapshot store keys by the state's
/// schema version), so only bytes cross.
///
///     static_assert(eddy::value_codec<eddy::json_codec, order_state>);
template <class C, class T>
concept value_codec = detail::has_encode_value<C, T> && detail::has_decode_value<C, T>;

/// Encodes `e` with `c`, as a store does on append. Eager, synchronous.
/// Errors: what `c.encode` throws (an `eddy::error` for a value the codec cannot represent);
/// an `eddy::error` when the codec reports another type name or schema version than the event's
/// alternative has (a broken codec: storing that would make the event unreadable).
/// A type that is not a codec of `Events` fails to compile with a message naming what is missing.
///
///     eddy::encoded_event row = eddy::encode_event(codec, order_events{order_placed{"ada"}});
template <class C, class Events>
[[nodiscard]] encoded_event encode_event(const C& c, const Events& e) {
    static_assert(detail::check_codec<C, Events>());
    encoded_event out = c.encode(e);
    if (out.type_name != event_name_of(e) || out.schema_version != event_schema_version_of(e)) {
        throw error("eddy::encode_event: the codec encoded an event '" +
                    std::string(event_name_of(e)) + "' schema version " +
                    std::to_string(event_schema_version_of(e)) + " as '" + out.type_name +
                    "' schema version " + std::to_string(out.schema_version));
    }
    return out;
}

/// Decodes a stored event with `c`, as a store does on read; `stream` and `position` (global
/// position) say where it was read, for the errors. Eager, synchronous.
/// Errors: `eddy::unknown_event_type` or `eddy::decode_error` from the codec, rethrown located
/// at (stream, position) so their messages name it.
/// A type that is not a codec of `Events` fails to compile with a message naming what is missing.
///
///     order_events e = eddy::decode_event<order_events>(codec, row.type_name,
///                          row.schema_version, row.bytes, row.stream_id, row.global_position);
template <class Events, class C>
[[nodiscard]] Events decode_event(const C& c, std::string_view type_name,
                                  std::uint32_t schema_version, std::string_view bytes,
                                  std::string_view stream, std::uint64_t position) {
    static_assert(detail::check_codec<C, Events>());
    try {
        return c.template decode<Events>(type_name, schema_version, bytes);
    } catch (const unknown_event_type& u) {
        throw u.located(std::string(stream), position);
    } catch (const decode_error& d) {
        throw d.located(std::string(stream), position);
    }
}

} // namespace eddy
