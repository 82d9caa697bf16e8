// eddy/saga/saga.hpp - eddy::saga<Ctx>, a named saga definition: the tree of steps a
// coordinator runs, compensates and resumes.
#pragma once

#include <cstddef>       // std::size_t
#include <memory>        // std::shared_ptr, std::make_shared
#include <string>        // std::string
#include <string_view>   // std::string_view
#include <unordered_map> // std::unordered_map
#include <utility>       // std::move
#include <vector>        // std::vector

#include <eddy/core/error.hpp>
#include <eddy/saga/detail/saga_node_data.hpp>
#include <eddy/saga/saga_node.hpp>

namespace eddy {

/// A saga definition over the context type `Ctx`: a name (how a durable log refers to it) and a
/// tree built with `eddy::step`, `eddy::sequence`, `eddy::parallel` and `eddy::branch`. Run it
/// with `eddy::run_saga` (in memory) or `eddy::saga_coordinator` (durable, resumable).
///
/// `Ctx` is the saga's state: actions read and update it; a durable log snapshots it after each
/// step, so it must be copyable (and encodable by the log's codec for SQL logs).
/// Eager: the definition is checked when constructed. Errors (`eddy::error` naming the
/// problem): an empty name; two steps with the same name (the log identifies steps by name);
/// a pivot step inside `eddy::parallel`; more than one pivot.
/// Thread-safety: immutable; copies share the tree; run it from many coroutines at once.
///
///     eddy::saga<order> order_saga("order", eddy::sequence(charge, reserve, ship));
template <class Ctx>
class saga {
public:
    using context_type = Ctx;

    saga(std::string name, saga_node<Ctx> root) : m_shared(std::make_shared<shared>()) {
        if (name.empty()) {
            throw error("eddy::saga: a saga needs a non-empty name");
        }
        m_shared->name = std::move(name);
        m_shared->root = root.data();
        index(*m_shared->root, false);
    }

    [[nodiscard]] const std::string& name() const noexcept { return m_shared->name; }

    /// The number of steps, each counted once.
    [[nodiscard]] std::size_t step_count() const noexcept { return m_shared->steps.size(); }

    /// Step `i`'s name, in depth-first order of the definition.
    [[nodiscard]] const std::string& step_name(std::size_t i) const { return step_at(i).name; }

    /// The index of the step called `name`; `eddy::error` when there is none (a log written
    /// by another version of the definition).
    [[nodiscard]] std::size_t step_index(std::string_view name) const {
        const auto it = m_shared->by_name.find(std::string(name));
        if (it == m_shared->by_name.end()) {
            throw error("eddy::saga '" + m_shared->name + "': no step named '" + std::string(name) +
                        "'");
        }
        return it->second;
    }

    /// True for copies of one definition (not for two equal-looking trees built separately).
    friend bool operator==(const saga& a, const saga& b) noexcept {
        return a.m_shared == b.m_shared;
    }

    // Internals for the coordinator.
    [[nodiscard]] const detail::saga_node_data<Ctx>& root() const noexcept {
        return *m_shared->root;
    }
    [[nodiscard]] const detail::saga_step_data<Ctx>& step_at(std::size_t i) const {
        return *m_shared->steps.at(i);
    }
    [[nodiscard]] std::size_t index_of(const detail::saga_step_data<Ctx>* s) const {
        return m_shared->by_address.at(s);
    }

private:
    struct shared {
        std::string name;
        std::shared_ptr<const detail::saga_node_data<Ctx>> root;
        std::vector<std::shared_ptr<const detail::saga_step_data<Ctx>>> steps;
        std::unordered_map<std::string, std::size_t> by_name;
        std::unordered_map<const detail::saga_step_data<Ctx>*, std::size_t> by_address;
        bool has_pivot = false;
    };

    void index(const detail::saga_node_data<Ctx>& node, bool in_parallel) {
        if (node.kind == detail::saga_node_kind::step) {
            const auto& s = node.step;
            if (!m_shared->by_name.emplace(s->name, m_shared->steps.size()).second) {
                throw error("eddy::saga '" + m_shared->name + "': two steps are named '" + s->name +
                            "' (a log identifies steps by name)");
            }
            if (s->pivot && in_parallel) {
                throw error("eddy::saga '" + m_shared->name + "': pivot step '" + s->name +
                            "' is inside eddy::parallel (the point of no return must be one "
                            "step in sequence)");
            }
            if (s->pivot && m_shared->has_pivot) {
                throw error("eddy::saga '" + m_shared->name + "': more than one pivot step ('" +
                            s->name + "')");
            }
            m_shared->has_pivot = m_shared->has_pivot || s->pivot;
            m_shared->by_address.emplace(s.get(), m_shared->steps.size());
            m_shared->steps.push_back(s);
            return;
        }
        const bool parallel = in_parallel || node.kind == detail::saga_node_kind::parallel;
        for (const auto& child : node.children) {
            index(*child, parallel);
        }
    }

    std::shared_ptr<shared> m_shared;
};

} // namespace eddy
