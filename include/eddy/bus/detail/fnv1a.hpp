// eddy/bus/detail/fnv1a.hpp - the 64-bit FNV-1a hash that maps a record key to its partition.
#pragma once

#include <cstdint>     // std::uint64_t
#include <string_view> // std::string_view

namespace eddy::detail {

// FNV-1a, 64 bits, over the key's bytes: defined by the algorithm alone (no seed, no
// std::hash, whose values differ between standard libraries and may change between runs), so
// a key maps to the same partition on every run and platform.
[[nodiscard]] constexpr std::uint64_t fnv1a_64(std::string_view bytes) noexcept {
    std::uint64_t h = 14695981039346656037ULL; // offset basis
    for (const char c : bytes) {
        h ^= static_cast<std::uint64_t>(static_cast<unsigned char>(c));
        h *= 1099511628211ULL; // FNV prime
    }
    return h;
}

} // namespace eddy::detail
