// eddy/stream/from_range.hpp - eddy::from(range): a stream of a range's elements.
#pragma once

#include <ranges>      // std::ranges::input_range, std::ranges::view, std::ranges::range_value_t
#include <type_traits> // std::is_lvalue_reference_v
#include <utility>     // std::move

#include <eddy/stream/stream.hpp>

namespace eddy {

/// A stream of the elements of `range`, in order.
///
/// Lazy: nothing is read before the first `next()`; each `next()` reads one element.
/// Where the awaiter resumes: inline (the body never suspends except at `co_yield`).
/// Lifetime: `range` is taken by value into the stream's frame (pass an lvalue to copy it,
/// an rvalue to move it). An owning range's elements are then moved out (the frame owns
/// them); a view's lvalue elements are copied, since the view only refers to them, and what
/// a view refers to must outlive the stream. `eddy::generator<T>` works (its elements move).
/// Thread-safety: none (see `eddy::stream`).
///
///     std::vector<std::string> names{"a", "b"};
///     auto s = eddy::from(std::move(names)); // yields "a", "b" (moved)
template <std::ranges::input_range R>
[[nodiscard]] stream<std::ranges::range_value_t<R>> from(R range) {
    for (auto&& element : range) {
        if constexpr (std::ranges::view<R> &&
                      std::is_lvalue_reference_v<std::ranges::range_reference_t<R>>) {
            co_yield element; // a view does not own its elements: copy
        } else {
            co_yield std::move(element);
        }
    }
}

} // namespace eddy
