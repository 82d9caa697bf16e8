// eddy/stream/filter.hpp - eddy::filter(pred): only the elements that satisfy pred, fused.
#pragma once

#include <concepts>    // std::convertible_to
#include <functional>  // std::invoke
#include <optional>    // std::optional
#include <type_traits> // std::decay_t, std::invoke_result, std::type_identity_t
#include <utility>     // std::as_const, std::move, std::forward

#include <eddy/stream/pipeline.hpp>

namespace eddy {

namespace detail {
// Shared by filter and take_while: a predicate called with `const In&`, returning a bool.
template <class Pred, class In>
inline constexpr bool predicate_for = std::is_invocable_v<Pred&, const In&>&&
    std::convertible_to<typename std::conditional_t<std::is_invocable_v<Pred&, const In&>,
                                                    std::invoke_result<Pred&, const In&>,
                                                    std::type_identity<bool>>::type,
                        bool>;

template <class Pred, class In>
struct filter_output {
    static_assert(predicate_for<Pred, In>,
                  "eddy::filter: the predicate cannot be called with a const reference to the "
                  "stream's element type, or its result does not convert to bool");
    using type = In;
};
} // namespace detail

/// The stage of `eddy::filter`: passes an element on when `pred(element)` is true.
template <class Pred>
struct filter_stage {
    using fused_stage_tag = void;
    template <class In>
    using output = typename detail::filter_output<Pred, In>::type;

    template <class In>
    std::optional<In> process(std::type_identity_t<In>&& element) {
        if (static_cast<bool>(std::invoke(m_pred, std::as_const(element)))) {
            return std::optional<In>(std::move(element));
        }
        return std::nullopt;
    }
    [[nodiscard]] bool done() const noexcept { return false; }

    [[no_unique_address]] Pred m_pred;
};

/// A pipeline stage that keeps the elements `x` for which `pred(x)` is true (called with a
/// const reference; the element is then moved on, never copied) and drops the others.
///
/// Synchronous and fused: one `next()` pulls the source as often as it takes to find an
/// element that passes (or the end), in a loop, in constant stack (see `eddy::pipeline`).
/// Preconditions (static_assert): `pred` is callable with `const T&` and returns something
/// convertible to bool. An exception of `pred` reaches the puller and ends the pipeline.
/// Lifetime: `pred` is stored by value (decayed) in the pipeline.
/// Thread-safety: none; `pred` is called by the one consumer.
///
///     auto evens = count_to(6) | eddy::filter([](int x) { return x % 2 == 0; }); // 2, 4, 6
template <class Pred>
[[nodiscard]] filter_stage<std::decay_t<Pred>> filter(Pred&& pred) {
    return filter_stage<std::decay_t<Pred>>{std::forward<Pred>(pred)};
}

} // namespace eddy
