// eddy/saga/saga_node.hpp - eddy::saga_node<Ctx>, a composable piece of a saga: a step, a
// sequence, a parallel group or a branch.
#pragma once

#include <memory>  // std::shared_ptr, std::make_shared
#include <utility> // std::move

#include <eddy/saga/detail/saga_node_data.hpp>

namespace eddy {

/// A piece of a saga over the context type `Ctx`, made by `eddy::step`, `eddy::sequence`,
/// `eddy::parallel` or `eddy::branch` and combined by them into an `eddy::saga`. An immutable
/// value: copies share the same definition, so one piece may be reused in several sagas (step
/// names must still be unique within one saga).
///
/// Thread-safety: immutable once built; share freely.
///
///     eddy::saga_node<order> payment = eddy::sequence(charge, capture);
template <class Ctx>
class saga_node {
public:
    using context_type = Ctx;

    explicit saga_node(std::shared_ptr<const detail::saga_node_data<Ctx>> data) noexcept
        : m_data(std::move(data)) {}

    /// The tree this node stands for (read by `eddy::saga`).
    [[nodiscard]] const std::shared_ptr<const detail::saga_node_data<Ctx>>& data() const noexcept {
        return m_data;
    }

private:
    std::shared_ptr<const detail::saga_node_data<Ctx>> m_data;
};

} // namespace eddy
