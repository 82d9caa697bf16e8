// eddy/es/event_envelope.hpp - eddy::event_envelope<E>, a recorded event with its identity,
// position and metadata.
#pragma once

#include <chrono>  // std::chrono::system_clock
#include <cstdint> // std::uint32_t, std::uint64_t
#include <string>  // std::string

#include <eddy/es/event_metadata.hpp>
#include <eddy/es/uuid.hpp>

namespace eddy {

/// A recorded event: its id (a UUID v7, time-ordered), the stream it belongs to, its version in
/// that stream (the first event of a stream is version 1), its global position in the store
/// (the first event of the store is position 1; positions grow in commit order), its type name
/// and schema version (of the payload's alternative, see `eddy::named_event`), the time it was
/// recorded, its metadata and its payload `E` (usually the aggregate's `std::variant` of events).
///
/// Eager value type; stores fill every field but the payload and metadata on append.
/// Thread-safety: like its members.
///
///     std::optional<eddy::event_envelope<order_events>> e = co_await events.next();
///     if (e && e->type_name == "order_placed") total += std::get<order_placed>(e->payload).amount;
template <class E>
struct event_envelope {
    uuid event_id;
    std::string stream_id;
    std::uint64_t stream_version = 0;
    std::uint64_t global_position = 0;
    std::string type_name;
    std::uint32_t schema_version = 1;
    std::chrono::system_clock::time_point recorded_at;
    event_metadata metadata;
    E payload;

    friend bool operator==(const event_envelope&, const event_envelope&) = default;
};

} // namespace eddy
