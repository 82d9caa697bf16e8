// eddy/stream/concat_map.hpp - eddy::concat_map(f): each element to a stream or task, their
// values one inner operation after another.
#pragma once

#include <functional>  // std::invoke
#include <optional>    // std::optional
#include <type_traits> // std::decay_t, std::invoke_result, std::is_invocable_v
#include <utility>     // std::move, std::forward

#include <eddy/core/task.hpp>
#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/detail/flat_map_inner.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

namespace detail {
template <class F, class In>
struct concat_map_output {
    static_assert(std::is_invocable_v<F&, In&&>,
                  "eddy::concat_map: the function cannot be called with the stream's element "
                  "type");
    using result = std::remove_cvref_t<
        typename std::conditional_t<std::is_invocable_v<F&, In&&>, std::invoke_result<F&, In&&>,
                                    std::type_identity<task<int>>>::type>;
    static_assert(flat_map_inner<result>::valid,
                  "eddy::concat_map: the function must return an eddy::stream<U> (or a "
                  "pipeline) or an eddy::task<U> with U a non-void, non-reference type");
    static constexpr bool valid = std::is_invocable_v<F&, In&&> && flat_map_inner<result>::valid;
    using type = typename flat_map_inner<result>::value_type;
};

template <class U, class T, class F>
stream<U> concat_map_body(stream<T> upstream, F f) {
    for (;;) {
        std::optional<T> element = co_await upstream.next();
        if (!element) {
            break;
        }
        stream<U> inner = flat_map_as_stream(std::invoke(f, std::move(*element)));
        for (;;) {
            std::optional<U> value = co_await inner.next();
            if (!value) {
                break;
            }
            co_yield std::move(*value);
        }
    }
}
} // namespace detail

/// The stage of `eddy::concat_map`: `s | concat_map(f)` is `concat_map_stage::apply(s)`.
template <class F>
struct concat_map_stage {
    using async_stage_tag = void;

    template <class T>
    [[nodiscard]] stream<typename detail::concat_map_output<F, T>::type>
    apply(stream<T> upstream) && {
        using output = detail::concat_map_output<F, T>;
        if constexpr (output::valid) {
            return detail::concat_map_body<typename output::type>(std::move(upstream),
                                                                  std::move(m_f));
        } else {
            return {};
        }
    }

    [[no_unique_address]] F m_f;
};

/// An async stage that maps each element `x` to an inner operation `f(std::move(x))`, an
/// `eddy::stream<U>` (or a pipeline) or an `eddy::task<U>` (one value), and yields all the
/// values of the first inner operation, then of the second, ...: upstream order, one at a time
/// (`eddy::flat_map(f, 1)` without the background work).
///
/// Lazy: nothing runs before the first `next()`; the upstream is pulled, and `f` called, only
/// once the previous inner operation has ended (and been destroyed). No background work and
/// no look-ahead: each `next()` pulls the current inner stream, or the upstream, directly.
/// Where the awaiter resumes: where the upstream or the current inner operation resumed it.
/// Errors: an exception of the upstream, of `f` or of an inner operation is rethrown by
/// `next()` and ends the stream.
/// Cancellation: the upstream and the inner operation see the stop token of the coroutine
/// awaiting `next()`.
/// Preconditions: `f` callable with an rvalue of the element type, returning a stream,
/// pipeline or task of a value (static_assert naming eddy::concat_map).
/// Lifetime: `f` is stored by value; destroying the stream destroys the upstream and the
/// current inner operation.
/// Thread-safety: none; one consumer pulls.
///
///     auto lines = eddy::from(files) | eddy::concat_map(read_lines); // file by file, in order
template <class F>
[[nodiscard]] concat_map_stage<std::decay_t<F>> concat_map(F&& f) {
    return concat_map_stage<std::decay_t<F>>{std::forward<F>(f)};
}

} // namespace eddy
