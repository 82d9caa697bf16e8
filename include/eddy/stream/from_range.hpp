// eddy/stream/from_range.hpp - eddy::from(range): a synchronous stream source over a range.
#pragma once

#include <memory>      // std::unique_ptr, std::make_unique
#include <optional>    // std::optional, std::in_place
#include <ranges>      // std::ranges::input_range, std::ranges::view, std::ranges::begin
#include <type_traits> // std::is_lvalue_reference_v
#include <utility>     // std::move

#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>

namespace eddy {

/// The elements of a range as a stream source: `co_await r.next()` yields the next element, or
/// an empty optional at the end, and always completes without suspending (no coroutine frame
/// per element). Returned by `eddy::from(range)`; converts implicitly (from an rvalue) to
/// `eddy::stream<value_type>`, and fused operators over it (`from(v) | map(f) | filter(g)`)
/// stay synchronous, so sinks run the whole chain as one plain loop.
///
/// Lazy: `begin()` is taken at the first pull; each pull reads one element.
/// Where the awaiter resumes: it never suspends. `next_sync()` is the same pull as a plain call.
/// Errors: an exception of the range's iterator reaches the pull that caused it; the source
/// then ends. Cancellation: none needed (it never waits).
/// Lifetime: owns the range (moved to the heap once, so moving the source keeps iterators
/// valid). An owning range's elements are moved out; a view's lvalue elements are copied, since
/// the view only refers to them, and what a view refers to must outlive the source.
/// Thread-safety: none; one consumer pulls.
template <std::ranges::input_range R>
class [[nodiscard]] range_stream {
public:
    using value_type = std::ranges::range_value_t<R>;
    static constexpr bool is_synchronous = true;

    explicit range_stream(R range) : m_state(std::make_unique<state>(std::move(range))) {}

    /// An awaitable that is ready at once and yields the next element (see `next_sync`).
    [[nodiscard]] detail::ready_pull<range_stream> next() noexcept {
        return detail::ready_pull<range_stream>(*this);
    }

    /// The next element, or an empty optional at the end (and after an exception).
    [[nodiscard]] std::optional<value_type> next_sync() {
        state& s = *m_state;
        if (s.ended) {
            return std::nullopt;
        }
        try {
            // The iterator advances at the start of the next pull, not after a take, so a
            // lazy range (a generator) computes nothing ahead of its consumer.
            if (!s.position) {
                s.position.emplace(std::ranges::begin(s.range));
            } else {
                ++*s.position;
            }
            if (*s.position == std::ranges::end(s.range)) {
                s.ended = true;
                return std::nullopt;
            }
            return take(*s.position);
        } catch (...) {
            s.ended = true;
            throw;
        }
    }

    /// The source as a coroutine stream (one frame, no copies of elements).
    operator stream<value_type>() && { return drain(std::move(*this)); }

private:
    struct state {
        explicit state(R r) : range(std::move(r)) {}
        R range;
        std::optional<std::ranges::iterator_t<R>> position;
        bool ended = false;
    };

    static std::optional<value_type> take(std::ranges::iterator_t<R>& it) {
        if constexpr (std::ranges::view<R> &&
                      std::is_lvalue_reference_v<std::ranges::range_reference_t<R>>) {
            return std::optional<value_type>(std::in_place, *it); // a view: copy
        } else {
            return std::optional<value_type>(std::in_place, std::move(*it));
        }
    }

    static stream<value_type> drain(range_stream source) {
        for (;;) {
            std::optional<value_type> v = source.next_sync();
            if (!v) {
                break;
            }
            co_yield std::move(*v);
        }
    }

    std::unique_ptr<state> m_state;
};

/// A stream source of the elements of `range`, in order (see `eddy::range_stream`).
///
/// `range` is taken by value (pass an lvalue to copy it, an rvalue to move it).
/// `eddy::generator<T>` works (its elements move).
///
///     std::vector<std::string> names{"a", "b"};
///     eddy::stream<std::string> s = eddy::from(std::move(names)); // "a", "b" (moved)
template <std::ranges::input_range R>
[[nodiscard]] range_stream<R> from(R range) {
    return range_stream<R>(std::move(range));
}

} // namespace eddy
