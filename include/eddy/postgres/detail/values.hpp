// eddy/postgres/detail/values.hpp - value conversions the PostgreSQL stores share: times as
// nanoseconds since the epoch (exact for any clock, fake ones included) and array parameters.
#pragma once

#include <chrono>  // std::chrono::system_clock, std::chrono::nanoseconds
#include <cstdint> // std::int64_t
#include <string>  // std::string
#include <vector>  // std::vector

namespace eddy::detail {

inline std::int64_t pg_ns(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

inline std::chrono::system_clock::time_point pg_time(std::int64_t ns) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(ns)));
}

// A text-format array literal of `values` (for a `$n::text[]`, `$n::uuid[]` or `$n::bigint[]`
// parameter): every element quoted, backslashes and quotes escaped, so any string travels.
inline std::string pg_array(const std::vector<std::string>& values) {
    std::string out = "{";
    for (const std::string& v : values) {
        if (out.size() > 1) {
            out += ',';
        }
        out += '"';
        for (const char c : v) {
            if (c == '"' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

} // namespace eddy::detail
