// eddy/stream/tap.hpp - eddy::tap(f): f sees each element, which passes on unchanged; fused.
#pragma once

#include <functional>  // std::invoke
#include <optional>    // std::optional
#include <type_traits> // std::decay_t, std::is_invocable_v, std::type_identity_t
#include <utility>     // std::as_const, std::move, std::forward

#include <eddy/stream/pipeline.hpp>

namespace eddy {

namespace detail {
template <class F, class In>
struct tap_output {
    static_assert(std::is_invocable_v<F&, const In&>,
                  "eddy::tap: the function cannot be called with a const reference to the "
                  "stream's element type");
    using type = In;
};
} // namespace detail

/// The stage of `eddy::tap`: calls `f(element)` (a const reference) and passes the element on.
template <class F>
struct tap_stage {
    using fused_stage_tag = void;
    template <class In>
    using output = typename detail::tap_output<F, In>::type;

    template <class In>
    std::optional<In> process(std::type_identity_t<In>&& element) {
        std::invoke(m_f, std::as_const(element));
        return std::optional<In>(std::move(element));
    }
    [[nodiscard]] bool done() const noexcept { return false; }

    [[no_unique_address]] F m_f;
};

/// A pipeline stage that calls `f(x)` with a const reference to each element `x`, for its
/// side effect (logging, metrics, a counter), and passes `x` on unchanged (moved, never
/// copied); `f`'s result is ignored.
///
/// Synchronous and fused: no coroutine frame of its own; `f` runs when the element is pulled
/// through, where the consumer pulls (see `eddy::pipeline`).
/// Preconditions (static_assert): `f` is callable with `const T&`. An exception of `f`
/// reaches the puller and ends the pipeline (the element is not emitted).
/// Lifetime: `f` is stored by value (decayed) in the pipeline.
/// Thread-safety: none; `f` is called by the one consumer.
///
///     int seen = 0;
///     auto s = count_to(3) | eddy::tap([&seen](int) { ++seen; }); // 1, 2, 3; then seen == 3
template <class F>
[[nodiscard]] tap_stage<std::decay_t<F>> tap(F&& f) {
    return tap_stage<std::decay_t<F>>{std::forward<F>(f)};
}

} // namespace eddy
