// eddy/es/event_metadata.hpp - eddy::event_metadata, what an event carries besides its payload.
#pragma once

#include <string> // std::string

#include <eddy/bus/headers.hpp>

namespace eddy {

/// The metadata of an event: correlation id (the conversation the event belongs to), causation
/// id (the message that caused it), tenant, W3C `traceparent`, and free headers. Empty strings
/// mean "not set". `caused_by(envelope)` (eddy/es/caused_by.hpp) fills it for the events
/// a handler causes.
///
/// Eager value type. Thread-safety: like `std::string`.
///
///     eddy::event_metadata m{.correlation_id = "c-1", .tenant = "acme"};
///     m.headers.set("source", "web");
struct event_metadata {
    std::string correlation_id;
    std::string causation_id;
    std::string tenant;
    std::string traceparent;
    eddy::headers headers;

    friend bool operator==(const event_metadata&, const event_metadata&) = default;
};

} // namespace eddy
