// eddy/es/proposed_event.hpp - eddy::proposed_event<E>, an event handed to an event store's
// append.
#pragma once

#include <type_traits> // std::is_constructible_v
#include <utility>     // std::forward, std::move

#include <eddy/es/event_metadata.hpp>
#include <eddy/es/uuid.hpp>

namespace eddy {

/// An event handed to `append`: payload and metadata, and optionally its id (a nil id lets the
/// store assign a fresh UUID v7). Implicit from the payload (or anything `E` is made from).
///
///     std::vector<eddy::proposed_event<events>> batch{order_placed{"ann"}};
template <class E>
struct proposed_event {
    E payload;
    event_metadata metadata;
    uuid event_id;

    template <class P>
        requires std::is_constructible_v<E, P&&>
        proposed_event(P&& p, event_metadata md = {}, uuid id = {}) // NOLINT: implicit on purpose
            : payload(std::forward<P>(p)), metadata(std::move(md)), event_id(id) {}

        friend bool operator==(const proposed_event&, const proposed_event&) = default;
};

} // namespace eddy
