// eddy/es/aggregate.hpp - eddy::aggregate<Derived, Events>, the CRTP base of an event-sourced
// aggregate: raise events, apply them, track what is not yet committed.
#pragma once

#include <cstdint>     // std::uint64_t
#include <string>      // std::string
#include <type_traits> // std::is_same_v, std::remove_cvref_t
#include <utility>     // std::move, std::forward
#include <variant>     // std::visit
#include <vector>      // std::vector

#include <eddy/es/detail/event_dispatch_checks.hpp>
#include <eddy/es/named_event.hpp>

namespace eddy {

/// The base of an event-sourced aggregate (CRTP): `Derived` changes state only in its
/// `apply(const E&)` overloads, one per alternative `E` of `Events` (a `std::variant` of named
/// events); its command methods call `raise(e)`, which applies `e` and records it as
/// uncommitted. `eddy::repository` loads (replaying history) and saves (appending the
/// uncommitted events with `version()` as the expected version, then `mark_committed()`).
///
/// Versions: `version()` is the stream version the aggregate's committed state is at (0 for a
/// new one); raised events are versions `version() + 1 ...` once committed.
/// Compile-time check: constructing a `Derived` checks that `apply` accepts every event type; a
/// missing overload is an error naming it (`missing_apply_for_event<the_event>`). `apply` must
/// be public (or `Derived` befriends this base).
/// Eager, synchronous. Errors: whatever `apply` throws propagates (the event is then neither
/// applied nor recorded by `raise`). Thread-safety: none; one owner at a time.
///
///     struct account : eddy::aggregate<account, account_events> {
///         long balance = 0;
///         void deposit(long n) { raise(deposited{n}); }
///         void apply(const deposited& e) { balance += e.amount; }
///     };
template <class Derived, event_variant Events>
class aggregate {
public:
    using events_type = Events;

    /// The stream id (set by the repository on load, or by the owner for a new aggregate).
    [[nodiscard]] const std::string& id() const noexcept { return m_id; }
    void set_id(std::string id) { m_id = std::move(id); }

    /// The stream version of the committed state (0: nothing committed).
    [[nodiscard]] std::uint64_t version() const noexcept { return m_version; }

    /// The events raised since the last load or commit, in order.
    [[nodiscard]] const std::vector<Events>& uncommitted() const noexcept { return m_uncommitted; }

    /// Records the uncommitted events as committed: `version()` grows by their number.
    void mark_committed() noexcept {
        m_version += m_uncommitted.size();
        m_uncommitted.clear();
    }

    /// Applies a committed event from history (the next version of the stream).
    void replay(const Events& e) {
        dispatch(e);
        ++m_version;
    }

    /// Starts the history at `version` instead of 0 (a repository loading a stream whose
    /// earlier events were soft-deleted or truncated); only meaningful before any replay.
    void rebase(std::uint64_t version) noexcept { m_version = version; }

    /// A `Derived` with id `id` rebuilt from its history (events of versions 1, 2, ...).
    template <class Range>
    [[nodiscard]] static Derived from_history(std::string id, const Range& history) {
        Derived d;
        d.set_id(std::move(id));
        for (const auto& e : history) {
            d.replay(e);
        }
        return d;
    }

    // Public: a protected one would stop `Derived{}` when Derived is a C++20 aggregate.
    aggregate() noexcept {
        // Here Derived is complete (it is being constructed), so its overloads can be checked.
        static_assert(detail::check_apply_all<Derived, Events>::value);
    }

protected:
    /// Applies `e` to the state and records it as uncommitted. `E` is one of the event types
    /// (or `Events` itself).
    template <class E>
    void raise(E&& e) {
        using event = std::remove_cvref_t<E>;
        static_assert(std::is_same_v<event, Events> || std::is_constructible_v<Events, event>,
                      "eddy::aggregate::raise: the type is not one of the aggregate's events");
        Events wrapped(std::forward<E>(e));
        dispatch(wrapped);
        m_uncommitted.push_back(std::move(wrapped));
    }

private:
    void dispatch(const Events& e) {
        Derived& self = static_cast<Derived&>(*this);
        std::visit([&self](const auto& x) { self.apply(x); }, e);
    }

    std::string m_id;
    std::uint64_t m_version = 0;
    std::vector<Events> m_uncommitted;
};

} // namespace eddy
