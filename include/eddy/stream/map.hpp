// eddy/stream/map.hpp - eddy::map(f): each element transformed, fused into a pipeline.
#pragma once

#include <functional>  // std::invoke
#include <optional>    // std::optional, std::in_place
#include <type_traits> // std::decay_t, std::invoke_result, std::type_identity_t
#include <utility>     // std::move, std::forward

#include <eddy/stream/pipeline.hpp>

namespace eddy {

namespace detail {
template <class F, class In>
struct map_output {
    static_assert(std::is_invocable_v<F&, In&&>,
                  "eddy::map: the function cannot be called with the stream's element type");
    using result =
        typename std::conditional_t<std::is_invocable_v<F&, In&&>, std::invoke_result<F&, In&&>,
                                    std::type_identity<In>>::type;
    static_assert(!std::is_void_v<result>,
                  "eddy::map: the function returns void; a stream needs a value per element");
    using type = std::conditional_t<std::is_void_v<result>, In, std::remove_cvref_t<result>>;
};
} // namespace detail

/// The stage of `eddy::map`: calls `f(std::move(element))` and passes the result on.
template <class F>
struct map_stage {
    using fused_stage_tag = void;
    template <class In>
    using output = typename detail::map_output<F, In>::type;

    template <class In>
    std::optional<output<In>> process(std::type_identity_t<In>&& element) {
        return std::optional<output<In>>(std::in_place, std::invoke(m_f, std::move(element)));
    }
    [[nodiscard]] bool done() const noexcept { return false; }

    [[no_unique_address]] F m_f;
};

/// A pipeline stage that replaces each element `x` by `f(std::move(x))` (decayed: a function
/// returning a reference yields copies of what it refers to).
///
/// Synchronous and fused: `s | eddy::map(f)` is an `eddy::pipeline`, no coroutine frame of its
/// own; it runs where the consumer pulls (see `eddy::pipeline`).
/// Preconditions (static_assert): `f` is callable with an rvalue of the element type and
/// returns a value. An exception of `f` reaches the puller and ends the pipeline.
/// Lifetime: `f` is stored by value (decayed) in the pipeline.
/// Thread-safety: none; `f` is called by the one consumer.
///
///     auto squares = count_to(3) | eddy::map([](int x) { return x * x; }); // 1, 4, 9
template <class F>
[[nodiscard]] map_stage<std::decay_t<F>> map(F&& f) {
    return map_stage<std::decay_t<F>>{std::forward<F>(f)};
}

} // namespace eddy
