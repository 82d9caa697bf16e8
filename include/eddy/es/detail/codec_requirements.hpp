// eddy/es/detail/codec_requirements.hpp - the members eddy::codec and eddy::value_codec require,
// one concept each, so a type that misses one gets a diagnostic naming it.
#pragma once

#include <concepts>    // std::same_as
#include <cstdint>     // std::uint32_t
#include <string>      // std::string
#include <string_view> // std::string_view

#include <eddy/es/named_event.hpp>

namespace eddy {
struct encoded_event; // defined in eddy/es/codec.hpp, the only header that includes this one
} // namespace eddy

namespace eddy::detail {

template <class C, class Events>
concept has_encode = requires(const C& c, const Events& e) {
    { c.encode(e) } -> std::same_as<encoded_event>;
};

template <class C, class Events>
concept has_decode = requires(const C& c, std::string_view type_name, std::uint32_t schema_version,
                              std::string_view bytes) {
    { c.template decode<Events>(type_name, schema_version, bytes) } -> std::same_as<Events>;
};

template <class C, class T>
concept has_encode_value = requires(const C& c, const T& value) {
    { c.encode_value(value) } -> std::same_as<std::string>;
};

template <class C, class T>
concept has_decode_value = requires(const C& c, std::string_view bytes) {
    { c.template decode_value<T>(bytes) } -> std::same_as<T>;
};

// One static_assert per member, in order, so the first thing missing is what the user reads.
// Returns true so it can sit in a static_assert of its own at the point of use.
template <class C, class Events>
consteval bool check_codec() {
    if constexpr (!event_variant<Events>) {
        static_assert(event_variant<Events>,
                      "eddy::codec: the events type is not a std::variant of named events "
                      "(each alternative needs `static constexpr std::string_view event_name`)");
    } else {
        static_assert(has_encode<C, Events>,
                      "eddy::codec: the codec has no const member `encode(const Events&)` "
                      "returning eddy::encoded_event (or it cannot encode an alternative of "
                      "Events: for eddy::json_codec, each needs to_json/from_json)");
        static_assert(has_decode<C, Events>,
                      "eddy::codec: the codec has no const member template `decode<Events>("
                      "std::string_view type_name, std::uint32_t schema_version, std::string_view "
                      "bytes)` returning Events");
    }
    return true;
}

template <class C, class T>
consteval bool check_value_codec() {
    static_assert(has_encode_value<C, T>,
                  "eddy::value_codec: the codec has no const member `encode_value(const T&)` "
                  "returning std::string (for json_codec: describe T with to_json/from_json)");
    static_assert(has_decode_value<C, T>,
                  "eddy::value_codec: the codec has no const member template `decode_value<T>("
                  "std::string_view bytes)` returning T (for json_codec: describe T with "
                  "to_json/from_json)");
    return true;
}

} // namespace eddy::detail
