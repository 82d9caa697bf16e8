// eddy/es/append_result.hpp - eddy::append_result, what an event store's append did.
#pragma once

#include <cstdint> // std::uint64_t

namespace eddy {

/// What an append did: the stream's version after it and the global positions of its first and
/// last event.
struct append_result {
    std::uint64_t stream_version = 0;
    std::uint64_t first_position = 0;
    std::uint64_t last_position = 0;

    friend bool operator==(const append_result&, const append_result&) = default;
};

} // namespace eddy
