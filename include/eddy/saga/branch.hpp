// eddy/saga/branch.hpp - eddy::branch(predicate, then, otherwise), a saga part chosen by the
// context.
#pragma once

#include <functional>  // std::function
#include <memory>      // std::make_shared
#include <type_traits> // std::is_invocable_r_v
#include <utility>     // std::move, std::forward

#include <eddy/core/error.hpp>
#include <eddy/saga/detail/saga_compose.hpp>
#include <eddy/saga/saga_node.hpp>

namespace eddy {

/// A saga part that runs `then` when `predicate(ctx)` is true, else `otherwise` (or nothing).
/// The predicate must depend on the context only: a resumed saga evaluates it again on the
/// context restored from its log and must take the same branch.
/// Preconditions: a non-empty predicate (`eddy::error`).
///
///     eddy::branch([](const order& o) { return o.express; }, book_courier, book_post)
template <class Predicate, class Then>
[[nodiscard]] saga_node<detail::saga_context_of_t<Then>> branch(Predicate predicate, Then&& then) {
    using ctx = detail::saga_context_of_t<Then>;
    return branch(std::move(predicate), std::forward<Then>(then),
                  detail::compose_saga_nodes<ctx>(detail::saga_node_kind::sequence));
}

template <class Predicate, class Then, class Otherwise>
[[nodiscard]] saga_node<detail::saga_context_of_t<Then>> branch(Predicate predicate, Then&& then,
                                                                Otherwise&& otherwise) {
    using ctx = detail::saga_context_of_t<Then>;
    static_assert(std::is_invocable_r_v<bool, Predicate&, const ctx&>,
                  "eddy::branch: the predicate must be callable as bool(const Ctx&)");
    auto node = std::make_shared<detail::saga_node_data<ctx>>();
    node->kind = detail::saga_node_kind::branch;
    node->predicate = std::function<bool(const ctx&)>(std::move(predicate));
    if (!node->predicate) {
        throw error("eddy::branch: the predicate is empty");
    }
    node->children.push_back(saga_node<ctx>(std::forward<Then>(then)).data());
    node->children.push_back(saga_node<ctx>(std::forward<Otherwise>(otherwise)).data());
    return saga_node<ctx>(std::move(node));
}

} // namespace eddy
