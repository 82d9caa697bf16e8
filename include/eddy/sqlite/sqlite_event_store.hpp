// eddy/sqlite/sqlite_event_store.hpp - eddy::sqlite_event_store<Events, Codec>, the event store
// on SQLite.
#pragma once

#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t
#include <functional> // std::function
#include <memory>     // std::shared_ptr, std::make_unique
#include <optional>   // std::optional
#include <string>     // std::string
#include <utility>    // std::move
#include <vector>     // std::vector

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
#include <eddy/sqlite/detail/engine.hpp>
#include <eddy/sqlite/detail/event_rows.hpp>
#include <eddy/sqlite/detail/unit_op.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>
#include <eddy/sqlite/sqlite_unit_of_work.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// An `eddy::event_store` in a SQLite file (a `sqlite_storage`): payloads are encoded with
/// `Codec` (JSON by default, so `SELECT type_name, payload FROM eddy_events` in the sqlite3 shell
/// shows them), metadata sits in columns of its own (`eddy_events`: position, stream_id,
/// stream_version, event_id, type_name, schema_version, recorded_at in ns since the epoch,
/// correlation_id, causation_id, tenant, traceparent, headers as a JSON object, payload).
/// UNIQUE (stream_id, stream_version) and UNIQUE event_id back the checks up.
///
/// Lazy: `append` is a task; reads are streams (nothing happens before a pull).
/// Where the awaiter resumes: on the storage's scheduler (see `eddy::sqlite_storage`); encoding
/// runs on the caller's thread before the write, decoding on the scheduler after each read.
/// Semantics: those of `eddy::event_store` and of `eddy::memory_event_store` (exact
/// idempotency by event id, payloads compared by their encoded bytes; stream metadata; soft
/// delete). Positions are the `INTEGER PRIMARY KEY`, assigned by the one writer inside its write
/// transaction (another process writing the same file holds SQLite's write lock meanwhile), so
/// commit order is position order and a reader never sees a gap later filled: `subscribe_all`
/// needs no gap handling. Ids the caller left nil are UUID v7s made on the writer thread, so
/// they grow in commit order too. A plain `append` (outside a unit of work) shares the group
/// commit's transaction without a savepoint of its own: its checks all read before it writes,
/// and one failing after its first write (a constraint, a full disk) has the transaction begun
/// again without it, so it never fails or changes the others. Reads are paged (256 events per
/// query on the reader thread), so memory stays bounded however long the stream.
/// `subscribe_all`: reads up to the end, then waits; a commit of this storage wakes it at once,
/// commits of other processes are found by polling (`sqlite_options::poll_interval`, SQLite's
/// `data_version`).
/// Cancellation: a `subscribe_all` pull waiting for new events ends with
/// `eddy::operation_cancelled` when the puller's stop token is stopped.
/// Errors: `eddy::concurrency_conflict`, `eddy::duplicate_event_id` (nothing written);
/// `eddy::sqlite_error` for SQLite failures; `eddy::unknown_event_type` / `eddy::decode_error`
/// from a read of a row the codec cannot decode (naming stream and position); an `eddy::error`
/// for a unit of another storage.
/// Lifetime: streams and tasks share the storage, so they may outlive the store object; the
/// scheduler given to the storage must outlive them all.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::sqlite_storage db(path, pool);
///     eddy::sqlite_event_store<order_events> store(db);
///     co_await store.append("order-1", eddy::expected_version::no_stream(), {placed});
///     auto events = co_await eddy::to_vector(store.read_stream("order-1", 1));
template <event_variant Events, class Codec = json_codec>
class sqlite_event_store {
public:
    using event_type = Events;
    using envelope_type = event_envelope<Events>;
    using codec_type = Codec;
    using unit_type = sqlite_unit_of_work;

    /// In `storage`, encoding with `codec`.
    explicit sqlite_event_store(sqlite_storage storage, Codec codec = {})
        : m_storage(std::move(storage)), m_codec(std::make_shared<const Codec>(std::move(codec))) {
        static_assert(detail::check_codec<Codec, Events>());
    }

