// eddy/saga/saga_outcome.hpp - eddy::saga_outcome<Ctx>, how a saga run ended.
#pragma once

#include <exception> // std::exception_ptr
#include <string>    // std::string

#include <eddy/saga/saga_status.hpp>

namespace eddy {

/// What a saga run returns: its status (`completed`, `compensated`, `compensation_failed` or
/// `parked`), the context as the run left it, and for every status but `completed` the step
/// that failed and the cause: the step's own exception in the run that saw it, or an
/// `eddy::error` carrying the logged message after a resume (the cause is never lost).
/// For `compensation_failed`, `failed_step` is the step whose compensation was given up and
/// `cause` its compensation's error; `failed_forward_step` keeps the step whose failure started
/// the compensation.
///
///     auto out = co_await coordinator.run(order_saga, "order-42", order{...});
///     if (out.status == eddy::saga_status::compensated) log(out.failed_step);
template <class Ctx>
struct saga_outcome {
    std::string saga_id;
    saga_status status = saga_status::completed;
    Ctx context{};
    std::string failed_step{};         ///< empty when completed
    std::exception_ptr cause{};        ///< empty when completed
    std::string failed_forward_step{}; ///< compensation_failed: what started compensating

    [[nodiscard]] bool completed() const noexcept { return status == saga_status::completed; }
};

} // namespace eddy
