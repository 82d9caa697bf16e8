// eddy/stream/take_while.hpp - eddy::take_while(pred): elements while pred holds, fused.
#pragma once

#include <functional>  // std::invoke
#include <optional>    // std::optional
#include <type_traits> // std::decay_t, std::type_identity_t
#include <utility>     // std::as_const, std::move, std::forward

#include <eddy/stream/filter.hpp> // detail::predicate_for
#include <eddy/stream/pipeline.hpp>

namespace eddy {

namespace detail {
template <class Pred, class In>
struct take_while_output {
    static_assert(predicate_for<Pred, In>,
                  "eddy::take_while: the predicate cannot be called with a const reference to "
                  "the stream's element type, or its result does not convert to bool");
    using type = In;
};
} // namespace detail

/// The stage of `eddy::take_while`: passes elements on until `pred` is first false, then is
/// done (the element that failed is dropped).
template <class Pred>
struct take_while_stage {
    using fused_stage_tag = void;
    template <class In>
    using output = typename detail::take_while_output<Pred, In>::type;

    template <class In>
    std::optional<In> process(std::type_identity_t<In>&& element) {
        if (static_cast<bool>(std::invoke(m_pred, std::as_const(element)))) {
            return std::optional<In>(std::move(element));
        }
        m_done = true;
        return std::nullopt;
    }
    [[nodiscard]] bool done() const noexcept { return m_done; }

    [[no_unique_address]] Pred m_pred;
    bool m_done = false;
};

/// A pipeline stage that passes on elements while `pred(x)` is true (called with a const
/// reference) and ends the pipeline at the first element for which it is false: that element
/// is dropped and the source is not pulled again.
///
/// Synchronous and fused (see `eddy::pipeline`); moves elements, never copies them.
/// Preconditions (static_assert): `pred` is callable with `const T&` and returns something
/// convertible to bool. An exception of `pred` reaches the puller and ends the pipeline.
/// Lifetime: `pred` is stored by value (decayed) in the pipeline.
/// Thread-safety: none.
///
///     auto small = naturals() | eddy::take_while([](int x) { return x < 4; }); // 1, 2, 3
template <class Pred>
[[nodiscard]] take_while_stage<std::decay_t<Pred>> take_while(Pred&& pred) {
    return take_while_stage<std::decay_t<Pred>>{std::forward<Pred>(pred)};
}

} // namespace eddy
