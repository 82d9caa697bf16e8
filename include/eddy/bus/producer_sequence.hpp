// eddy/bus/producer_sequence.hpp - eddy::producer_sequence, what makes a retried publish land
// once (the idempotent producer).
#pragma once

#include <cstddef> // std::size_t
#include <cstdint> // std::uint64_t
#include <string>  // std::string

namespace eddy {

/// The identity of one publish of an idempotent producer: the producer's id and the sequence
/// number of the record in its partition. Passing one to `event_bus::publish` makes a publish
/// retried with the same pair land once: the bus remembers, per topic, producer and
/// partition, the last `window` sequences it accepted and where they landed.
///
/// Rules, per (topic, producer, partition): the first sequence may be any number; after that
/// each must be the last accepted + 1 and is appended; one of the last `window` accepted
/// sequences again is a duplicate: nothing is appended and `publish` yields where the original
/// landed (`topic_stats::deduplicated` counts it); a gap (more than last + 1) or a duplicate
/// older than the window throws `eddy::error` and appends nothing.
/// Sequences count per partition (as in Kafka), so a producer that publishes several keys
/// keeps one counter per `event_bus::partition_for(topic, key)`.
/// Lifetime: the bus keeps what it remembers about a producer for the bus's lifetime (a
/// producer id that is never reused costs a few hundred bytes per partition it wrote).
///
///     const auto p = bus.partition_for("orders", key);
///     eddy::producer_sequence seq{"relay-1", ++next_sequence[p]};
///     auto r = co_await bus.publish("orders", key, o, {}, seq); // retry with `seq`: lands once
struct producer_sequence {
    /// How many recent sequences per producer and partition are remembered.
    static constexpr std::size_t window = 16;

    std::string producer;       ///< a producer id, unique among the bus's producers
    std::uint64_t sequence = 0; ///< per partition: last accepted + 1
};

} // namespace eddy
