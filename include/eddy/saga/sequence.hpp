// eddy/saga/sequence.hpp - eddy::sequence(parts...), saga parts that run one after another.
#pragma once

#include <utility> // std::forward

#include <eddy/saga/detail/saga_compose.hpp>
#include <eddy/saga/saga_node.hpp>

namespace eddy {

/// A saga part that runs `parts` one after the other, each starting when the one before it
/// completed; the first that fails ends the sequence (and, in a saga, starts compensation of
/// everything completed so far, in reverse order of completion). The context type is the
/// first part's; every part must have the same.
///
///     auto order_saga = eddy::saga<order>("order", eddy::sequence(charge, reserve, ship));
template <class First, class... Rest>
[[nodiscard]] saga_node<detail::saga_context_of_t<First>> sequence(First&& first, Rest&&... rest) {
    return detail::compose_saga_nodes<detail::saga_context_of_t<First>>(
        detail::saga_node_kind::sequence, std::forward<First>(first), std::forward<Rest>(rest)...);
}

} // namespace eddy
