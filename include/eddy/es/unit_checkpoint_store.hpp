// eddy/es/unit_checkpoint_store.hpp - the eddy::unit_checkpoint_store concept: a checkpoint
// store whose saves can join a unit of work of its storage.
#pragma once

#include <concepts>    // std::same_as
#include <cstdint>     // std::uint64_t
#include <string>      // std::string
#include <type_traits> // std::remove_cvref_t

#include <eddy/es/checkpoint_store.hpp>
#include <eddy/es/unit_of_work_storage.hpp>

namespace eddy {

/// An `eddy::checkpoint_store` attached to a `unit_of_work_storage`: `C::unit_type` (the
/// storage's), `storage()` returning the storage, and `save_checkpoint(unit&, name, position)`
/// adding the save to a unit (written when, and only if, the unit commits). A projection whose
/// read model lives in the same storage then gets exactly-once updates (see `eddy::projector`).
///
///     static_assert(eddy::unit_checkpoint_store<eddy::memory_checkpoint_store>);
template <class C>
concept unit_checkpoint_store = checkpoint_store<C> && requires {
    typename C::unit_type;
} && requires(C& c, typename C::unit_type& unit, std::string name, std::uint64_t position) {
    c.save_checkpoint(unit, name, position);
    requires unit_of_work_storage<std::remove_cvref_t<decltype(c.storage())>>;
    requires std::same_as < typename std::remove_cvref_t<decltype(c.storage())>::unit_type,
    typename C::unit_type > ;
};

} // namespace eddy