    [[nodiscard]] task<append_result> append(std::string stream_id, expected_version expected,
                                             std::vector<proposed_event<Events>> batch) {
        return append_alone(m_storage.engine(), m_codec, std::move(stream_id), expected,
                            std::move(batch));
    }

    /// Adds the append to `unit` (encoded now; checked and written when the unit commits, with
    /// everything else in it). Returns the index of its result in `commit_result::appends`.
    std::size_t append(sqlite_unit_of_work& unit, std::string stream_id, expected_version expected,
                       std::vector<proposed_event<Events>> batch) {
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
        return detail::sqlite_engine::write_void(
            m_storage.engine(),
            [stream_id, expected](detail::connection& c) {
                detail::delete_stream_row(c, stream_id, expected);
                return true;
            },
            true);
    }

    /// Replaces the stream's metadata (truncate-before, max count).
    [[nodiscard]] task<void> set_stream_metadata(std::string stream_id, stream_metadata md) {
        return detail::sqlite_engine::write_void(
            m_storage.engine(),
            [stream_id, md](detail::connection& c) {
                detail::set_stream_metadata_row(c, stream_id, md);
                return true;
            },
            true);
    }

    /// The stream's metadata (all zero when never set).
    [[nodiscard]] task<stream_metadata> get_stream_metadata(std::string stream_id) const {
        return detail::sqlite_engine::read<stream_metadata>(
            m_storage.engine(), [stream_id](detail::connection& c) {
                const auto s = detail::find_stream(c, stream_id);
                return s ? s->metadata : stream_metadata{};
            });
    }

    /// The storage the store lives in.
    [[nodiscard]] const sqlite_storage& storage() const noexcept { return m_storage; }

private:
    static constexpr std::size_t page_size = 256;
    using engine_ptr = std::shared_ptr<detail::sqlite_engine>;
    using codec_ptr = std::shared_ptr<const Codec>;
    using rows = std::vector<detail::stored_event_row>;

    struct append_op final : detail::sqlite_unit_op {
        append_op(std::string s, expected_version e, std::vector<detail::encoded_proposed> b)
            : stream_id(std::move(s)), expected(e), batch(std::move(b)) {}
        void run(detail::connection& c, detail::sqlite_engine& e, commit_result& r) override {
            r.appends[slot] =
                detail::append_rows(c, stream_id, expected, batch, [&e] { return e.next_id(); });
        }
        std::string stream_id;
        expected_version expected;
        std::vector<detail::encoded_proposed> batch;
        std::size_t slot = 0;
    };

    static std::vector<detail::encoded_proposed> encode(const Codec& codec,
                                                        std::vector<proposed_event<Events>> b) {
        std::vector<detail::encoded_proposed> out;
        out.reserve(b.size());
        for (proposed_event<Events>& e : b) {
            out.push_back(detail::encoded_proposed{e.event_id, encode_event(codec, e.payload),
                                                   std::move(e.metadata)});
        }
        return out;
    }

    static std::size_t add_append(sqlite_unit_of_work& unit, const sqlite_storage& storage,
                                  const Codec& codec, std::string stream_id,
                                  expected_version expected,
                                  std::vector<proposed_event<Events>> batch) {
        auto op = std::make_unique<append_op>(std::move(stream_id), expected,
                                              encode(codec, std::move(batch)));
        append_op* raw = op.get();
        raw->slot = unit.add(storage.engine().get(), std::move(op), true);
        return raw->slot;
    }

