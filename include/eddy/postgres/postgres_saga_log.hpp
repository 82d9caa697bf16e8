// eddy/postgres/postgres_saga_log.hpp - eddy::postgres_saga_log<Ctx, Codec>, the durable saga log
// in PostgreSQL.
#pragma once

#include <memory>   // std::shared_ptr, std::make_shared, std::make_unique
#include <optional> // std::optional
#include <string>   // std::string
#include <utility>  // std::move
#include <vector>   // std::vector

#include <eddy/core/task.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/json/json_codec.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/detail/saga_rows.hpp>
#include <eddy/postgres/detail/values.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/saga/saga_log.hpp>
#include <eddy/saga/saga_transition.hpp>

namespace eddy {

/// An `eddy::saga_log` in PostgreSQL (a `postgres_storage`): the log that lets sagas resume
/// after a process dies, in another process if need be. Tables `<schema>.sagas` (one row per
/// saga: log name, id, definition, finished) and `<schema>.saga_transitions` (one row per
/// entry: kind by name, step, attempt, time in nanoseconds since the epoch, the context encoded
/// with `Codec::encode_value` (JSON by default) as bytea, the error text). Several logs (of
/// different contexts) share a schema under different `name`s.
///
/// Lazy: tasks. Where the awaiter resumes: on the storage's scheduler. Each `start` and
/// `record` is one transaction, durable when the task completes; `record` locks the saga's row
/// first, so records of one saga from several processes number their entries one after the
/// other. `load` reads the history in one statement (one snapshot). Contexts are encoded on the
/// caller's thread and decoded after the read, on the scheduler.
/// Errors: `start` of an id already in the log, `record` for an unknown id: `eddy::error`
/// (nothing written); `eddy::postgres_error` for server and connection failures;
/// `eddy::decode_error` for a stored context the codec cannot decode.
/// Lifetime: a handle on the storage; the storage's scheduler must outlive its tasks.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::postgres_storage db(conninfo, pool);
///     eddy::postgres_saga_log<order> log(db);
///     eddy::saga_coordinator coordinator(pool, log);
template <class Ctx, class Codec = json_codec>
class postgres_saga_log {
public:
    using context_type = Ctx;

    /// The log `name` in `storage`, encoding contexts with `codec`.
    explicit postgres_saga_log(postgres_storage storage, std::string name = "default",
                               Codec codec = {})
        : m_storage(std::move(storage)), m_name(std::move(name)),
          m_codec(std::make_shared<const Codec>(std::move(codec))) {
        static_assert(value_codec<Codec, Ctx>,
                      "eddy::postgres_saga_log: the codec cannot encode the context type (it "
                      "needs encode_value / decode_value for it)");
    }

    [[nodiscard]] task<void> start(std::string id, std::string definition,
                                   saga_transition<Ctx> first) {
        return detail::pg_engine::run_alone(
            m_storage.engine(),
            std::make_unique<detail::pg_saga_start_op>(m_name, std::move(id), std::move(definition),
                                                       encode(*m_codec, first)));
    }

    [[nodiscard]] task<void> record(std::string id, saga_transition<Ctx> transition) {
        return detail::pg_engine::run_alone(
            m_storage.engine(), std::make_unique<detail::pg_saga_record_op>(
                                    m_name, std::move(id), encode(*m_codec, transition)));
    }

    [[nodiscard]] task<std::optional<saga_history<Ctx>>> load(std::string id) const {
        return load_impl(m_storage.engine(), m_codec, m_name, std::move(id));
    }

    [[nodiscard]] task<std::vector<std::string>> unfinished() const {
        return unfinished_impl(m_storage.engine(), m_name);
    }

    /// The storage the log lives in.
    [[nodiscard]] const postgres_storage& storage() const noexcept { return m_storage; }

private:
    using engine_ptr = std::shared_ptr<detail::pg_engine>;

    static detail::pg_encoded_transition encode(const Codec& codec, const saga_transition<Ctx>& t) {
        detail::pg_encoded_transition out;
        out.kind = t.kind;
        out.step = t.step;
        out.attempt = t.attempt;
        out.at = detail::pg_ns(t.at);
        if (t.context) {
            out.context = codec.encode_value(*t.context);
        }
        out.error = t.error;
        return out;
    }

    static task<std::optional<saga_history<Ctx>>>
    load_impl(engine_ptr e, std::shared_ptr<const Codec> codec, std::string log, std::string id) {
        detail::pg_params p;
        p.text(std::move(log)).text(id);
        task<detail::pg_rows> r =
            detail::pg_engine::read(e, detail::pg_saga_load_sql(*e), std::move(p));
        const detail::pg_rows rows = co_await std::move(r);
        std::optional<detail::pg_encoded_history> stored =
            detail::pg_saga_history_of(rows, std::move(id));
        if (!stored) {
            co_return std::nullopt;
        }
        saga_history<Ctx> h;
        h.id = std::move(stored->id);
        h.definition = std::move(stored->definition);
        h.transitions.reserve(stored->transitions.size());
        for (detail::pg_encoded_transition& t : stored->transitions) {
            saga_transition<Ctx> out;
            out.kind = t.kind;
            out.step = std::move(t.step);
            out.attempt = t.attempt;
            out.at = detail::pg_time(t.at);
            if (t.context) {
                out.context = codec->template decode_value<Ctx>(*t.context);
            }
            out.error = std::move(t.error);
            h.transitions.push_back(std::move(out));
        }
        co_return h;
    }

    static task<std::vector<std::string>> unfinished_impl(engine_ptr e, std::string log) {
        detail::pg_params p;
        p.text(std::move(log));
        task<detail::pg_rows> r = detail::pg_engine::read(
            e, e->sql("SELECT saga_id FROM {s}.sagas WHERE log = $1 AND NOT finished ORDER BY seq"),
            std::move(p));
        const detail::pg_rows rows = co_await std::move(r);
        std::vector<std::string> ids;
        for (int i = 0; i < rows.size(); ++i) {
            ids.push_back(rows.text(i, 0));
        }
        co_return ids;
    }

    postgres_storage m_storage;
    std::string m_name;
    std::shared_ptr<const Codec> m_codec;
};

} // namespace eddy
