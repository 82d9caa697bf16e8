// eddy/json/detail/json_conversion.hpp - turning a described type into nlohmann::json and back
// for eddy::json_codec: whether nlohmann knows the type, and the "{}" of types without fields.
#pragma once

#include <concepts>    // std::same_as
#include <string>      // std::string
#include <type_traits> // std::is_empty_v, std::is_default_constructible_v
#include <variant>     // std::variant

#include <nlohmann/json.hpp>

namespace eddy::detail {

// Through adl_serializer, so a user's specialization of it counts as well as to_json/from_json
// found by ADL (what the NLOHMANN_DEFINE_TYPE_* macros define). Both are SFINAE-friendly in
// nlohmann 3.x.
template <class T>
concept json_encodable = requires(nlohmann::json& j, const T& value) {
    nlohmann::adl_serializer<T>::to_json(j, value);
};

template <class T>
concept json_decodable = requires(const nlohmann::json& j, T& value) {
    nlohmann::adl_serializer<T>::from_json(j, value);
}
|| requires(const nlohmann::json& j) {
    { nlohmann::adl_serializer<T>::from_json(j) } -> std::same_as<T>;
};

// An event without fields needs no description (the NLOHMANN_DEFINE_TYPE_* macros cannot
// describe one: they need at least one member); it is the empty object.
template <class T>
concept json_fieldless =
    std::is_empty_v<T> && std::is_default_constructible_v<T> && !json_encodable<T>;

// What json_codec can encode and decode: a type described both ways, or one without fields.
template <class T>
concept json_describable = (json_encodable<T> && json_decodable<T>) || json_fieldless<T>;

template <class Events>
inline constexpr bool json_describable_events_v = false;
template <class... E>
inline constexpr bool json_describable_events_v<std::variant<E...>> = (json_describable<E> && ...);

template <json_describable T>
[[nodiscard]] nlohmann::json to_json_value(const T& value) {
    if constexpr (json_fieldless<T>) {
        return nlohmann::json::object();
    } else {
        return nlohmann::json(value);
    }
}

// Throws nlohmann::json::exception (or what a user's from_json throws) for JSON that does not
// describe a T; json_codec turns those into eddy::decode_error.
template <json_describable T>
[[nodiscard]] T from_json_value(const nlohmann::json& j) {
    if constexpr (json_fieldless<T>) {
        if (!j.is_object()) {
            throw nlohmann::json::type_error::create(
                302, std::string("type must be object, but is ") + j.type_name(), &j);
        }
        return T{};
    } else {
        return j.template get<T>();
    }
}

} // namespace eddy::detail
