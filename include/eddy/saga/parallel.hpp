// eddy/saga/parallel.hpp - eddy::parallel(parts...), saga parts that run concurrently.
#pragma once

#include <utility> // std::forward

#include <eddy/saga/detail/saga_compose.hpp>
#include <eddy/saga/saga_node.hpp>

namespace eddy {

/// A saga part that starts every part at once (on the saga's scheduler: truly in parallel on a
/// `thread_pool`) and completes when all completed. When one fails, the others still run to
/// their end (cancelling a step midway would make its outcome unknown); then the part fails and
/// the saga compensates every completed step, these included, in reverse order of completion.
/// Preconditions: no pivot step inside (`eddy::error` from `eddy::saga`). Parts share the
/// context: on a `thread_pool` they must not write the same members.
///
///     eddy::sequence(charge, eddy::parallel(reserve_stock, book_courier), confirm)
template <class First, class... Rest>
[[nodiscard]] saga_node<detail::saga_context_of_t<First>> parallel(First&& first, Rest&&... rest) {
    return detail::compose_saga_nodes<detail::saga_context_of_t<First>>(
        detail::saga_node_kind::parallel, std::forward<First>(first), std::forward<Rest>(rest)...);
}

} // namespace eddy
