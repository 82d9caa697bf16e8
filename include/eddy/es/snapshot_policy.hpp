// eddy/es/snapshot_policy.hpp - eddy::snapshot_policy<Aggregate>, when a repository writes a
// snapshot of an aggregate.
#pragma once

#include <cstdint>    // std::uint64_t
#include <functional> // std::function

namespace eddy {

/// When a repository writes a snapshot of an `Aggregate` (snapshots are a cache: any policy is
/// correct, they differ in cost). Each rule is off at its default; several may be on:
/// - `every`: after a save that reaches or crosses a multiple of `every` events;
/// - `after_replaying`: after a load that replayed more than this many events (the load-time
///   threshold: a stream that got expensive to load is snapshotted by the next reader);
/// - `when`: after a save for which `when(aggregate)` is true (e.g. at a state change that
///   makes replays long, such as a closed period).
/// Snapshots can also be written by hand: `repository::save_snapshot(aggregate)`.
///
///     eddy::snapshot_policy<account> p{.every = 100, .after_replaying = 500};
template <class Aggregate>
struct snapshot_policy {
    std::uint64_t every = 0;
    std::uint64_t after_replaying = 0;
    std::function<bool(const Aggregate&)> when{};
};

/// The simplest policy: a snapshot every `every` events (`snapshot_policy{.every = n}`).
struct snapshot_every {
    std::uint64_t every = 0;
};

} // namespace eddy
