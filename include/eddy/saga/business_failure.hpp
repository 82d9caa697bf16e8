// eddy/saga/business_failure.hpp - eddy::business_failure, a saga step's definite "no".
#pragma once

#include <string> // std::string

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown by a saga step's action when the step failed for a business reason (card declined,
/// out of stock): the step took no effect, retrying cannot help, so the saga compensates the
/// steps that completed at once, without retrying this one and without compensating it.
///
/// Any other exception from an action is retried by the step's `retry_policy` (unless the
/// policy marks it non-retryable, which also means "took no effect"); `eddy::timeout_error`
/// and `eddy::unknown_outcome` mean "may have taken effect" (see `unknown_outcome`).
///
///     if (balance < amount) throw eddy::business_failure("card declined");
class business_failure : public error {
public:
    explicit business_failure(const std::string& what) : error(what) {}
};

} // namespace eddy
