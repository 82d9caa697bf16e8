// eddy/postgres/postgres_event_store.hpp - eddy::postgres_event_store<Events, Codec>, the event
// store in PostgreSQL.
#pragma once

#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint64_t, std::int64_t
#include <memory>   // std::shared_ptr, std::make_shared, std::make_unique
#include <optional> // std::optional
#include <string>   // std::string
#include <utility>  // std::move
#include <vector>   // std::vector

#include <eddy/core/async_event.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/append_result.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/event_store.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/es/stream_metadata.hpp>
#include <eddy/json/json_codec.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/event_rows.hpp>
#include <eddy/postgres/detail/group_commit.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/postgres/postgres_unit_of_work.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// An `eddy::event_store` in a PostgreSQL schema (a `postgres_storage`): payloads are encoded
/// with `Codec` (JSON by default) into `<schema>.events.payload` (bytea), metadata sit in
/// columns of their own (position, xid, stream_id, stream_version, event_id, type_name,
/// schema_version, recorded_at, correlation_id, causation_id, tenant, traceparent, headers as
/// jsonb). UNIQUE (stream_id, stream_version) and UNIQUE event_id back the checks up.
///
/// Lazy: `append` is a task (queued when awaited); reads are streams (nothing happens before a
/// pull).
/// Where the awaiter resumes: on the storage's scheduler (see `eddy::postgres_storage`);
/// encoding runs on the caller's thread, decoding on the scheduler after each page.
/// Semantics: those of `eddy::event_store` and `eddy::memory_event_store` (exact idempotency
/// by event id, payloads compared by their encoded bytes; stream metadata; soft delete).
/// Appends to one stream are serialized by a lock on the stream's row (held until COMMIT), so
/// expectations are checked against every committed append; appends to different streams run
/// in parallel, on several connections and from several processes.
///
/// Group commit. Plain appends (`append(stream, expected, events)`; not those added to a unit
/// of work) go through one queue of the storage, shared by every event store on it (whatever
/// its events type or codec: a batch spans the storage's plain appends, never units or other
/// storages and processes). An
/// append that finds no commit of the queue running starts one at once: a lone appender waits
/// for nothing (no timer gathers batches). Appends arriving while it runs wait, and the next
/// commit takes all those waiting, in arrival order, up to 256 events or 1 MiB (an append
/// re-using an event id of an earlier one waits for the next batch), into one transaction of a
/// constant number of statements: it locks (creating) the batch's streams in one statement, in
/// byte order of their ids (batches of any process cannot deadlock with each other, nor with
/// units appending to one stream), reads the stored events of the batch's explicit ids in one,
/// decides each append in order, then one statement takes the positions of all its events (one
/// allocation, as a unit's: the rules below hold), sends one NOTIFY, inserts the events and
/// sets the streams' new versions; then COMMIT (with BEGIN, 4 statements, 5 with explicit
/// ids). A lone append (none other waiting) is committed as a unit with that append would be,
/// statement for statement. Each append still gets its own result (its
/// version and positions; appends to one stream in a batch behave exactly as if run one after
/// the other in arrival order) or its own error: a failing expectation or a duplicate event id
/// fails only that append (nothing of it is written, a stream only it named is not created);
/// when a statement of the batch fails with a server error (an id inserted meanwhile by another
/// transaction, a deadlock with a unit locking several streams in another order, text that is
/// not valid UTF-8), the batch's appends are committed again one by one, each in a transaction
/// of its own; a lost connection fails every append of the batch with that error (none of them
/// is written; during COMMIT itself the outcome is unknown, as for any commit). An append's
/// task completes once its transaction has committed (its events are as durable as the
/// server makes a commit), and resumes on the storage's scheduler, each append's separately.
///
/// Global order, the choice and its cost. Concurrent transactions commit out of the order of
/// the positions they took, so a reader doing `position > last` would pass a position whose
/// transaction is still open and never see it. Here:
/// - A unit takes the positions of all its events at its end, after every check passed, in one
///   allocation (a sequence advanced under a session advisory lock held for the allocation
///   only, never until COMMIT: commits stay parallel). A batch's positions are consecutive;
///   positions have no gaps except those of a transaction that failed after taking them (a
///   lost connection, a failing write after the events). A check that fails takes none.
/// - The allocation makes sure the transaction has its id (xid8) before it takes positions,
///   and each row stores it (`xid`: for operators and for (xid, position) checkpoints of later
///   stores; readers do not need it).
/// - Readers deliver positions in order and never pass a missing one blindly: reading in one
///   statement the rows from the next position and the statement's snapshot, a reader that
///   finds position p missing while a later one is visible takes a fresh transaction id h
///   (`pg_current_xact_id()`, after that read: every transaction that could own p had its id
///   below h, since it took p before the later position's transaction committed). It passes p
///   only once a snapshot's watermark `pg_snapshot_xmin(pg_current_snapshot())` reaches h
///   (every such transaction has ended, so p is committed and visible, or never will be);
///   until then it waits before p. No timeouts, no skip heuristics. (The snapshot's xmax
///   would not do as h: it is one past the latest *completed* id, and an open transaction may
///   hold a larger one.)
/// - Cost: a gap lasts while a later position's transaction has committed and an earlier one's
///   has not (brief, and common under concurrent appends), and after a transaction failed with
///   positions taken. While there is one, readers wait for the oldest transaction open in the
///   whole cluster (any database) to end, not only for the appenders: a long transaction
///   anywhere delays readers (never writers). Each new gap costs the reader one statement
///   and one transaction id. Both reads wait at an unresolved gap, re-reading on the next
///   notification (the owner's commit sends one) or poll tick (how they pass a rolled-back
///   position); `read_all` then reads on to the end and ends: it returns every event committed
///   before it was called. (Ending at the gap would silently drop the events behind a position
///   a killed process took: such a gap resolves only once the watermark passes, which one
///   re-read right away rarely sees while other transactions run.)
/// `subscribe_all`: reads up to the end, then waits; commits of this storage wake it at once,
/// commits of other processes by LISTEN/NOTIFY (NOTIFY is sent in the appending transaction),
/// and it re-reads every `postgres_options::poll_interval` as a fallback.
/// Cancellation: a `subscribe_all` pull waiting for new events ends with
/// `eddy::operation_cancelled` when the puller's stop token is stopped. Appends do not observe
/// stop tokens (a queued append is committed with its batch).
/// Errors: `eddy::concurrency_conflict`, `eddy::duplicate_event_id` (nothing written);
/// `eddy::postgres_error` for server and connection failures (a read or subscription whose
/// connection is lost throws it from the pull, and the stream ends: a consumer resumes from its
/// checkpoint with a new stream); `eddy::unknown_event_type` /
/// `eddy::decode_error` from a read of a row the codec cannot decode (naming stream and
/// position); an `eddy::error` for a unit of another storage.
/// Lifetime: streams and tasks share the storage, so they may outlive the store object; the
/// scheduler given to the storage must outlive them all (and the queue's commits, which end
/// once no append waits).
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::postgres_storage db(conninfo, pool);
///     eddy::postgres_event_store<order_events> store(db);
///     co_await store.append("order-1", eddy::expected_version::no_stream(), {placed});
///     auto events = co_await eddy::to_vector(store.read_stream("order-1", 1));
template <event_variant Events, class Codec = json_codec>
class postgres_event_store {
public:
    using event_type = Events;
    using envelope_type = event_envelope<Events>;
    using codec_type = Codec;
    using unit_type = postgres_unit_of_work;

