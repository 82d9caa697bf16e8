// eddy/stream/just.hpp - eddy::just(values...): a stream of the given values.
#pragma once

#include <concepts> // std::same_as
#include <utility>  // std::move

#include <eddy/stream/stream.hpp>

namespace eddy {

/// A stream of `first, rest...`, in order (all of one type `T`).
///
/// Lazy; where the awaiter resumes: inline (the body never waits).
/// Lifetime: the values are taken by value into the frame and moved out to the consumer;
/// move-only `T` works. Thread-safety: none (see `eddy::stream`).
///
///     auto s = eddy::just(1, 2, 3); // yields 1, 2, 3
template <class T, class... Rest>
    requires(std::same_as<T, Rest>&&...)
[[nodiscard]] stream<T> just(T first, Rest... rest) {
    T values[] = {std::move(first), std::move(rest)...};
    for (T& value : values) {
        co_yield std::move(value);
    }
}

} // namespace eddy
