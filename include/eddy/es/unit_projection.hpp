// eddy/es/unit_projection.hpp - the eddy::unit_projection concept: a read model that writes
// through a unit of work, so its writes commit with its checkpoint.
#pragma once

#include <concepts>    // std::same_as, std::constructible_from
#include <string>      // std::string
#include <type_traits> // std::is_void_v

#include <eddy/core/task.hpp>
#include <eddy/es/event_envelope.hpp>

namespace eddy {

/// A projection of the events `Events` whose handler takes the unit of work of one event:
/// a `name()` (its checkpoint key) and `handle(const event_envelope<Events>&, Unit&)` returning
/// `void` or `task<void>`, which adds its read-model writes to the unit (for the memory storage:
/// `unit.on_commit(...)`; for SQL storages: statements in the unit's transaction); optionally
/// `reset()` like `eddy::projection`. `eddy::projector` saves the checkpoint in the same unit
/// and commits it: the read-model write and the checkpoint happen together or not at all.
///
///     struct totals {
///         std::string_view name() const { return "totals"; }
///         void handle(const eddy::event_envelope<events>& e, eddy::memory_unit_of_work& u) {
///             u.on_commit([this] { ++count; });
///         }
///         int count = 0;
///     };
template <class P, class Events, class Unit>
concept unit_projection = requires(P& p, const event_envelope<Events>& e, Unit& unit) {
    requires std::constructible_from<std::string, decltype(p.name())>;
    p.handle(e, unit);
    requires std::is_void_v<decltype(p.handle(e, unit))> ||
        std::same_as<decltype(p.handle(e, unit)), task<void>>;
};

} // namespace eddy