    /// In `storage`, encoding with `codec`.
    explicit postgres_event_store(postgres_storage storage, Codec codec = {})
        : m_storage(std::move(storage)), m_codec(std::make_shared<const Codec>(std::move(codec))) {
        static_assert(detail::check_codec<Codec, Events>());
    }

    [[nodiscard]] task<append_result> append(std::string stream_id, expected_version expected,
                                             std::vector<proposed_event<Events>> batch) {
        return append_alone(m_storage, m_group, m_codec, std::move(stream_id), expected,
                            std::move(batch));
    }

    /// Adds the append to `unit` (encoded now; checked and written when the unit commits, with
    /// everything else in it). Returns the index of its result in `commit_result::appends`.
    std::size_t append(postgres_unit_of_work& unit, std::string stream_id,
                       expected_version expected, std::vector<proposed_event<Events>> batch) {
        return add_append(unit, m_storage, *m_codec, std::move(stream_id), expected,
                          std::move(batch));
    }

    [[nodiscard]] stream<envelope_type> read_stream(std::string stream_id,
                                                    std::uint64_t from_version = 1) const {
        return read_stream_of(m_storage.engine(), m_codec, std::move(stream_id), from_version);
    }

    [[nodiscard]] stream<envelope_type> read_all(std::uint64_t from_position = 1) const {
        return read_all_of(m_storage.engine(), m_codec, from_position, false);
    }

