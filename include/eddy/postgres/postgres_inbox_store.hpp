// eddy/postgres/postgres_inbox_store.hpp - eddy::postgres_inbox_store, which messages each
// consumer processed, marked in PostgreSQL in the same transaction as the consumer's writes.
#pragma once

#include <memory>  // std::make_unique, std::shared_ptr
#include <string>  // std::string
#include <utility> // std::move

#include <eddy/core/task.hpp>
#include <eddy/outbox/duplicate_message.hpp>
#include <eddy/outbox/inbox_store.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/detail/loop.hpp>
#include <eddy/postgres/detail/unit_op.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/postgres/postgres_unit_of_work.hpp>

namespace eddy {

/// The inbox in PostgreSQL (table `<schema>.inbox`: consumer, message_id, processed_at):
/// `mark_processed(unit, consumer, message_id)` joins a unit of work of the same
/// `postgres_storage`, so a consumer's effects (events, outbox messages, checkpoints) and the
/// mark commit in one transaction; models `eddy::inbox_store`. Marks are kept (no expiry).
/// Consumers in several processes may receive the same message at once: the primary key
/// (consumer, message_id) lets one unit commit and fails the others (the second one's insert
/// waits for the first one's transaction, then finds its row).
///
/// Lazy: `is_processed` is a task; `mark_processed` is eager (adds to the unit). Where the
/// awaiter resumes: on the storage's scheduler.
/// Errors: `eddy::duplicate_message` from the commit of a unit marking a message the consumer
/// already processed (in an earlier unit, or twice in this one): nothing of the unit is
/// written; `eddy::postgres_error`; `eddy::error` for a unit of another storage.
/// Lifetime: a handle on the storage. Thread-safety: every member may be called from any thread
/// concurrently.
///
///     eddy::postgres_inbox_store inbox(db);
///     auto unit = db.begin();
///     inbox.mark_processed(unit, "billing", message_id);
///     events.append(unit, "ledger-1", eddy::expected_version::any(), {charged});
///     co_await db.commit(std::move(unit)); // throws duplicate_message the second time
class postgres_inbox_store {
public:
    using unit_type = postgres_unit_of_work;

    explicit postgres_inbox_store(postgres_storage storage) : m_storage(std::move(storage)) {}

    void mark_processed(postgres_unit_of_work& unit, std::string consumer, std::string message_id) {
        unit.add(m_storage.engine().get(),
                 std::make_unique<mark_op>(std::move(consumer), std::move(message_id)), false);
    }

    [[nodiscard]] task<bool> is_processed(std::string consumer, std::string message_id) {
        return find(m_storage.engine(), std::move(consumer), std::move(message_id));
    }

    /// The storage the store lives in.
    [[nodiscard]] const postgres_storage& storage() const noexcept { return m_storage; }

private:
    // Before the unit's events take positions: a duplicate costs the unit nothing.
    struct mark_op final : detail::pg_unit_op {
        mark_op(std::string c, std::string m) : consumer(std::move(c)), message_id(std::move(m)) {}
        task<void> run(detail::pg_tx* tx) override { return mark(this, tx); }
        static task<void> mark(mark_op* op, detail::pg_tx* tx) {
            detail::pg_params p;
            p.text(op->consumer).text(op->message_id);
            detail::pg_query_awaiter insert = tx->lease->query(
                tx->engine->sql("INSERT INTO {s}.inbox (consumer, message_id) VALUES ($1, $2) "
                                "ON CONFLICT DO NOTHING RETURNING 1"),
                std::move(p));
            const detail::pg_rows rows = co_await insert;
            if (rows.empty()) {
                throw duplicate_message(op->consumer, op->message_id);
            }
        }
        std::string consumer;
        std::string message_id;
    };

    static task<bool> find(std::shared_ptr<detail::pg_engine> e, std::string consumer,
                           std::string message_id) {
        detail::pg_params p;
        p.text(std::move(consumer)).text(std::move(message_id));
        task<detail::pg_rows> r = detail::pg_engine::read(
            e, e->sql("SELECT 1 FROM {s}.inbox WHERE consumer = $1 AND message_id = $2"),
            std::move(p));
        const detail::pg_rows rows = co_await std::move(r);
        co_return !rows.empty();
    }

    postgres_storage m_storage;
};

static_assert(inbox_store<postgres_inbox_store>);

} // namespace eddy
