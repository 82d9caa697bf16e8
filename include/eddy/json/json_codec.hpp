// eddy/json/json_codec.hpp - eddy::json_codec, the codec of the eddy::json adapter: events and
// values as JSON text with nlohmann/json.
#pragma once

#include <cstdint>     // std::uint32_t
#include <exception>   // std::exception
#include <new>         // std::bad_alloc
#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view
#include <type_traits> // std::remove_cvref_t
#include <utility>     // std::move
#include <variant>     // std::visit

#include <nlohmann/json.hpp>

#include <eddy/core/error.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/es/decode_error.hpp>
#include <eddy/es/detail/codec_alternatives.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/json/detail/json_conversion.hpp>

namespace eddy {

/// The JSON codec: a model of `eddy::codec` for every event variant whose alternatives are
/// described for nlohmann/json, and of `eddy::value_codec` for every described value type.
/// Stored payloads are compact UTF-8 JSON of the payload alone (`{"quantity":2,"sku":"pear"}`,
/// members in name order, so equal values give equal bytes), readable with ordinary tools; the
/// type name and schema version travel beside them (`encoded_event`). Decoding accepts any
/// valid JSON for the type: whitespace, escapes, members in any order, members it does not know.
/// Describe a type once, the nlohmann way: `NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(T, members...)`
/// (or `..._INTRUSIVE`, or `to_json`/`from_json` in T's namespace, or an `adl_serializer`
/// specialization). An event without fields needs no description: it is `{}`. Nothing is
/// registered: an event is found by its alternative's `event_name` and `schema_version`.
/// `std::optional` members need nlohmann's support for it (3.12) or your own
/// `adl_serializer<std::optional<T>>` (nlohmann's README shows one); eddy does not define one,
/// so it never collides with yours.
///
/// Eager, synchronous, stateless.
/// Errors: decoding throws `eddy::unknown_event_type` for a (name, version) no alternative has and
/// `eddy::decode_error` (with nlohmann's message as the reason) for bytes that are not JSON, a
/// missing member, a member of the wrong JSON type, or anything a user's `from_json` throws
/// (other than an `eddy::error` or `std::bad_alloc`, which pass unchanged); encoding throws
/// `eddy::error` for a value JSON cannot hold (a string that is not valid UTF-8). nlohmann
/// converts numbers leniently (a JSON 1.5 read into an int is 1; an out-of-range integer wraps;
/// a floating-point number beyond the range of an integer member is undefined behaviour inside
/// nlohmann's static_cast): bytes json_codec wrote never contain those, but describe members
/// that read foreign JSON with a `from_json` that checks `is_number_integer()` and the range.
/// Preconditions: the members are constrained on the types being described, so
/// `eddy::codec<json_codec, Events>` and `eddy::value_codec<json_codec, T>` hold exactly for
/// described types; using an undescribed one fails to compile, naming it.
/// Lifetime: results own their data; nothing refers to the codec or the bytes after a call.
/// Thread-safety: every member is const and touches no shared state: use one codec from any
/// number of threads.
///
///     struct order_placed { static constexpr std::string_view event_name = "order_placed";
///                           std::string customer; };
///     NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order_placed, customer)
///     eddy::encoded_event row = eddy::json_codec{}.encode(order_events{order_placed{"ada"}});
class json_codec {
public:
    /// `e`'s alternative as its name, schema version and JSON text.
    template <event_variant Events>
        requires detail::json_describable_events_v<Events>
    [[nodiscard]] encoded_event encode(const Events& e) const {
        return std::visit(
            [](const auto& event) {
                using E = std::remove_cvref_t<decltype(event)>;
                std::string name(event_name_v<E>);
                constexpr std::uint32_t version = event_schema_version_v<E>;
                try {
                    std::string bytes = detail::to_json_value(event).dump();
                    return encoded_event{std::move(name), version, std::move(bytes)};
                } catch (const nlohmann::json::exception& x) {
                    throw error("eddy::json_codec: cannot encode event '" + name +
                                "' schema version " + std::to_string(version) + ": " + x.what());
                }
            },
            e);
    }

    /// The alternative of `Events` named (type_name, schema_version), read from `bytes`.
    template <event_variant Events>
        requires detail::json_describable_events_v<Events>
    [[nodiscard]] Events decode(std::string_view type_name, std::uint32_t schema_version,
                                std::string_view bytes) const {
        return detail::decode_alternative<Events>(type_name, schema_version, [&](auto type) {
            using E = typename decltype(type)::type;
            try {
                return detail::from_json_value<E>(nlohmann::json::parse(bytes));
            } catch (const error&) {
                throw;
            } catch (const std::bad_alloc&) {
                throw;
            } catch (const std::exception& x) {
                throw decode_error(std::string(type_name), schema_version, x.what());
            }
        });
    }

    /// `value` as JSON text.
    template <detail::json_describable T>
    [[nodiscard]] std::string encode_value(const T& value) const {
        try {
            return detail::to_json_value(value).dump();
        } catch (const nlohmann::json::exception& x) {
            throw error(std::string("eddy::json_codec: cannot encode a value: ") + x.what());
        }
    }

    /// The `T` described by the JSON text `bytes`.
    template <detail::json_describable T>
    [[nodiscard]] T decode_value(std::string_view bytes) const {
        try {
            return detail::from_json_value<T>(nlohmann::json::parse(bytes));
        } catch (const error&) {
            throw;
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& x) {
            throw decode_error(x.what());
        }
    }
};

} // namespace eddy
