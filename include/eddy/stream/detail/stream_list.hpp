// eddy/stream/detail/stream_list.hpp - the sources of a variadic combinator (merge, concat)
// gathered as streams of one element type.
#pragma once

#include <concepts> // std::convertible_to
#include <utility>  // std::move
#include <vector>   // std::vector

#include <eddy/stream/stream.hpp>

namespace eddy::detail {

template <class T, class... Sources>
inline constexpr bool all_streams_of = (std::convertible_to<Sources, stream<T>> && ...);

template <class T, class... Sources>
std::vector<stream<T>> stream_list(Sources... sources) {
    std::vector<stream<T>> list;
    list.reserve(sizeof...(Sources));
    (list.emplace_back(std::move(sources)), ...);
    return list;
}

} // namespace eddy::detail
