// eddy/outbox/memory_idempotency_store.hpp - eddy::memory_idempotency_store<Response>: Stripe's
// idempotency keys in memory, and eddy::idempotent_call, which runs a request once per key.
#pragma once

#include <algorithm>  // std::erase_if
#include <chrono>     // std::chrono::system_clock, std::chrono::steady_clock
#include <cstddef>    // std::size_t
#include <exception>  // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <functional> // std::function
#include <map>        // std::map
#include <memory>     // std::shared_ptr, std::make_shared
#include <mutex>      // std::mutex, std::lock_guard
#include <optional>   // std::optional
#include <string>     // std::string
#include <utility>    // std::move

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/outbox/idempotency_store.hpp>
#include <eddy/outbox/request_in_progress.hpp>

namespace eddy {

/// Idempotency keys for commands and API calls (Stripe's model), in memory: a key is tied to
/// the request's fingerprint (a hash or canonical form of its parameters) and, once the
/// request completed, to its response, until `ttl` after the first request.
/// - `begin(key, fingerprint, ttl)` -> `task<std::optional<Response>>`: empty = the caller owns
///   the key now and runs the request; a value = the stored response of the completed request.
///   Throws `eddy::request_in_progress` while the first request runs, and
///   `eddy::idempotency_key_reused` for another fingerprint.
/// - `complete(key, response)`: stores the response; `abandon(key)`: the request failed, the
///   key is free again (a retry runs it).
/// - `purge_expired()`: drops keys past their ttl (an expired key is also treated as unknown by
///   `begin`); returns how many.
/// Use `eddy::idempotent_call` rather than these steps by hand.
/// Clock: the given function (`std::chrono::system_clock::now` by default; a virtual clock in
/// tests). Errors: `complete` / `abandon` of a key not in progress: `eddy::error`; an empty key
/// or a non-positive ttl: `eddy::error`.
/// Lazy: tasks completing synchronously. Thread-safety: every member may be called
/// concurrently.
///
///     eddy::memory_idempotency_store<receipt> keys;
///     receipt r = co_await eddy::idempotent_call(keys, request.key, fingerprint(request), 24h,
///                                                [&] { return place_order(request); });
template <class Response>
class memory_idempotency_store {
public:
    using response_type = Response;
    using time_point = std::chrono::system_clock::time_point;
    using duration = std::chrono::steady_clock::duration;
    using clock_function = std::function<time_point()>;

    memory_idempotency_store()
        : memory_idempotency_store([] { return std::chrono::system_clock::now(); }) {}
    explicit memory_idempotency_store(clock_function clock) : m_state(std::make_shared<state>()) {
        m_state->clock = std::move(clock);
    }

    [[nodiscard]] task<std::optional<Response>> begin(std::string key, std::string fingerprint,
                                                      duration ttl) {
        return begin_impl(m_state, std::move(key), std::move(fingerprint), ttl);
    }

    [[nodiscard]] task<void> complete(std::string key, Response response) {
        return complete_impl(m_state, std::move(key), std::move(response));
    }

    [[nodiscard]] task<void> abandon(std::string key) {
        return abandon_impl(m_state, std::move(key));
    }

    [[nodiscard]] task<std::size_t> purge_expired() { return purge_impl(m_state); }

    /// Keys held (in progress or completed, expired ones until purged). Synchronous.
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(m_state->mutex);
        return m_state->keys.size();
    }

private:
    struct entry {
        std::string fingerprint;
        std::optional<Response> response; // empty: in progress
        time_point expires;
    };
    struct state {
        std::mutex mutex;
        clock_function clock;
        std::map<std::string, entry, std::less<>> keys;
    };

    static task<std::optional<Response>> begin_impl(std::shared_ptr<state> s, std::string key,
                                                    std::string fingerprint, duration ttl) {
        if (key.empty()) {
            throw error("eddy::memory_idempotency_store::begin: empty idempotency key");
        }
        if (ttl <= duration::zero()) {
            throw error("eddy::memory_idempotency_store::begin: ttl must be positive");
        }
        std::optional<Response> stored;
        {
            std::lock_guard lock(s->mutex);
            const time_point now = s->clock();
            auto it = s->keys.find(key);
            if (it != s->keys.end() && it->second.expires <= now) {
                s->keys.erase(it); // expired: as if never seen
                it = s->keys.end();
            }
            if (it == s->keys.end()) {
                s->keys.emplace(std::move(key),
                                entry{std::move(fingerprint), std::nullopt,
                                      now + std::chrono::duration_cast<time_point::duration>(ttl)});
            } else if (it->second.fingerprint != fingerprint) {
                throw idempotency_key_reused(key);
            } else if (!it->second.response) {
                throw request_in_progress(key);
            } else {
                stored = it->second.response;
            }
        }
        co_return stored;
    }

    static task<void> complete_impl(std::shared_ptr<state> s, std::string key, Response response) {
        {
            std::lock_guard lock(s->mutex);
            auto it = s->keys.find(key);
            if (it == s->keys.end() || it->second.response) {
                throw error("eddy::memory_idempotency_store::complete: key '" + key +
                            "' is not in progress");
            }
            it->second.response = std::move(response);
        }
        co_return;
    }

    static task<void> abandon_impl(std::shared_ptr<state> s, std::string key) {
        {
            std::lock_guard lock(s->mutex);
            auto it = s->keys.find(key);
            if (it == s->keys.end() || it->second.response) {
                throw error("eddy::memory_idempotency_store::abandon: key '" + key +
                            "' is not in progress");
            }
            s->keys.erase(it);
        }
        co_return;
    }

    static task<std::size_t> purge_impl(std::shared_ptr<state> s) {
        std::size_t removed = 0;
        {
            std::lock_guard lock(s->mutex);
            const time_point now = s->clock();
            removed =
                std::erase_if(s->keys, [&](const auto& kv) { return kv.second.expires <= now; });
        }
        co_return removed;
    }

    std::shared_ptr<state> m_state;
};

/// Runs `request()` (returning an awaitable of `Store::response_type`) at most once per
/// idempotency key: the first call runs it and stores its response; a repeat (same key and
/// fingerprint, within `ttl`) returns the stored response without running anything; a repeat
/// while the first runs throws `eddy::request_in_progress`; another fingerprint throws
/// `eddy::idempotency_key_reused`. If the request throws, the key is freed (a retry runs it)
/// and the exception propagates.
/// The response is stored after the request returned: a crash in between leaves the key in
/// progress until its ttl ends (at-most-once with a visible in-progress state, as Stripe's).
///
///     auto receipt = co_await eddy::idempotent_call(keys, "req-42", fp, 24h,
///                                                   [&] { return charge(card, 30); });
template <idempotency_store Store, class Request>
[[nodiscard]] task<typename Store::response_type>
idempotent_call(Store& store, std::string key, std::string fingerprint,
                std::chrono::steady_clock::duration ttl, Request request) {
    auto stored = co_await store.begin(key, std::move(fingerprint), ttl);
    if (stored) {
        co_return std::move(*stored);
    }
    std::exception_ptr failure;
    std::optional<typename Store::response_type> response;
    try {
        response.emplace(co_await request());
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        co_await store.abandon(key);
        std::rethrow_exception(failure);
    }
    co_await store.complete(key, *response);
    co_return std::move(*response);
}

} // namespace eddy
