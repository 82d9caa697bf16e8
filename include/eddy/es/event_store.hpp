// eddy/es/event_store.hpp - the eddy::event_store concept: append with optimistic concurrency,
// read a stream, read and subscribe to all events in commit order.
#pragma once

#include <eddy/es/append_result.hpp>
#include <eddy/es/detail/event_store_requirements.hpp>

namespace eddy {

/// A store of event streams. `S::event_type` is a `std::variant` of named events (the user's
/// events; a store that persists bytes encodes it with a codec at its boundary, so the concept
/// is the same for memory, SQLite and PostgreSQL). Every operation is a coroutine:
/// - `append(stream_id, expected_version, std::vector<proposed_event<event_type>>)` ->
///   `task<append_result>`: atomic; assigns stream versions, global positions (commit order),
///   ids (nil ones), type names, schema versions and the recorded time; throws
///   `eddy::concurrency_conflict` (appending nothing) when the expected version does not hold.
///   An empty batch appends nothing (and still checks the expectation). Idempotent, exactly:
///   a batch whose ids are all stored as one whole earlier append to the same stream (same
///   order, types and payloads) appends nothing and returns that append's result; any other
///   use of a stored id (another stream, type or payload, a partial overlap, an id twice)
///   throws `eddy::duplicate_event_id`, appending nothing.
/// - `read_stream(stream_id, from_version)` -> `stream<event_envelope<event_type>>`: the
///   stream's events with version >= from_version, in order, up to the end as of each pull.
/// - `read_all(from_position)`: every event with global position >= from_position, in order.
/// - `subscribe_all(from_position)`: like `read_all`, then waits for and yields new events as
///   they commit; never ends on its own. No gap and no duplicate: an event never commits behind
///   a position a reader has passed. At-least-once towards a consumer that resumes from its
///   own checkpoint (see `eddy::projector`).
/// Use `static_assert(eddy::detail::check_event_store<S>())` for a diagnostic naming what is
/// missing; the types eddy templates on a store do that.
///
///     static_assert(eddy::event_store<eddy::memory_event_store<order_events>>);
template <class S>
concept event_store = detail::has_event_type<S> && detail::has_append<S> &&
    detail::has_read_stream<S> && detail::has_read_all<S> && detail::has_subscribe_all<S>;

} // namespace eddy
