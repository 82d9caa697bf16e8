// eddy/es/detail/codec_alternatives.hpp - finding the alternative of an event variant by its
// (type name, schema version), for codecs: a compile-time check that the pairs are unique, and a
// decode dispatch that throws eddy::unknown_event_type when none matches.
#pragma once

#include <array>       // std::array
#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint32_t
#include <optional>    // std::optional
#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view
#include <type_traits> // std::type_identity
#include <utility>     // std::index_sequence, std::make_index_sequence, std::move, std::pair
#include <variant>     // std::variant, std::variant_alternative_t, std::variant_size_v

#include <eddy/es/named_event.hpp>
#include <eddy/es/unknown_event_type.hpp>

namespace eddy::detail {

template <class Events>
struct event_keys;
template <class... E>
struct event_keys<std::variant<E...>> {
    static constexpr std::array<std::pair<std::string_view, std::uint32_t>, sizeof...(E)> value{
        {{event_name_v<E>, event_schema_version_v<E>}...}};
};

// True when no two alternatives of Events share a (type name, schema version): otherwise a
// stored event could not say which alternative it is.
template <class Events>
consteval bool has_unique_event_keys() {
    const auto& keys = event_keys<Events>::value;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        for (std::size_t j = i + 1; j < keys.size(); ++j) {
            if (keys[i] == keys[j]) {
                return false;
            }
        }
    }
    return true;
}

// "known schema versions of 'x': 1, 3" when the name is known with other versions.
template <class Events>
std::string unknown_event_detail(std::string_view type_name) {
    std::string versions;
    for (const auto& [name, version] : event_keys<Events>::value) {
        if (name == type_name) {
            versions += (versions.empty() ? "" : ", ") + std::to_string(version);
        }
    }
    std::string detail = "no alternative of the event variant has this type name and schema "
                         "version";
    if (!versions.empty()) {
        detail += " (known schema versions of '" + std::string(type_name) + "': " + versions + ")";
    }
    return detail;
}

template <class Events, class Fn, std::size_t... I>
Events decode_alternative_impl(std::string_view type_name, std::uint32_t schema_version, Fn& fn,
                               std::index_sequence<I...> /*alternatives*/) {
    std::optional<Events> out;
    const bool found =
        ((event_name_v<std::variant_alternative_t<I, Events>> == type_name &&
          event_schema_version_v<std::variant_alternative_t<I, Events>> == schema_version &&
          (out.emplace(std::in_place_index<I>,
                       fn(std::type_identity<std::variant_alternative_t<I, Events>>{})),
           true)) ||
         ...);
    if (!found) {
        throw unknown_event_type(std::string(type_name), schema_version,
                                 unknown_event_detail<Events>(type_name));
    }
    return std::move(*out);
}

// The alternative E of Events named (type_name, schema_version), made by
// fn(std::type_identity<E>{}) -> E; throws eddy::unknown_event_type when no alternative matches.
template <event_variant Events, class Fn>
Events decode_alternative(std::string_view type_name, std::uint32_t schema_version, Fn&& fn) {
    static_assert(has_unique_event_keys<Events>(),
                  "eddy::codec: two alternatives of the event variant have the same event_name "
                  "and schema_version, so a stored event could not say which one it is");
    return decode_alternative_impl<Events>(type_name, schema_version, fn,
                                           std::make_index_sequence<std::variant_size_v<Events>>{});
}

} // namespace eddy::detail
