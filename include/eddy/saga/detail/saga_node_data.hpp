// eddy/saga/detail/saga_node_data.hpp - the immutable tree a saga definition is made of.
#pragma once

#include <chrono>     // std::chrono::steady_clock
#include <functional> // std::function
#include <memory>     // std::shared_ptr
#include <optional>   // std::optional
#include <string>     // std::string
#include <vector>     // std::vector

#include <eddy/core/retry_policy.hpp>
#include <eddy/core/task.hpp>
#include <eddy/saga/step_context.hpp>

namespace eddy::detail {

template <class Ctx>
using saga_action = std::function<task<void>(Ctx&, const step_context&)>;

template <class Ctx>
struct saga_step_data {
    std::string name;
    saga_action<Ctx> action;
    saga_action<Ctx> compensation; // empty: nothing to undo
    // Actions fail once by default: a failing step compensates at once, the conservative
    // choice; compensations must end up succeeding, so they retry by the library defaults.
    retry_policy retry{.max_attempts = 1};
    retry_policy compensation_retry{};
    std::optional<std::chrono::steady_clock::duration> timeout;
    bool pivot = false;
    bool optional = false;
};

enum class saga_node_kind { step, sequence, parallel, branch };

template <class Ctx>
struct saga_node_data {
    saga_node_kind kind = saga_node_kind::sequence;
    std::shared_ptr<const saga_step_data<Ctx>> step;                  // kind == step
    std::vector<std::shared_ptr<const saga_node_data<Ctx>>> children; // branch: then, else
    std::function<bool(const Ctx&)> predicate;                        // kind == branch
};

} // namespace eddy::detail
