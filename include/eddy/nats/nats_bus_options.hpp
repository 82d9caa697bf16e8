// eddy/nats/nats_bus_options.hpp - eddy::nats_bus_options: the servers of an eddy::nats_bus and
// how it lays topics out on JetStream.
#pragma once

#include <chrono>  // std::chrono::milliseconds
#include <cstddef> // std::size_t
#include <string>  // std::string
#include <vector>  // std::vector

#include <eddy/core/error.hpp>

namespace eddy {

/// Where JetStream keeps a topic's records (`jsStorageType`).
enum class nats_storage {
    file,   ///< on disk (the default; survives a server restart)
    memory, ///< in memory only (lost when the servers restart; tests, caches)
};

/// When JetStream drops a topic's records (`jsRetentionPolicy`), beside the topic's
/// `topic_config` limits (count, age). Work-queue retention is not offered: it allows one
/// consumer group per topic, and every group of a bus sees every record.
enum class nats_retention {
    limits,   ///< kept until a limit drops them (the default; what `event_bus` does)
    interest, ///< dropped once every existing consumer group acknowledged them
};

/// How an `eddy::nats_bus` connects and lays topics out on JetStream. An aggregate: set what
/// differs from the defaults with designated initializers.
///
/// - `urls`: the servers (`nats://host:port`), tried in order; libnats also learns the rest of
///   the cluster from them. A single string may hold a comma-separated list.
/// - `prefix`: the first token of every subject and the first part of every stream, consumer
///   and bucket name of this bus (letters, digits, `-`; not empty): buses with different
///   prefixes share servers without seeing each other's topics.
/// - `storage`, `replicas` (1..5; 3 on a 3-node cluster for the documented durability),
///   `retention`: the streams eddy creates for topics.
/// - `duplicate_window`: how long JetStream remembers a `Nats-Msg-Id` (idempotent publish).
/// - `max_pending_publishes`: publishes awaiting the server's acknowledgement at once (async
///   publish); more wait (a `publish` suspends: backpressure).
/// - `request_timeout`: every request (JetStream API, acknowledgement, publish ack) fails with
///   `eddy::nats_error` ("Timeout") after it.
/// - `fetch_wait`: how long one pull request waits for a record before the fetch thread looks
///   again (and sees a member that leaves): bounds the time a `stop()` waits.
/// - `ack_wait`: a delivered record not acknowledged in this time (its member died) is
///   delivered again; longer than the slowest handler.
/// - `name`: the connection name the servers show (monitoring).
/// - `send_asap`: publishes, acknowledgements and pull requests leave at once, one system call
///   each (the default: a publish awaited before the next, or a partition's fetch-handle-ack
///   loop, does not wait for libnats's flusher thread, which sends about 1 ms later: 5x the
///   awaited publish rate, 1.8x publish-to-handler in benchmarks/nats_bench.cpp); false lets
///   the flusher batch them (about half the client CPU per record when many publishes are in
///   flight at once, at the same rate there).
/// Preconditions: `validate()` throws `eddy::error` naming the bad field; the bus calls it
/// eagerly. Thread-safety: a plain value.
///
///     eddy::nats_bus_options o{.urls = {"nats://10.0.0.1:4222", "nats://10.0.0.2:4222"},
///                              .replicas = 3};
struct nats_bus_options {
    std::vector<std::string> urls{"nats://127.0.0.1:4222"}; ///< servers, tried in order
    std::string prefix = "eddy";                            ///< namespace of subjects/streams
    nats_storage storage = nats_storage::file;              ///< where streams keep records
    int replicas = 1;                                       ///< copies of each stream, 1..5
    nats_retention retention = nats_retention::limits;      ///< when records are dropped
    std::chrono::milliseconds duplicate_window{std::chrono::minutes(2)}; ///< Nats-Msg-Id memory
    std::size_t max_pending_publishes = 256; ///< async publishes in flight, >= 1
    std::chrono::milliseconds request_timeout{std::chrono::seconds(5)};   ///< every request
    std::chrono::milliseconds fetch_wait{std::chrono::milliseconds(100)}; ///< one pull's wait
    std::chrono::milliseconds ack_wait{std::chrono::seconds(30)}; ///< redelivery of the unacked
    std::string name = "eddy";                                    ///< the connection's name
    bool send_asap = true; ///< send each message at once rather than from the flusher thread

    /// Throws `eddy::error` when the options are unusable.
    void validate() const {
        if (urls.empty()) {
            throw error("eddy::nats_bus_options: urls must name at least one server");
        }
        if (prefix.empty()) {
            throw error("eddy::nats_bus_options: prefix must not be empty");
        }
        for (const char c : prefix) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-';
            if (!ok) {
                throw error("eddy::nats_bus_options: prefix '" + prefix +
                            "' may hold only letters, digits and '-'");
            }
        }
        if (replicas < 1 || replicas > 5) {
            throw error("eddy::nats_bus_options: replicas must lie in [1, 5]");
        }
        if (max_pending_publishes == 0) {
            throw error("eddy::nats_bus_options: max_pending_publishes must be at least 1");
        }
        if (duplicate_window.count() <= 0 || request_timeout.count() <= 0 ||
            fetch_wait.count() <= 0 || ack_wait.count() <= 0) {
            throw error("eddy::nats_bus_options: duplicate_window, request_timeout, fetch_wait "
                        "and ack_wait must be positive");
        }
    }
};

} // namespace eddy
