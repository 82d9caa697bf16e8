// eddy/outbox/request_in_progress.hpp - the errors of idempotency keys: a duplicate request
// while the first is in flight, and a key reused for a different request.
#pragma once

#include <string>  // std::string
#include <utility> // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// A request arrived with an idempotency key whose first request is still running: the caller
/// should retry later (HTTP 409 in Stripe's model). Nothing ran.
class request_in_progress : public error {
public:
    explicit request_in_progress(std::string key)
        : error("eddy: a request with idempotency key '" + key + "' is still in progress"),
          m_key(std::move(key)) {}
    [[nodiscard]] const std::string& key() const noexcept { return m_key; }

private:
    std::string m_key;
};

/// A request arrived with an idempotency key already used by a request with a different
/// fingerprint (other parameters): a client bug, never answered with the other's response.
class idempotency_key_reused : public error {
public:
    explicit idempotency_key_reused(std::string key)
        : error("eddy: idempotency key '" + key +
                "' was used before for a request with different parameters"),
          m_key(std::move(key)) {}
    [[nodiscard]] const std::string& key() const noexcept { return m_key; }

private:
    std::string m_key;
};

} // namespace eddy
