// eddy/es/checkpoint_store.hpp - the eddy::checkpoint_store concept: where a projection records
// how far it got.
#pragma once

#include <concepts> // std::same_as
#include <cstdint>  // std::uint64_t
#include <string>   // std::string

#include <eddy/core/task.hpp>

namespace eddy {

/// A store of checkpoints by name: the global position of the last event a consumer (a
/// projection) has fully handled, 0 when it has handled none. Every operation is a coroutine:
/// `load_checkpoint(name)` -> `task<std::uint64_t>`; `save_checkpoint(name, position)` ->
/// `task<void>` (the position may go back to 0 for a replay).
///
///     static_assert(eddy::checkpoint_store<eddy::memory_checkpoint_store>);
template <class S>
concept checkpoint_store = requires(S& s, std::string name, std::uint64_t position) {
    { s.load_checkpoint(name) } -> std::same_as<task<std::uint64_t>>;
    { s.save_checkpoint(name, position) } -> std::same_as<task<void>>;
};

} // namespace eddy
