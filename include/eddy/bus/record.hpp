// eddy/bus/record.hpp - eddy::record<T>, one typed record of a bus topic,
// eddy::publish_result, where a published record landed, and eddy::producer_record<T>, one
// record of a batch to publish.
#pragma once

#include <chrono>  // std::chrono::steady_clock
#include <cstddef> // std::size_t
#include <cstdint> // std::uint64_t
#include <string>  // std::string

#include <eddy/bus/headers.hpp>

namespace eddy {

/// Where a published record landed: its partition and its offset in that partition.
///
///     eddy::publish_result r = co_await bus.publish("orders", "customer-7", order{...});
///     // r.partition == bus.partition_for("orders", "customer-7"); r.offset == 0 for the first
struct publish_result {
    std::size_t partition = 0; ///< in [0, partitions of the topic)
    std::uint64_t offset = 0;  ///< per partition, from 0, never reused

    friend bool operator==(const publish_result&, const publish_result&) = default;
};

/// One record of a bus topic, as a consumer sees it: where it is (topic, partition, offset),
/// its key (which chose the partition), its headers, when it was published (the bus
/// scheduler's `now()`, so virtual under `eddy::virtual_time_scheduler`) and its typed value.
///
/// A plain aggregate (eager, no behaviour). The value is moved into the bus by `publish` and is
/// never serialized; a push subscription's handler gets a const reference to the one stored
/// record (shared by every group), a pull consumer (`consume`) a copy.
/// Thread-safety: like any aggregate; a record shared between groups is only read.
///
///     eddy::task<> on_order(const eddy::record<order>& r) {
///         log(r.topic, r.partition, r.offset, r.key, r.value.total);
///         co_return;
///     }
template <class T>
struct record {
    using value_type = T;
    using time_point = std::chrono::steady_clock::time_point;

    std::string topic;         ///< the topic's name
    std::size_t partition = 0; ///< the partition: a stable hash of `key` modulo partitions
    std::uint64_t offset = 0;  ///< its position in the partition
    std::string key;           ///< the key given to `publish`
    eddy::headers headers;     ///< the headers given to `publish` (dead letters add theirs)
    time_point timestamp{};    ///< the bus scheduler's `now()` at `publish`
    T value;                   ///< the payload
};

/// One record to publish as part of a batch (`event_bus::publish_batch`): what `publish`
/// takes apart from the topic, which the batch shares. The bus moves the key, value and
/// headers into the topic's log (never serializing the value).
///
/// A plain aggregate (eager, no behaviour). Thread-safety: like any aggregate.
///
///     std::vector<eddy::producer_record<order>> batch;
///     batch.push_back({o.customer, o});
///     batch.push_back({p.customer, p, {{"trace-id", "abc"}}});
///     auto where = co_await bus.publish_batch("orders", std::move(batch)); // in order
template <class T>
struct producer_record {
    using value_type = T;

    std::string key;       ///< chooses the partition, as `publish`'s key
    T value;               ///< the payload
    eddy::headers headers; ///< the record's headers (none by default)
};

} // namespace eddy
