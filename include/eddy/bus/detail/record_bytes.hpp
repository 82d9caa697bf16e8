// eddy/bus/detail/record_bytes.hpp - how many bytes a bus record counts for a topic's
// max_record_bytes.
#pragma once

#include <concepts> // std::convertible_to
#include <cstddef>  // std::size_t
#include <ranges>   // std::ranges::contiguous_range, std::ranges::range_value_t, std::ranges::size
#include <string>   // std::string
#include <type_traits> // std::is_trivially_copyable_v

#include <eddy/bus/headers.hpp>

namespace eddy::detail {

// A payload with its own measure: `record_bytes(const T&)` found by argument-dependent lookup.
template <class T>
concept has_record_bytes = requires(const T& v) {
    { record_bytes(v) } -> std::convertible_to<std::size_t>;
};

// A contiguous range of trivially copyable elements (std::string, std::vector<std::byte>...):
// its elements' bytes.
template <class T>
concept contiguous_bytes =
    std::ranges::contiguous_range<const T> && std::ranges::sized_range<const T> &&
    std::is_trivially_copyable_v<std::ranges::range_value_t<const T>>;

// What a payload of type T measures, in this order of preference: its own record_bytes, the
// bytes of a contiguous range of trivially copyable elements, sizeof for a trivially copyable
// type. Other types cannot be measured (a topic of them cannot have a size limit).
template <class T>
concept measurable_payload =
    has_record_bytes<T> || contiguous_bytes<T> || std::is_trivially_copyable_v<T>;

template <class T>
[[nodiscard]] std::size_t payload_bytes(const T& v) {
    if constexpr (has_record_bytes<T>) {
        return static_cast<std::size_t>(record_bytes(v));
    } else if constexpr (contiguous_bytes<T>) {
        return static_cast<std::size_t>(std::ranges::size(v)) *
               sizeof(std::ranges::range_value_t<const T>);
    } else {
        return sizeof(T);
    }
}

// The key's, the headers' and the payload's bytes.
template <class T>
[[nodiscard]] std::size_t record_size(const std::string& key, const headers& h, const T& value) {
    std::size_t n = key.size() + payload_bytes(value);
    for (const auto& [k, v] : h) {
        n += k.size() + v.size();
    }
    return n;
}

} // namespace eddy::detail
