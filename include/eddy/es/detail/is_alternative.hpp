// eddy/es/detail/is_alternative.hpp - whether a type is one of a std::variant's alternatives.
#pragma once

#include <type_traits> // std::is_same_v
#include <variant>     // std::variant

namespace eddy::detail {

template <class T, class Variant>
inline constexpr bool is_alternative_v = false;
template <class T, class... A>
inline constexpr bool is_alternative_v<T, std::variant<A...>> = (std::is_same_v<T, A> || ...);

} // namespace eddy::detail
