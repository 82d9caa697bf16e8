// eddy/postgres/postgres_idempotency_store.hpp - eddy::postgres_idempotency_store<Response,
// Codec>: idempotency keys (Stripe's model) in PostgreSQL, shared by every process using it.
#pragma once

#include <chrono>     // std::chrono::system_clock, std::chrono::steady_clock
#include <cstddef>    // std::size_t
#include <functional> // std::function
#include <memory>     // std::shared_ptr, std::make_shared
#include <optional>   // std::optional
#include <string>     // std::string
#include <utility>    // std::move

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/json/json_codec.hpp>
#include <eddy/outbox/idempotency_store.hpp>
#include <eddy/outbox/request_in_progress.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/detail/values.hpp>
#include <eddy/postgres/postgres_storage.hpp>

namespace eddy {

/// Idempotency keys in PostgreSQL (table `<schema>.idempotency_keys`: kind, key, fingerprint,
/// response encoded with `Codec::encode_value` (bytea) or NULL while in progress, expires_at in
/// nanoseconds since the epoch by the store's clock); models `eddy::idempotency_store` with the
/// semantics of `eddy::memory_idempotency_store` (`begin` / `complete` / `abandon` /
/// `purge_expired`; use `eddy::idempotent_call`). `kind` separates the keys of different
/// requests (and response types) in one schema. A repeat reaching another process is answered
/// the same way; a key whose request was running when its process died stays in progress until
/// its ttl ends (at-most-once, as Stripe's).
/// Concurrency: `begin` is one upsert that takes the key only when it is unknown or expired
/// (`INSERT ... ON CONFLICT DO UPDATE ... WHERE expired`): of several processes beginning one
/// key at once, exactly one owns it; the others wait for its insert to commit, then find the
/// key in progress (or reused with another fingerprint).
///
/// Lazy: tasks (an empty key or a non-positive ttl throws at the call). Where the awaiter
/// resumes: on the storage's scheduler; responses are encoded on the caller's thread and
/// decoded on the scheduler.
/// Errors: `eddy::request_in_progress`, `eddy::idempotency_key_reused`; `complete` / `abandon`
/// of a key not in progress, an empty key, a non-positive ttl, an empty kind: `eddy::error`;
/// `eddy::decode_error`; `eddy::postgres_error`.
/// Clock: `clock` (empty: the system clock; processes sharing keys should share the clock).
/// Lifetime: a handle on the storage. Thread-safety: every member may be called from any thread
/// concurrently.
///
///     eddy::postgres_idempotency_store<receipt> keys(db, "place-order");
///     receipt r = co_await eddy::idempotent_call(keys, request.key, fingerprint(request), 24h,
///                                                [&] { return place_order(request); });
template <class Response, class Codec = json_codec>
class postgres_idempotency_store {
public:
    using response_type = Response;
    using time_point = std::chrono::system_clock::time_point;
    using duration = std::chrono::steady_clock::duration;
    using clock_function = std::function<time_point()>;

    explicit postgres_idempotency_store(postgres_storage storage, std::string kind = "default",
                                        clock_function clock = {}, Codec codec = {})
        : m_storage(std::move(storage)), m_state(std::make_shared<const state>(
                                             std::move(kind), std::move(clock), std::move(codec))) {
        static_assert(value_codec<Codec, Response>,
                      "eddy::postgres_idempotency_store: the codec cannot encode the response "
                      "type (it needs encode_value / decode_value for it)");
        if (m_state->kind.empty()) {
            throw error("eddy::postgres_idempotency_store: the kind must not be empty");
        }
    }

    [[nodiscard]] task<std::optional<Response>> begin(std::string key, std::string fingerprint,
                                                      duration ttl) {
        if (key.empty()) {
            throw error("eddy::postgres_idempotency_store::begin: empty idempotency key");
        }
        if (ttl <= duration::zero()) {
            throw error("eddy::postgres_idempotency_store::begin: ttl must be positive");
        }
        return begin_impl(m_storage.engine(), m_state, std::move(key), std::move(fingerprint), ttl);
    }

    [[nodiscard]] task<void> complete(std::string key, Response response) {
        detail::pg_params p;
        p.text(m_state->kind).text(key).bytes(m_state->codec.encode_value(response));
        return change(m_storage.engine(),
                      m_storage.engine()->sql(
                          "UPDATE {s}.idempotency_keys SET response = $3 WHERE kind = $1 AND key "
                          "= $2 AND response IS NULL RETURNING 1"),
                      std::move(p), "complete", std::move(key));
    }

