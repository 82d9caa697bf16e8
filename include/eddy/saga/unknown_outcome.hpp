// eddy/saga/unknown_outcome.hpp - eddy::unknown_outcome, a saga step that may or may not have
// taken effect.
#pragma once

#include <string> // std::string

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown by a saga step's action when it cannot tell whether its effect happened (the request
/// was sent, the reply was lost). A step's own timeout (`eddy::timeout_error`) counts the same.
/// The saga retries the step by its policy with the same idempotency key, so a service that
/// already applied it answers from its record; if the step is given up, its compensation still
/// runs (it was registered before the action started), since the effect may exist.
///
///     catch (const connection_lost&) { throw eddy::unknown_outcome("payment reply lost"); }
class unknown_outcome : public error {
public:
    explicit unknown_outcome(const std::string& what) : error(what) {}
};

} // namespace eddy
