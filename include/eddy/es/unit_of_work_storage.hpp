// eddy/es/unit_of_work_storage.hpp - the eddy::unit_of_work_storage concept: a storage whose
// stores' writes of one step commit together.
#pragma once

#include <concepts> // std::same_as, std::movable
#include <utility>  // std::move

#include <eddy/core/task.hpp>
#include <eddy/es/commit_result.hpp>

namespace eddy {

/// A storage whose writes of one step (events of several streams, checkpoints, read-model
/// writes; later outbox messages and inbox marks) commit in one transaction or not at all:
/// `S::unit_type` (movable, collects intents), `begin()` -> `unit_type`, `commit(unit_type)` ->
/// `task<commit_result>`, which throws the first failed check's error having written nothing.
/// Stores attached to the storage take the unit as their first argument
/// (`events.append(unit, stream, expected, batch)`,
/// `checkpoints.save_checkpoint(unit, name, position)`). The memory storage collects intents
/// and applies them under one lock; SQL storages map begin/commit to BEGIN/COMMIT.
///
///     static_assert(eddy::unit_of_work_storage<eddy::memory_storage>);
template <class S>
concept unit_of_work_storage = requires {
    typename S::unit_type;
}
&&std::movable<typename S::unit_type>&& requires(S& s, typename S::unit_type u) {
    { s.begin() } -> std::same_as<typename S::unit_type>;
    { s.commit(std::move(u)) } -> std::same_as<task<commit_result>>;
};

} // namespace eddy