    [[nodiscard]] stream<envelope_type> subscribe_all(std::uint64_t from_position = 1) const {
        return read_all_of(m_storage.engine(), m_codec, from_position, true);
    }

    /// Soft-deletes the stream when its version satisfies `expected`; otherwise
    /// `eddy::concurrency_conflict`.
    [[nodiscard]] task<void> delete_stream(std::string stream_id, expected_version expected) {
        return commit_one(m_storage,
                          std::make_unique<detail::pg_delete_op>(std::move(stream_id), expected));
    }

    /// Replaces the stream's metadata (truncate-before, max count).
    [[nodiscard]] task<void> set_stream_metadata(std::string stream_id, stream_metadata md) {
        return commit_one(m_storage,
                          std::make_unique<detail::pg_metadata_op>(std::move(stream_id), md));
    }

    /// The stream's metadata (all zero when never set).
    [[nodiscard]] task<stream_metadata> get_stream_metadata(std::string stream_id) const {
        return metadata_of(m_storage.engine(), std::move(stream_id));
    }

    /// The storage the store lives in.
    [[nodiscard]] const postgres_storage& storage() const noexcept { return m_storage; }

private:
    static constexpr std::int64_t page_size = 256;
    using engine_ptr = std::shared_ptr<detail::pg_engine>;
    using codec_ptr = std::shared_ptr<const Codec>;
    using group_ptr = std::shared_ptr<detail::pg_group_queue>;

    static std::vector<detail::pg_encoded_proposed> encode(const Codec& codec,
                                                           std::vector<proposed_event<Events>> b) {
        std::vector<detail::pg_encoded_proposed> out;
        out.reserve(b.size());
        for (proposed_event<Events>& e : b) {
            out.push_back(detail::pg_encoded_proposed{e.event_id, encode_event(codec, e.payload),
                                                      std::move(e.metadata)});
        }
        return out;
    }

    static std::size_t add_append(postgres_unit_of_work& unit, const postgres_storage& storage,
                                  const Codec& codec, std::string stream_id,
                                  expected_version expected,
                                  std::vector<proposed_event<Events>> batch) {
        auto op = std::make_unique<detail::pg_append_op>(std::move(stream_id), expected,
                                                         encode(codec, std::move(batch)));
        detail::pg_append_op* raw = op.get();
        raw->slot = unit.add(storage.engine().get(), std::move(op), true);
        return raw->slot;
    }

    // Through the storage's queue (see the class's comment): checked, encoded, then committed
    // in the next batch.
    static task<append_result> append_alone(postgres_storage storage, group_ptr group,
                                            codec_ptr codec, std::string stream_id,
                                            expected_version expected,
                                            std::vector<proposed_event<Events>> batch) {
        detail::pg_group_member me(std::move(stream_id), expected,
                                   encode(*codec, std::move(batch)));
        detail::pg_check_repeated_ids(me.stream_id, me.batch);
        task<append_result> append =
            detail::pg_group_append(storage.engine(), std::move(group), &me);
        co_return co_await std::move(append);
    }

    static task<void> commit_one(postgres_storage storage, std::unique_ptr<detail::pg_unit_op> op) {
        postgres_unit_of_work unit = storage.begin();
        unit.add(storage.engine().get(), std::move(op), false);
        co_await storage.commit(std::move(unit));
    }

    static task<stream_metadata> metadata_of(engine_ptr e, std::string stream_id) {
        std::string sql =
            e->sql("SELECT truncate_before, max_count FROM {s}.streams WHERE stream_id = $1");
        detail::pg_params params;
        params.text(std::move(stream_id));
        task<detail::pg_rows> read =
            detail::pg_engine::read(e, std::move(sql), std::move(params), false, true);
        const detail::pg_rows rows = co_await std::move(read);
        stream_metadata md;
        if (!rows.empty()) {
            md.truncate_before = rows.u64(0, 0);
            md.max_count = rows.u64(0, 1);
        }
        co_return md;
    }

