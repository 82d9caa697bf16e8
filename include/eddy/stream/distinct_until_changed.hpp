// eddy/stream/distinct_until_changed.hpp - eddy::distinct_until_changed(): drops an element equal
// to the one emitted before it; fused.
#pragma once

#include <concepts>    // std::copy_constructible, std::equality_comparable, std::convertible_to
#include <functional>  // std::invoke
#include <memory>      // std::unique_ptr
#include <optional>    // std::optional
#include <type_traits> // std::decay_t, std::is_same_v, std::type_identity_t
#include <utility>     // std::as_const, std::move, std::forward

#include <eddy/stream/pipeline.hpp>

namespace eddy {

namespace detail {
// The comparison of distinct_until_changed() without an argument: `==`.
struct equal_by_operator {
    template <class T>
    bool operator()(const T& a, const T& b) const {
        return static_cast<bool>(a == b);
    }
};

template <class Eq, class In>
inline constexpr bool equality_predicate_for = std::is_invocable_v<Eq&, const In&, const In&>&&
    std::convertible_to<typename std::conditional_t<std::is_invocable_v<Eq&, const In&, const In&>,
                                                    std::invoke_result<Eq&, const In&, const In&>,
                                                    std::type_identity<bool>>::type,
                        bool>;

template <class Eq, class In>
struct distinct_output {
    static_assert(std::copy_constructible<In>,
                  "eddy::distinct_until_changed: the element type must be copyable (the stage "
                  "keeps a copy of the last element it emitted)");
    static constexpr bool by_operator = std::is_same_v<Eq, equal_by_operator>;
    static_assert(!by_operator || std::equality_comparable<In>,
                  "eddy::distinct_until_changed: the element type has no operator==; pass an "
                  "equality predicate: distinct_until_changed(eq)");
    static_assert(by_operator || equality_predicate_for<Eq, In>,
                  "eddy::distinct_until_changed: the predicate cannot be called with two const "
                  "references to the stream's element type, or its result does not convert to "
                  "bool");
    using type = In;
};

// The last emitted element. A stage is created before it is piped, so its element type is
// learnt at the first element: then one allocation, reused (assigned in place) for the
// pipeline's lifetime. A copy starts empty: stages are copied only before use (a pipeline,
// which owns a used stage, is move-only).
class last_element {
public:
    last_element() noexcept = default;
    last_element(const last_element&) noexcept : last_element() {}
    last_element(last_element&&) noexcept = default;
    last_element& operator=(const last_element&) noexcept {
        m_held.reset();
        return *this;
    }
    last_element& operator=(last_element&&) noexcept = default;

    // The element slot for type T (the same T at every call of one stage).
    template <class T>
    std::optional<T>& slot() {
        if (!m_held) {
            m_held = holder(new std::optional<T>(),
                            [](void* p) { delete static_cast<std::optional<T>*>(p); });
        }
        return *static_cast<std::optional<T>*>(m_held.get());
    }

private:
    using holder = std::unique_ptr<void, void (*)(void*)>;
    holder m_held{nullptr, [](void*) {}};
};
} // namespace detail

/// The stage of `eddy::distinct_until_changed`: drops an element equal (by `m_eq`) to the
/// last one it passed on, and keeps a copy of each one it passes on.
template <class Eq>
struct distinct_until_changed_stage {
    using fused_stage_tag = void;
    template <class In>
    using output = typename detail::distinct_output<Eq, In>::type;

    template <class In>
    std::optional<In> process(std::type_identity_t<In>&& element) {
        std::optional<In>& last = m_last.template slot<In>();
        if (last &&
            static_cast<bool>(std::invoke(m_eq, std::as_const(*last), std::as_const(element)))) {
            return std::nullopt;
        }
        if constexpr (std::is_copy_assignable_v<In>) {
            if (last) {
                *last = element; // reuses the held element's resources (a string's buffer)
            } else {
                last.emplace(element);
            }
        } else {
            last.emplace(element);
        }
        return std::optional<In>(std::move(element));
    }
    [[nodiscard]] bool done() const noexcept { return false; }

    [[no_unique_address]] Eq m_eq;
    detail::last_element m_last;
};

/// A pipeline stage that drops each element equal (`==`) to the last element it passed on,
/// so runs of equal elements collapse to their first: 1 1 2 2 2 1 gives 1 2 1.
///
/// Synchronous and fused (see `eddy::pipeline`). Copies each element it passes on (one copy:
/// the last one is kept to compare the next with), allocated once per pipeline at the first
/// element.
/// Preconditions (static_assert): the element type is copyable and equality comparable.
/// Errors: an exception of `==` or of the copy reaches the puller and ends the pipeline.
/// Lifetime: the last element lives in the pipeline; copying the stage (before it is piped)
/// copies no element.
/// Thread-safety: none.
///
///     auto s = eddy::just(1, 1, 2, 2, 2, 1) | eddy::distinct_until_changed(); // 1, 2, 1
[[nodiscard]] inline distinct_until_changed_stage<detail::equal_by_operator>
distinct_until_changed() {
    return {};
}

/// As above, with `eq(last, element)` (two const references) deciding equality: true drops
/// the element. Preconditions (static_assert): `eq` is callable so and returns something
/// convertible to bool; the element type is copyable. `eq` is stored by value (decayed).
///
///     auto s = words() | eddy::distinct_until_changed(same_ignoring_case);
template <class Eq>
[[nodiscard]] distinct_until_changed_stage<std::decay_t<Eq>> distinct_until_changed(Eq&& eq) {
    return distinct_until_changed_stage<std::decay_t<Eq>>{std::forward<Eq>(eq), {}};
}

} // namespace eddy
