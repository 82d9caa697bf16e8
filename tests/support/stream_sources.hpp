// Small streams and helpers shared by the stream operator tests.
#pragma once

#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/copy_move_tracker.hpp>

namespace eddy::test {

/// A count no test reaches: `counted_source(unbounded, &pulls)` never ends by itself.
inline constexpr int unbounded = std::numeric_limits<int>::max();

inline eddy::stream<int> count_to(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield i;
    }
}

// Counts how many values the consumer made the body produce.
inline eddy::stream<int> counted_source(int n, int* pulls) {
    for (int i = 1; i <= n; ++i) {
        ++*pulls;
        co_yield i;
    }
}

inline eddy::stream<int> two_then_throw() {
    co_yield 1;
    co_yield 2;
    throw std::runtime_error("source failed");
}

inline eddy::stream<std::unique_ptr<int>> boxes(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield std::make_unique<int>(i);
    }
}

inline eddy::stream<copy_move_tracker> moves_out(copy_move_tracker* t) { co_yield std::move(*t); }

inline bool is_even(int x) { return x % 2 == 0; }

// Drains a stream (or a pipeline) on the calling thread.
template <class T>
std::vector<T> all(eddy::stream<T> s) {
    return eddy::sync_wait(eddy::to_vector(std::move(s)));
}

// One pull, as a task (a pipeline's or stream's next() awaited from ordinary code).
template <class Pipeline>
eddy::task<std::optional<int>> next_of(Pipeline* p) {
    std::optional<int> v = co_await p->next();
    co_return v;
}

} // namespace eddy::test
