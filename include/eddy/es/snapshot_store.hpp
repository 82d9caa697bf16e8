// eddy/es/snapshot_store.hpp - the eddy::snapshot_store concept and eddy::snapshot<State>: a
// versioned cache of an aggregate's state.
#pragma once

#include <concepts> // std::same_as
#include <cstdint>  // std::uint32_t, std::uint64_t
#include <optional> // std::optional
#include <string>   // std::string

#include <eddy/core/task.hpp>

namespace eddy {

/// A stream's state as of `version`, written with the state's `schema_version` (a reader that
/// expects another schema version ignores it and replays from the start).
template <class State>
struct snapshot {
    std::uint64_t version = 0;
    std::uint32_t schema_version = 1;
    State state;
};

/// A store of the latest snapshot per stream, for states of type `S::state_type`. Snapshots
/// are a cache: losing one only costs replay time. Every operation is a coroutine:
/// `save_snapshot(stream_id, snapshot<state_type>)` -> `task<void>` replaces the stream's
/// snapshot unless the stored one has a higher version; `load_snapshot(stream_id)` ->
/// `task<std::optional<snapshot<state_type>>>`.
///
///     static_assert(eddy::snapshot_store<eddy::memory_snapshot_store<order>>);
template <class S>
concept snapshot_store = requires {
    typename S::state_type;
}
&&requires(S& s, std::string id, snapshot<typename S::state_type> snap) {
    { s.save_snapshot(id, snap) } -> std::same_as<task<void>>;
    { s.load_snapshot(id) } -> std::same_as<task<std::optional<snapshot<typename S::state_type>>>>;
};

} // namespace eddy
