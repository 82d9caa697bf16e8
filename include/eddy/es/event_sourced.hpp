// eddy/es/event_sourced.hpp - the eddy::event_sourced concept: what a repository needs of an
// aggregate.
#pragma once

#include <concepts> // std::default_initializable, std::copyable, std::same_as
#include <cstdint>  // std::uint64_t
#include <string>   // std::string
#include <vector>   // std::vector

namespace eddy {

/// What a repository needs of an aggregate: `eddy::aggregate` and `eddy::decider_aggregate`
/// model it. Default-constructible and copyable (a snapshot is a copy of the committed state).
template <class A>
concept event_sourced = std::default_initializable<A> && std::copyable<A> && requires {
    typename A::events_type;
} && requires(A& a, const typename A::events_type& e, std::string id) {
    { a.id() } -> std::convertible_to<const std::string&>;
    a.set_id(id);
    { a.version() } -> std::same_as<std::uint64_t>;
    { a.uncommitted() } -> std::convertible_to<const std::vector<typename A::events_type>&>;
    a.mark_committed();
    a.replay(e);
};

} // namespace eddy
