// eddy/saga/detail/saga_compose.hpp - builds sequence and parallel nodes from steps and nodes.
#pragma once

#include <memory>      // std::make_shared
#include <type_traits> // std::remove_cvref_t, std::is_convertible_v
#include <utility>     // std::forward

#include <eddy/saga/detail/saga_node_data.hpp>
#include <eddy/saga/saga_node.hpp>

namespace eddy::detail {

template <class First, class...>
using saga_context_of_t = typename std::remove_cvref_t<First>::context_type;

template <class Ctx, class... Parts>
saga_node<Ctx> compose_saga_nodes(saga_node_kind kind, Parts&&... parts) {
    static_assert((std::is_convertible_v<Parts&&, saga_node<Ctx>> && ...),
                  "eddy::sequence / eddy::parallel: every part must be an eddy::step or "
                  "eddy::saga_node of the same context type");
    auto node = std::make_shared<saga_node_data<Ctx>>();
    node->kind = kind;
    node->children.reserve(sizeof...(Parts));
    (node->children.push_back(saga_node<Ctx>(std::forward<Parts>(parts)).data()), ...);
    return saga_node<Ctx>(std::move(node));
}

} // namespace eddy::detail
