// eddy/es/named_event.hpp - eddy::named_event, an event type that names itself (never typeid).
#pragma once

#include <concepts>    // std::convertible_to
#include <cstdint>     // std::uint32_t
#include <string_view> // std::string_view
#include <type_traits> // std::remove_cvref_t
#include <variant>     // std::variant, std::visit

namespace eddy {

/// An event type that names itself with `static constexpr std::string_view event_name`, and
/// optionally its schema version with `static constexpr std::uint32_t schema_version` (1 when
/// absent). Stores and codecs key events by this name, never by `typeid` names, so renaming the
/// C++ type or switching compilers never orphans stored events.
///
///     struct order_placed {
///         static constexpr std::string_view event_name = "order_placed";
///         static constexpr std::uint32_t schema_version = 2;
///         std::string customer;
///     };
template <class E>
concept named_event = requires {
    { E::event_name } -> std::convertible_to<std::string_view>;
};

/// The name of the event type `E`.
template <named_event E>
inline constexpr std::string_view event_name_v = E::event_name;

/// The schema version of the event type `E`: `E::schema_version`, or 1.
template <named_event E>
inline constexpr std::uint32_t event_schema_version_v = [] {
    if constexpr (requires { E::schema_version; }) {
        return static_cast<std::uint32_t>(E::schema_version);
    } else {
        return std::uint32_t{1};
    }
}();

/// True when `Events` is a `std::variant` of named events: the events of one aggregate.
template <class Events>
inline constexpr bool is_event_variant_v = false;
template <named_event... E>
inline constexpr bool is_event_variant_v<std::variant<E...>> = true;

/// A `std::variant<E...>` whose alternatives are all `named_event`s.
template <class Events>
concept event_variant = is_event_variant_v<Events>;

/// The name of the event held by `e` (of its current alternative).
template <event_variant Events>
[[nodiscard]] constexpr std::string_view event_name_of(const Events& e) {
    return std::visit([](const auto& x) { return event_name_v<std::remove_cvref_t<decltype(x)>>; },
                      e);
}

/// The schema version of the event held by `e`.
template <event_variant Events>
[[nodiscard]] constexpr std::uint32_t event_schema_version_of(const Events& e) {
    return std::visit(
        [](const auto& x) { return event_schema_version_v<std::remove_cvref_t<decltype(x)>>; }, e);
}

} // namespace eddy
