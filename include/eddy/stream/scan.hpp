// eddy/stream/scan.hpp - eddy::scan(initial, f): each running accumulation, fused.
#pragma once

#include <concepts>    // std::convertible_to, std::copy_constructible
#include <functional>  // std::invoke
#include <optional>    // std::optional
#include <type_traits> // std::decay_t, std::invoke_result, std::type_identity_t
#include <utility>     // std::move, std::forward

#include <eddy/stream/pipeline.hpp>

namespace eddy {

namespace detail {
template <class Acc, class F, class In>
struct scan_output {
    static constexpr bool invocable = std::is_invocable_v<F&, Acc&&, In&&>;
    static_assert(invocable, "eddy::scan: the function cannot be called with (accumulator, "
                             "element): it must take the accumulator and the stream's element");
    using result = typename std::conditional_t<invocable, std::invoke_result<F&, Acc&&, In&&>,
                                               std::type_identity<Acc>>::type;
    static_assert(std::convertible_to<result, Acc>,
                  "eddy::scan: the function's result does not convert to the accumulator type");
    using type = Acc;
};
} // namespace detail

/// The stage of `eddy::scan`: `acc = f(std::move(acc), std::move(element))`, passes a copy of
/// `acc` on.
template <class Acc, class F>
struct scan_stage {
    static_assert(std::copy_constructible<Acc>,
                  "eddy::scan: the accumulator must be copyable (each step emits a copy of it)");

    using fused_stage_tag = void;
    template <class In>
    using output = typename detail::scan_output<Acc, F, In>::type;

    template <class In>
    std::optional<Acc> process(std::type_identity_t<In>&& element) {
        m_acc = static_cast<Acc>(std::invoke(m_f, std::move(m_acc), std::move(element)));
        return std::optional<Acc>(m_acc);
    }
    [[nodiscard]] bool done() const noexcept { return false; }

    Acc m_acc;
    [[no_unique_address]] F m_f;
};

/// A pipeline stage that emits each running accumulation: for elements x1, x2, ... it emits
/// `a1 = f(initial, x1)`, `a2 = f(a1, x2)`, ... (not `initial` itself; an empty source gives
/// an empty pipeline). The accumulator is moved into `f`; each emitted value is a copy of it.
///
/// Synchronous and fused (see `eddy::pipeline`).
/// Preconditions (static_assert): `f(Acc&&, T&&)` is valid and returns something convertible
/// to `Acc`; `Acc` (the decayed type of `initial`) is copyable. An exception of `f` reaches
/// the puller and ends the pipeline (the accumulator is then unspecified, never read again).
/// Lifetime: `initial` and `f` are stored by value (decayed) in the pipeline.
/// Thread-safety: none.
///
///     auto sums = count_to(4) | eddy::scan(0, [](int a, int x) { return a + x; }); // 1 3 6 10
template <class Acc, class F>
[[nodiscard]] scan_stage<std::decay_t<Acc>, std::decay_t<F>> scan(Acc&& initial, F&& f) {
    return scan_stage<std::decay_t<Acc>, std::decay_t<F>>{std::forward<Acc>(initial),
                                                          std::forward<F>(f)};
}

} // namespace eddy