    static envelope_type decode(const Codec& codec, detail::pg_event_row& row) {
        Events payload = decode_event<Events>(codec, row.event.type_name, row.event.schema_version,
                                              row.event.bytes, row.stream_id, row.position);
        return envelope_type{
            row.event_id,    std::move(row.stream_id),       row.stream_version,
            row.position,    std::move(row.event.type_name), row.event.schema_version,
            row.recorded_at, std::move(row.metadata),        std::move(payload)};
    }

    static stream<envelope_type> read_stream_of(engine_ptr e, codec_ptr codec,
                                                std::string stream_id, std::uint64_t from) {
        std::uint64_t version = from == 0 ? 1 : from;
        const std::string sql = detail::pg_read_stream_sql(*e);
        for (;;) {
            detail::pg_params params;
            params.text(stream_id).integer(static_cast<std::int64_t>(version)).integer(page_size);
            task<detail::pg_rows> read =
                detail::pg_engine::read(e, sql, std::move(params), false, true);
            const detail::pg_rows rows = co_await std::move(read);
            std::vector<detail::pg_event_row> page = detail::pg_event_rows_of(rows);
            for (detail::pg_event_row& row : page) {
                version = row.stream_version + 1;
                co_yield decode(*codec, row);
            }
            if (static_cast<std::int64_t>(page.size()) < page_size) {
                co_return;
            }
        }
    }

    static stream<envelope_type> read_all_of(engine_ptr e, codec_ptr codec, std::uint64_t from,
                                             bool live) {
        std::uint64_t next = from == 0 ? 1 : from;
        // The gap being waited for: its first missing position and an xid above that of every
        // transaction that could own it.
        std::uint64_t gap_at = 0;
        std::optional<std::uint64_t> gap_horizon;
        const std::string sql = detail::pg_read_all_sql(*e);
        for (;;) {
            // Taken before the read: a commit after it sets this very event (no lost wake-up).
            std::shared_ptr<async_event> committed = e->commits();
            detail::pg_params params;
            params.integer(static_cast<std::int64_t>(next)).integer(page_size);
            task<detail::pg_rows> read =
                detail::pg_engine::read(e, sql, std::move(params), live, true);
            const detail::pg_rows rows = co_await std::move(read);
            detail::pg_event_page page = detail::pg_event_page_of(rows);
            bool blocked = false;
            bool new_gap = false;
            for (detail::pg_event_row& row : page.rows) {
                if (row.position > next) {
                    // `next` is missing. Its owner took it before this row's transaction
                    // committed, so before this read: it has ended once the watermark passes an
                    // xid assigned after this read.
                    blocked = !(gap_horizon && gap_at == next && page.xmin >= *gap_horizon);
                    new_gap = blocked && !(gap_horizon && gap_at == next);
                    if (blocked) {
                        break;
                    }
                }
                gap_horizon.reset();
                next = row.position + 1;
                co_yield decode(*codec, row);
            }
            if (new_gap) {
                // A fresh xid is above every xid assigned so far (a snapshot's xmax is not:
                // it is one past the latest completed). Then read again at once.
                task<detail::pg_rows> fresh = detail::pg_engine::read(
                    e, "SELECT pg_current_xact_id()::text", detail::pg_params(), false, true);
                const detail::pg_rows xid = co_await std::move(fresh);
                gap_at = next;
                gap_horizon = xid.u64(0, 0);
                continue;
            }
            if (!blocked && static_cast<std::int64_t>(page.rows.size()) == page_size) {
                continue;
            }
            if (!live && !blocked) {
                co_return;
            }
            co_await committed->wait(); // g++ 12: never inside a condition
            co_await e->hop();          // woken on the I/O thread
        }
    }

    postgres_storage m_storage;
    codec_ptr m_codec;
    group_ptr m_group = m_storage.engine()->template shared_state<detail::pg_group_queue>();
};

} // namespace eddy
