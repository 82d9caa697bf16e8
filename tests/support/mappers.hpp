// tests/support/mappers.hpp - what the stream operator tests map elements with: plain functions,
// and functions returning the inner stream or task that flat_map and concat_map flatten.
#pragma once

#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>

#include <stdexcept> // std::runtime_error

namespace eddy::test {

inline int square(int x) { return x * x; }

inline int times_ten(int x) { return x * 10; }

/// `x`, `k` times.
inline eddy::stream<int> repeat(int x, int k) {
    for (int i = 0; i < k; ++i) {
        co_yield x;
    }
}

/// One value, 2 * x, without suspending.
inline eddy::task<int> twice_task(int x) { co_return (2 * x); }

/// Yields `x`, then throws std::runtime_error("inner failed").
inline eddy::stream<int> inner_then_throw(int x) {
    co_yield x;
    throw std::runtime_error("inner failed");
}

} // namespace eddy::test
