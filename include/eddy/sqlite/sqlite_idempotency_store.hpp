// eddy/sqlite/sqlite_idempotency_store.hpp - eddy::sqlite_idempotency_store<Response, Codec>:
// idempotency keys (Stripe's model) in a SQLite file, shared by every process using it.
#pragma once

#include <chrono>     // std::chrono::system_clock, std::chrono::steady_clock
#include <cstddef>    // std::size_t
#include <cstdint>    // std::int64_t
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
#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/detail/engine.hpp>
#include <eddy/sqlite/detail/event_rows.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>

namespace eddy {

/// Idempotency keys in a SQLite file (table `eddy_idempotency_keys`: kind, key, fingerprint,
/// response encoded with `Codec::encode_value` or NULL while in progress, expires_at in ns);
/// models `eddy::idempotency_store` with the semantics of `eddy::memory_idempotency_store`
/// (`begin` / `complete` / `abandon` / `purge_expired`; use `eddy::idempotent_call`). `kind`
/// separates the keys of different requests (and response types) in one file. Because the
/// key lives in the file, a repeat reaching another process is answered the same way, and a
/// key whose request was running when its process died stays in progress until its ttl ends
/// (at-most-once, as Stripe's).
///
/// Lazy: tasks, each one write (or read) on the storage's threads. Where the awaiter resumes:
/// on the storage's scheduler; responses are encoded on the caller's thread and decoded on the
/// scheduler. Errors: `eddy::request_in_progress`, `eddy::idempotency_key_reused`; `complete` /
/// `abandon` of a key not in progress, an empty key, a non-positive ttl: `eddy::error`;
/// `eddy::decode_error`; `eddy::sqlite_error`.
/// Clock: `clock` (empty: the system clock). Lifetime: a handle on the storage.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::sqlite_idempotency_store<receipt> keys(db, "place-order");
///     receipt r = co_await eddy::idempotent_call(keys, request.key, fingerprint(request), 24h,
///                                                [&] { return place_order(request); });
template <class Response, class Codec = json_codec>
class sqlite_idempotency_store {
public:
    using response_type = Response;
    using time_point = std::chrono::system_clock::time_point;
    using duration = std::chrono::steady_clock::duration;
    using clock_function = std::function<time_point()>;

    explicit sqlite_idempotency_store(sqlite_storage storage, std::string kind = "default",
                                      clock_function clock = {}, Codec codec = {})
        : m_storage(std::move(storage)), m_state(std::make_shared<const state>(
                                             std::move(kind), std::move(clock), std::move(codec))) {
        static_assert(value_codec<Codec, Response>,
                      "eddy::sqlite_idempotency_store: the codec cannot encode the response type "
                      "(it needs encode_value / decode_value for it)");
        if (m_state->kind.empty()) {
            throw error("eddy::sqlite_idempotency_store: the kind must not be empty");
        }
    }

    [[nodiscard]] task<std::optional<Response>> begin(std::string key, std::string fingerprint,
                                                      duration ttl) {
        if (key.empty()) {
            throw error("eddy::sqlite_idempotency_store::begin: empty idempotency key");
        }
        if (ttl <= duration::zero()) {
            throw error("eddy::sqlite_idempotency_store::begin: ttl must be positive");
        }
        return begin_impl(m_storage.engine(), m_state, std::move(key), std::move(fingerprint), ttl);
    }

    [[nodiscard]] task<void> complete(std::string key, Response response) {
        std::function<bool(detail::connection&)> f =
            [s = m_state, key = std::move(key),
             text = m_state->codec.encode_value(response)](detail::connection& c) {
                c.cached("UPDATE eddy_idempotency_keys SET response = ? "
                         "WHERE kind = ? AND key = ? AND response IS NULL")
                    .bind(1, text)
                    .bind(2, s->kind)
                    .bind(3, key)
                    .run();
                if (c.changes() == 0) {
                    throw error("eddy::sqlite_idempotency_store::complete: key '" + key +
                                "' is not in progress");
                }
                return true;
            };
        return detail::sqlite_engine::write_void(m_storage.engine(), std::move(f));
    }

    [[nodiscard]] task<void> abandon(std::string key) {
        std::function<bool(detail::connection&)> f = [s = m_state,
                                                      key = std::move(key)](detail::connection& c) {
            c.cached("DELETE FROM eddy_idempotency_keys "
                     "WHERE kind = ? AND key = ? AND response IS NULL")
                .bind(1, s->kind)
                .bind(2, key)
                .run();
            if (c.changes() == 0) {
                throw error("eddy::sqlite_idempotency_store::abandon: key '" + key +
                            "' is not in progress");
            }
            return true;
        };
        return detail::sqlite_engine::write_void(m_storage.engine(), std::move(f));
    }

    [[nodiscard]] task<std::size_t> purge_expired() {
        return detail::sqlite_engine::write<std::size_t>(
            m_storage.engine(),
            [s = m_state](detail::connection& c) {
                c.cached("DELETE FROM eddy_idempotency_keys WHERE kind = ? AND expires_at <= ?")
                    .bind(1, s->kind)
                    .bind(2, detail::to_ns(s->now()))
                    .run();
                return static_cast<std::size_t>(c.changes());
            },
            false);
    }

    /// The storage the store lives in.
    [[nodiscard]] const sqlite_storage& storage() const noexcept { return m_storage; }

private:
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

    // What `begin` found: the caller owns the key now (empty), or the stored response's text.
    struct begin_row {
        bool owned = false;
        std::string response;
    };

    static task<std::optional<Response>> begin_impl(std::shared_ptr<detail::sqlite_engine> e,
                                                    std::shared_ptr<const state> s, std::string key,
                                                    std::string fingerprint, duration ttl) {
        std::function<begin_row(detail::connection&)> f = [s, key, fingerprint,
                                                           ttl](detail::connection& c) {
            const time_point now = s->now();
            detail::statement& find =
                c.cached("SELECT fingerprint, response, expires_at FROM eddy_idempotency_keys "
                         "WHERE kind = ? AND key = ?");
            find.bind(1, s->kind).bind(2, key);
            if (find.step()) {
                const std::string stored_fingerprint = find.text(0);
                const bool in_progress = find.is_null(1);
                std::string response = find.text(1);
                const bool expired = find.int64(2) <= detail::to_ns(now);
                find.reset();
                if (!expired) {
                    if (stored_fingerprint != fingerprint) {
                        throw idempotency_key_reused(key);
                    }
                    if (in_progress) {
                        throw request_in_progress(key);
                    }
                    return begin_row{false, std::move(response)};
                }
            }
            // Unknown or expired (as if never seen): the caller owns it now.
            c.cached("INSERT INTO eddy_idempotency_keys (kind, key, fingerprint, response, "
                     "expires_at) VALUES (?, ?, ?, NULL, ?) ON CONFLICT (kind, key) DO UPDATE "
                     "SET fingerprint = excluded.fingerprint, response = NULL, "
                     "expires_at = excluded.expires_at")
                .bind(1, s->kind)
                .bind(2, key)
                .bind(3, fingerprint)
                .bind(4, detail::to_ns(now + std::chrono::duration_cast<time_point::duration>(ttl)))
                .run();
            return begin_row{true, {}};
        };
        task<begin_row> w =
            detail::sqlite_engine::write<begin_row>(std::move(e), std::move(f), false);
        begin_row found = co_await std::move(w);
        if (found.owned) {
            co_return std::nullopt;
        }
        co_return s->codec.template decode_value<Response>(found.response);
    }

    sqlite_storage m_storage;
    std::shared_ptr<const state> m_state;
};

} // namespace eddy
