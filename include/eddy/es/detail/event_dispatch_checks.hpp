// eddy/es/detail/event_dispatch_checks.hpp - compile-time checks that a handler has an overload
// for every event type; a missing one fails in a class template named after the event, so the
// diagnostic names the event type.
#pragma once

#include <variant> // std::variant

namespace eddy::detail {

template <class E>
inline constexpr bool dependent_false_v = false;

// Instantiated only for an event type without an `apply` overload: the compiler prints
// "missing_apply_for_event<the_event>" in the instantiation context of this error.
template <class E>
struct missing_apply_for_event {
    static_assert(dependent_false_v<E>,
                  "eddy::aggregate: the aggregate has no `apply(const E&)` for the event type E "
                  "of missing_apply_for_event<E> (every alternative of the events variant needs "
                  "one)");
};

template <class E>
struct missing_evolve_for_event {
    static_assert(dependent_false_v<E>,
                  "eddy::decider: `evolve(const state_type&, const E&)` is missing for the event "
                  "type E of missing_evolve_for_event<E> (every alternative of event_type needs "
                  "one)");
};

template <class Derived, class E>
consteval bool check_apply_for() {
    if constexpr (requires(Derived & d, const E& e) { d.apply(e); }) {
        return true;
    } else {
        return sizeof(missing_apply_for_event<E>) == 0;
    }
}

template <class Derived, class Events>
struct check_apply_all;
template <class Derived, class... E>
struct check_apply_all<Derived, std::variant<E...>> {
    static constexpr bool value = (check_apply_for<Derived, E>() && ...);
};

template <class D, class State, class E>
consteval bool check_evolve_for() {
    if constexpr (requires(const State& s, const E& e) { {D::evolve(s, e)}; }) {
        return true;
    } else {
        return sizeof(missing_evolve_for_event<E>) == 0;
    }
}

template <class D, class State, class Events>
struct check_evolve_all;
template <class D, class State, class... E>
struct check_evolve_all<D, State, std::variant<E...>> {
    static constexpr bool value = (check_evolve_for<D, State, E>() && ...);
};

} // namespace eddy::detail
