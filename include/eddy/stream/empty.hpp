// eddy/stream/empty.hpp - eddy::empty<T>(): a stream that ends at once.
#pragma once

#include <eddy/stream/stream.hpp>

namespace eddy {

/// A stream of `T` with no values: the first `next()` yields an empty optional.
///
/// Lazy; where the awaiter resumes: inline. Thread-safety: none (see `eddy::stream`).
///
///     auto s = eddy::empty<int>(); // (co_await s.next()).has_value() == false
template <class T>
[[nodiscard]] stream<T> empty() {
    co_return;
}

} // namespace eddy