    [[nodiscard]] task<void> abandon(std::string key) {
        detail::pg_params p;
        p.text(m_state->kind).text(key);
        return change(m_storage.engine(),
                      m_storage.engine()->sql("DELETE FROM {s}.idempotency_keys WHERE kind = $1 "
                                              "AND key = $2 AND response IS NULL RETURNING 1"),
                      std::move(p), "abandon", std::move(key));
    }

    [[nodiscard]] task<std::size_t> purge_expired() {
        detail::pg_params p;
        p.text(m_state->kind).integer(detail::pg_ns(m_state->now()));
        return purge(m_storage.engine(), std::move(p));
    }

    /// The storage the store lives in.
    [[nodiscard]] const postgres_storage& storage() const noexcept { return m_storage; }

private:
    using engine_ptr = std::shared_ptr<detail::pg_engine>;

    struct state {
        state(std::string k, clock_function cl, Codec co)
            : kind(std::move(k)), clock(std::move(cl)), codec(std::move(co)) {}
        [[nodiscard]] time_point now() const {
            return clock ? clock() : std::chrono::system_clock::now();
        }
        std::string kind;
        clock_function clock;
        Codec codec;
    };
    using state_ptr = std::shared_ptr<const state>;

    static task<std::optional<Response>> begin_impl(engine_ptr e, state_ptr s, std::string key,
                                                    std::string fingerprint, duration ttl) {
        for (;;) {
            const time_point now = s->now();
            const time_point expires = now + std::chrono::duration_cast<time_point::duration>(ttl);
            // Unknown or expired (as if never seen): the caller owns it now.
            detail::pg_params take;
            take.text(s->kind)
                .text(key)
                .text(fingerprint)
                .integer(detail::pg_ns(expires))
                .integer(detail::pg_ns(now));
            task<detail::pg_rows> upsert = detail::pg_engine::read(
                e,
                e->sql("INSERT INTO {s}.idempotency_keys AS k (kind, key, fingerprint, response, "
                       "expires_at) VALUES ($1, $2, $3, NULL, $4) ON CONFLICT (kind, key) DO "
                       "UPDATE SET fingerprint = excluded.fingerprint, response = NULL, "
                       "expires_at = excluded.expires_at WHERE k.expires_at <= $5 RETURNING 1"),
                std::move(take));
            const detail::pg_rows owned = co_await std::move(upsert);
            if (!owned.empty()) {
                co_return std::nullopt;
            }
            detail::pg_params find;
            find.text(s->kind).text(key).integer(detail::pg_ns(now));
            task<detail::pg_rows> read = detail::pg_engine::read(
                e,
                e->sql("SELECT fingerprint, response IS NULL, response FROM {s}.idempotency_keys "
                       "WHERE kind = $1 AND key = $2 AND expires_at > $3"),
                std::move(find));
            const detail::pg_rows rows = co_await std::move(read);
            if (rows.empty()) {
                continue; // abandoned or purged in between: try to take it again
            }
            if (rows.text(0, 0) != fingerprint) {
                throw idempotency_key_reused(key);
            }
            if (rows.boolean(0, 1)) {
                throw request_in_progress(key);
            }
            co_return s->codec.template decode_value<Response>(rows.bytes(0, 2));
        }
    }

    static task<void> change(engine_ptr e, std::string sql, detail::pg_params p, const char* what,
                             std::string key) {
        task<detail::pg_rows> r = detail::pg_engine::read(e, std::move(sql), std::move(p));
        const detail::pg_rows rows = co_await std::move(r);
        if (rows.empty()) {
            throw error(std::string("eddy::postgres_idempotency_store::") + what + ": key '" + key +
                        "' is not in progress");
        }
    }

    static task<std::size_t> purge(engine_ptr e, detail::pg_params p) {
        task<detail::pg_rows> r = detail::pg_engine::read(
            e,
            e->sql("WITH d AS (DELETE FROM {s}.idempotency_keys WHERE kind = $1 AND expires_at "
                   "<= $2 RETURNING 1) SELECT count(*) FROM d"),
            std::move(p));
        const detail::pg_rows rows = co_await std::move(r);
        co_return static_cast<std::size_t>(rows.u64(0, 0));
    }

    postgres_storage m_storage;
    state_ptr m_state;
};

} // namespace eddy
