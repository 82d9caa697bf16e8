// eddy/outbox/idempotency_store.hpp - the eddy::idempotency_store concept: idempotency keys
// for commands and API calls (Stripe's model).
#pragma once

#include <chrono>   // std::chrono::steady_clock
#include <concepts> // std::same_as
#include <cstddef>  // std::size_t
#include <optional> // std::optional
#include <string>   // std::string

#include <eddy/core/task.hpp>

namespace eddy {

/// Storage of idempotency keys whose responses are `S::response_type`: `begin(key,
/// fingerprint, ttl)` -> `task<std::optional<response_type>>`, `complete(key, response)`,
/// `abandon(key)`, `purge_expired()` -> `task<std::size_t>`; semantics and errors as described
/// for `eddy::memory_idempotency_store`. `eddy::idempotent_call` runs a request through one.
///
///     static_assert(eddy::idempotency_store<eddy::memory_idempotency_store<receipt>>);
template <class S>
concept idempotency_store = requires {
    typename S::response_type;
}
&&requires(S& s, std::string text, std::chrono::steady_clock::duration ttl,
           typename S::response_type r) {
    { s.begin(text, text, ttl) } -> std::same_as<task<std::optional<typename S::response_type>>>;
    { s.complete(text, r) } -> std::same_as<task<void>>;
    { s.abandon(text) } -> std::same_as<task<void>>;
    { s.purge_expired() } -> std::same_as<task<std::size_t>>;
};

} // namespace eddy
