// eddy/bus/message_bus.hpp - the eddy::message_bus concept (the portable subset of a partitioned
// broker that service code is written against) and its eddy::transactional_bus refinement.
#pragma once

#include <eddy/bus/detail/message_bus_requirements.hpp>

namespace eddy {

/// A partitioned message broker as service code sees it: `eddy::event_bus` (in process) models
/// it, and a bus on a real broker (NATS JetStream) is to model it too, so a service is written
/// once against the concept and runs on either by swapping the type. It is the subset every
/// such broker can offer, with the vocabulary types of `eddy/bus` (record, headers,
/// consumer_options, retry_policy, dead letters):
/// - `create_topic<T>(name, topic_config)`: creates topic `name` of values `T` and its
///   dead-letter topic `name.DLQ`, or validates an existing one (`eddy::error` when it exists
///   with another type or configuration); `has_topic(name)`.
/// - `publish(topic, key, value, headers)` -> `task<publish_result>`, or an awaitable of
///   `publish_result` that converts to one (`event_bus` returns such a frame-less awaitable):
///   partition and offset, or the broker's sequence; the idempotent form with a
///   `producer_sequence` lands once however often it is retried.
/// - `subscribe<T>(topic, group, handler, consumer_options)` -> `subscription`: a push member
///   of a consumer group (partitions shared among members, each group sees every record,
///   at-least-once, order per partition, the options' retry policy, then dead-lettering with
///   the `dead_letter_header` entries).
/// - `consume<T>(topic, group, consumer_options)` -> `stream<record<T>>`: a pull member.
/// - `dead_letters(filter)`, `reprocess(id, who)`, `reprocess(ids, who)`, `discard(id, who)`.
/// - `lag(topic, group)`: per partition, the records the group has not committed.
/// The members checked are templates over the payload; the concept probes them with one
/// copyable payload type. Synchronous members (topic creation, dead-letter listing, discard,
/// lag) may block the calling thread on a networked broker.
/// Not in the concept: transactions (see `transactional_bus`), retention, `stats`, observers:
/// what a broker offers there differs. The conformance suite (tests/bus/conformance/
/// message_bus_suite.hpp) states the behaviour every model must show.
/// Use `static_assert(eddy::detail::check_message_bus<B>())` for a diagnostic naming the member
/// that is missing.
///
///     template <eddy::message_bus Bus>
///     eddy::task<> ship(Bus& bus, order o) { co_await bus.publish("orders", o.id, o, {}); }
template <class B>
concept message_bus = detail::has_create_topic<B> && detail::has_has_topic<B> &&
    detail::has_publish<B> && detail::has_idempotent_publish<B> && detail::has_subscribe<B> &&
    detail::has_consume<B> && detail::has_lag<B> && detail::has_dead_letters<B> &&
    detail::has_reprocess<B> && detail::has_discard<B>;

/// A `message_bus` with exactly-once transactions inside the broker:
/// `begin_transaction(producer_id)` -> `eddy::transaction` (publishes to several topics and a
/// group's consumed offsets become visible together at commit, none after an abort; a newer
/// transaction of the same producer id fences older ones). `eddy::event_bus` models it;
/// NATS JetStream has no transactions, so its bus is a `message_bus` only.
/// Use `static_assert(eddy::detail::check_transactional_bus<B>())` for a diagnostic.
///
///     static_assert(eddy::transactional_bus<eddy::event_bus<eddy::thread_pool>>);
template <class B>
concept transactional_bus = message_bus<B> && detail::has_begin_transaction<B>;

} // namespace eddy
