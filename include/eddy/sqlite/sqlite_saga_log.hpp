// eddy/sqlite/sqlite_saga_log.hpp - eddy::sqlite_saga_log<Ctx, Codec>, the durable saga log on
// SQLite.
#pragma once

#include <functional> // std::function
#include <memory>     // std::shared_ptr, std::make_shared
#include <optional>   // std::optional
#include <string>     // std::string
#include <utility>    // std::move
#include <vector>     // std::vector

#include <eddy/core/task.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/json/json_codec.hpp>
#include <eddy/saga/saga_log.hpp>
#include <eddy/saga/saga_transition.hpp>
#include <eddy/sqlite/detail/engine.hpp>
#include <eddy/sqlite/detail/event_rows.hpp>
#include <eddy/sqlite/detail/saga_rows.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>

namespace eddy {

/// An `eddy::saga_log` in a SQLite file (a `sqlite_storage`): the log that lets sagas resume
/// after the process dies. Tables `eddy_sagas` (one row per saga: log name, id, definition,
/// finished) and `eddy_saga_transitions` (one row per entry: kind by name, step, attempt, time
/// in ns since the epoch, the context encoded with `Codec::encode_value` (JSON by default), the
/// error text). Several logs (of different contexts) share a file under different `name`s.
///
/// Lazy: tasks. Where the awaiter resumes: on the storage's scheduler. Each `start` and
/// `record` is one write transaction (or a savepoint of a group commit), durable per the
/// storage's `synchronous` option when the task completes; `load` and `unfinished` read on the
/// reader thread. Contexts are encoded on the caller's thread and decoded after the read, on the
/// scheduler.
/// Errors: `start` of an id already in the log, `record` for an unknown id: `eddy::error`
/// (nothing written); `eddy::sqlite_error` for SQLite failures; `eddy::decode_error` for a
/// stored context the codec cannot decode.
/// Lifetime: a handle on the storage; the storage's scheduler must outlive its tasks.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::sqlite_storage db("sagas.db", pool);
///     eddy::sqlite_saga_log<order> log(db);
///     eddy::saga_coordinator coordinator(pool, log);
template <class Ctx, class Codec = json_codec>
class sqlite_saga_log {
public:
    using context_type = Ctx;

    /// The log `name` in `storage`, encoding contexts with `codec`.
    explicit sqlite_saga_log(sqlite_storage storage, std::string name = "default", Codec codec = {})
        : m_storage(std::move(storage)), m_name(std::move(name)),
          m_codec(std::make_shared<const Codec>(std::move(codec))) {
        static_assert(value_codec<Codec, Ctx>,
                      "eddy::sqlite_saga_log: the codec cannot encode the context type (it needs "
                      "encode_value / decode_value for it)");
    }

    [[nodiscard]] task<void> start(std::string id, std::string definition,
                                   saga_transition<Ctx> first) {
        detail::encoded_transition t = encode(*m_codec, first);
        std::function<bool(detail::connection&)> f = [log = m_name, id = std::move(id),
                                                      definition = std::move(definition),
                                                      t = std::move(t)](detail::connection& c) {
            detail::start_saga_row(c, log, id, definition, t);
            return true;
        };
        return detail::sqlite_engine::write_void(m_storage.engine(), std::move(f));
    }

    [[nodiscard]] task<void> record(std::string id, saga_transition<Ctx> transition) {
        detail::encoded_transition t = encode(*m_codec, transition);
        std::function<bool(detail::connection&)> f = [log = m_name, id = std::move(id),
                                                      t = std::move(t)](detail::connection& c) {
            detail::record_saga_row(c, log, id, t);
            return true;
        };
        return detail::sqlite_engine::write_void(m_storage.engine(), std::move(f));
    }

    [[nodiscard]] task<std::optional<saga_history<Ctx>>> load(std::string id) const {
        return load_impl(m_storage.engine(), m_codec, m_name, std::move(id));
    }

    [[nodiscard]] task<std::vector<std::string>> unfinished() const {
        return detail::sqlite_engine::read<std::vector<std::string>>(
            m_storage.engine(),
            [log = m_name](detail::connection& c) { return detail::unfinished_saga_rows(c, log); });
    }

    /// The storage the log lives in.
    [[nodiscard]] const sqlite_storage& storage() const noexcept { return m_storage; }

private:
    using engine_ptr = std::shared_ptr<detail::sqlite_engine>;

    static detail::encoded_transition encode(const Codec& codec, const saga_transition<Ctx>& t) {
        detail::encoded_transition out;
        out.kind = t.kind;
        out.step = t.step;
        out.attempt = t.attempt;
        out.at = detail::to_ns(t.at);
        if (t.context) {
            out.context = codec.encode_value(*t.context);
        }
        out.error = t.error;
        return out;
    }

    static task<std::optional<saga_history<Ctx>>>
    load_impl(engine_ptr e, std::shared_ptr<const Codec> codec, std::string log, std::string id) {
        using rows = std::optional<detail::encoded_history>;
        std::function<rows(detail::connection&)> f = [log, id](detail::connection& c) {
            return detail::load_saga_rows(c, log, id);
        };
        task<rows> r = detail::sqlite_engine::read<rows>(std::move(e), std::move(f));
        rows stored = co_await std::move(r);
        if (!stored) {
            co_return std::nullopt;
        }
        saga_history<Ctx> h;
        h.id = std::move(stored->id);
        h.definition = std::move(stored->definition);
        h.transitions.reserve(stored->transitions.size());
        for (detail::encoded_transition& t : stored->transitions) {
            saga_transition<Ctx> out;
            out.kind = t.kind;
            out.step = std::move(t.step);
            out.attempt = t.attempt;
            out.at = detail::from_ns(t.at);
            if (t.context) {
                out.context = codec->template decode_value<Ctx>(*t.context);
            }
            out.error = std::move(t.error);
            h.transitions.push_back(std::move(out));
        }
        co_return h;
    }

    sqlite_storage m_storage;
    std::string m_name;
    std::shared_ptr<const Codec> m_codec;
};

} // namespace eddy
