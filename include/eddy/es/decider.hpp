// eddy/es/decider.hpp - eddy::decider, the functional alternative to an aggregate class, and
// eddy::decider_aggregate<D>, which lets a repository load and save one.
#pragma once

#include <concepts> // std::same_as
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint64_t
#include <string>   // std::string
#include <utility>  // std::move
#include <variant>  // std::visit
#include <vector>   // std::vector

#include <eddy/es/detail/event_dispatch_checks.hpp>
#include <eddy/es/named_event.hpp>

namespace eddy {

/// A decider: pure functions over a state, as static members of `D`:
/// `D::initial_state()`, `D::decide(const command_type&, const state_type&)` returning
/// `std::vector<event_type>`, and `D::evolve(const state_type&, const E&)` returning the next
/// `state_type`, called by eddy with each alternative `E` of `event_type` (a `std::variant` of
/// named events). `eddy::decider_aggregate<D>` checks at compile time that `evolve` accepts
/// every event type (a missing one is an error naming it: `missing_evolve_for_event<E>`).
///
///     struct cart {
///         using state_type = int; using command_type = add_items;
///         using event_type = std::variant<item_added>;
///         static int initial_state() { return 0; }
///         static std::vector<event_type> decide(const add_items& c, const int& s);
///         static int evolve(const int& s, const item_added&) { return s + 1; }
///     };
template <class D>
concept decider = requires {
    typename D::state_type;
    typename D::command_type;
    typename D::event_type;
}
&&event_variant<typename D::event_type>&& requires(const typename D::command_type& c,
                                                   const typename D::state_type& s) {
    { D::initial_state() } -> std::same_as<typename D::state_type>;
    { D::decide(c, s) } -> std::same_as<std::vector<typename D::event_type>>;
};

/// `D::evolve` applied to the alternative `e` holds.
template <decider D>
[[nodiscard]] typename D::state_type evolve_with(const typename D::state_type& state,
                                                 const typename D::event_type& e) {
    static_assert(
        detail::check_evolve_all<D, typename D::state_type, typename D::event_type>::value);
    return std::visit(
        [&state](const auto& x) -> typename D::state_type { return D::evolve(state, x); }, e);
}

/// A decider's state with the bookkeeping of an aggregate, so `eddy::repository` loads and
/// saves it like an `eddy::aggregate` (same members: id, version, uncommitted, mark_committed,
/// replay).
///
/// `handle(command)` asks `D::decide` for the events and evolves the state through them one
/// after the other, each event seeing the state the previous one produced (never all from the
/// state before the decision), then records them as uncommitted.
/// Eager, synchronous. Errors: what `decide`/`evolve` throw propagates; then nothing of the
/// decision is applied or recorded. Thread-safety: none; one owner at a time.
///
///     eddy::decider_aggregate<cart> c;
///     c.handle(add_items{3}); // c.state() == 3, c.uncommitted().size() == 3
template <decider D>
class decider_aggregate {
public:
    using decider_type = D;
    using state_type = typename D::state_type;
    using events_type = typename D::event_type;
    using command_type = typename D::command_type;

    decider_aggregate() : m_state(D::initial_state()) {
        static_assert(detail::check_evolve_all<D, state_type, events_type>::value);
    }

    [[nodiscard]] const std::string& id() const noexcept { return m_id; }
    void set_id(std::string id) { m_id = std::move(id); }
    [[nodiscard]] const state_type& state() const noexcept { return m_state; }
    [[nodiscard]] std::uint64_t version() const noexcept { return m_version; }
    [[nodiscard]] const std::vector<events_type>& uncommitted() const noexcept {
        return m_uncommitted;
    }
    void mark_committed() noexcept {
        m_version += m_uncommitted.size();
        m_uncommitted.clear();
    }
    void replay(const events_type& e) {
        m_state = evolve_with<D>(m_state, e);
        ++m_version;
    }
    /// Starts the history at `version` (see `eddy::aggregate::rebase`).
    void rebase(std::uint64_t version) noexcept { m_version = version; }

    /// Decides on `command` and applies the resulting events in order; returns how many.
    std::size_t handle(const command_type& command) {
        std::vector<events_type> events = D::decide(command, m_state);
        state_type next = m_state;
        for (const events_type& e : events) {
            next = evolve_with<D>(next, e);
        }
        m_state = std::move(next);
        for (events_type& e : events) {
            m_uncommitted.push_back(std::move(e));
        }
        return events.size();
    }

private:
    std::string m_id;
    state_type m_state;
    std::uint64_t m_version = 0;
    std::vector<events_type> m_uncommitted;
};

} // namespace eddy
