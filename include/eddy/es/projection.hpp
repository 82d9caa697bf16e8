// eddy/es/projection.hpp - the eddy::projection concept: a read model fed with events.
#pragma once

#include <concepts>    // std::same_as, std::constructible_from
#include <string>      // std::string
#include <type_traits> // std::is_void_v

#include <eddy/core/task.hpp>
#include <eddy/es/event_envelope.hpp>

namespace eddy {

/// A projection of the events `Events`: a `name()` (its checkpoint key) and
/// `handle(const event_envelope<Events>&)` returning `void` or `task<void>`, which updates its
/// read model; optionally `reset()` (`void` or `task<void>`), which clears the read model
/// before a replay.
template <class P, class Events>
concept projection = requires(P& p, const event_envelope<Events>& e) {
    requires std::constructible_from<std::string, decltype(p.name())>;
    p.handle(e);
    requires std::is_void_v<decltype(p.handle(e))> ||
        std::same_as<decltype(p.handle(e)), task<void>>;
};

} // namespace eddy