    // A plain append: no unit of work around it, so the writer runs it without a savepoint of
    // its own (see detail::sqlite_job::plain_append); the same checks and rows as a unit's.
    static task<append_result> append_alone(engine_ptr e, codec_ptr codec, std::string stream_id,
                                            expected_version expected,
                                            std::vector<proposed_event<Events>> batch) {
        detail::sqlite_engine* engine = e.get(); // run() below keeps it alive
        auto job = [stream_id = std::move(stream_id), expected,
                    encoded = encode(*codec, std::move(batch)), engine](detail::connection& c) {
            return detail::append_rows(
                c, stream_id, expected, encoded, [engine] { return engine->next_id(); },
                &c.positions());
        };
        task<append_result> t =
            detail::sqlite_engine::write_plain_append<append_result>(std::move(e), std::move(job));
        append_result r = co_await std::move(t);
        co_return r;
    }

    static envelope_type decode(const Codec& codec, detail::stored_event_row& row) {
        Events payload = decode_event<Events>(codec, row.event.type_name, row.event.schema_version,
                                              row.event.bytes, row.stream_id, row.position);
        return envelope_type{
            row.event_id,    std::move(row.stream_id),       row.stream_version,
            row.position,    std::move(row.event.type_name), row.event.schema_version,
            row.recorded_at, std::move(row.metadata),        std::move(payload)};
    }

    // Reads page n+1 on the reader thread while the consumer handles page n (decoding among
    // it): one page ahead at most.
    static detail::sqlite_prefetch<rows> read_page(const engine_ptr& e, std::string stream_id,
                                                   std::uint64_t version) {
        return e->template prefetch<rows>([stream_id, version](detail::connection& c) {
            return detail::read_stream_rows(c, stream_id, version, page_size);
        });
    }

    static stream<envelope_type> read_stream_of(engine_ptr e, codec_ptr codec,
                                                std::string stream_id, std::uint64_t from) {
        std::optional<detail::sqlite_prefetch<rows>> next;
        next.emplace(read_page(e, stream_id, from == 0 ? 1 : from));
        for (;;) {
            bool on_reader_thread = false;
            rows page = co_await next->wait(on_reader_thread);
            if (on_reader_thread) {
                co_await e->hop(); // leave the reader thread at once
            }
            next.reset();
            if (page.size() == page_size) {
                next.emplace(read_page(e, stream_id, page.back().stream_version + 1));
            }
            for (detail::stored_event_row& row : page) {
                co_yield decode(*codec, row);
            }
            if (!next) {
                co_return;
            }
        }
    }

    static detail::sqlite_prefetch<rows> read_all_page(const engine_ptr& e,
                                                       std::uint64_t position) {
        return e->template prefetch<rows>([position](detail::connection& c) {
            return detail::read_all_rows(c, position, page_size);
        });
    }

    // Catching up, a full page is followed by the read of the next one at once (one page ahead,
    // as read_stream); a partial page is read again after it is handled, an empty one ends the
    // stream or, live, waits for a commit.
    static stream<envelope_type> read_all_of(engine_ptr e, codec_ptr codec, std::uint64_t from,
                                             bool live) {
        std::uint64_t position = from == 0 ? 1 : from;
        // Taken before each read: a commit after it sets this very event (no lost wake-up).
        std::shared_ptr<async_event> committed = e->commits();
        std::optional<detail::sqlite_prefetch<rows>> next;
        next.emplace(read_all_page(e, position));
        for (;;) {
            bool on_reader_thread = false;
            rows page = co_await next->wait(on_reader_thread);
            if (on_reader_thread) {
                co_await e->hop();
            }
            next.reset();
            if (page.size() == page_size) {
                committed = e->commits();
                next.emplace(read_all_page(e, page.back().position + 1));
            }
            for (detail::stored_event_row& row : page) {
                position = row.position + 1;
                co_yield decode(*codec, row);
            }
            if (next) {
                continue;
            }
            if (page.empty()) {
                if (!live) {
                    co_return;
                }
                co_await committed->wait(); // g++ 12: never inside a condition
                co_await e->hop();          // woken on a worker thread
            }
            committed = e->commits();
            next.emplace(read_all_page(e, position));
        }
    }

    sqlite_storage m_storage;
    codec_ptr m_codec;
};

} // namespace eddy
