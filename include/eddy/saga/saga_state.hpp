// eddy/saga/saga_state.hpp - eddy::saga_state<Ctx>, a saga as its log describes it.
#pragma once

#include <string> // std::string

#include <eddy/saga/saga_status.hpp>
#include <eddy/saga/saga_transition.hpp>

namespace eddy {

/// What `saga_coordinator::inspect(id)` shows: the status, the context as last logged, the
/// step running or last run (`current_step`, empty before the first), the failed step and
/// cause message once there is one, and the whole history.
template <class Ctx>
struct saga_state {
    saga_status status = saga_status::running;
    Ctx context{};
    std::string current_step{};
    std::string failed_step{};
    std::string cause{};
    saga_history<Ctx> history{};
};

} // namespace eddy
