// eddy/sqlite/sqlite_inbox_store.hpp - eddy::sqlite_inbox_store, which messages each consumer
// processed, marked in a SQLite file in the same transaction as the consumer's writes.
#pragma once

#include <chrono>     // std::chrono::system_clock
#include <cstdint>    // std::int64_t
#include <functional> // std::function
#include <memory>     // std::make_unique
#include <string>     // std::string
#include <utility>    // std::move

#include <eddy/core/task.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/outbox/duplicate_message.hpp>
#include <eddy/outbox/inbox_store.hpp>
#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/detail/engine.hpp>
#include <eddy/sqlite/detail/event_rows.hpp>
#include <eddy/sqlite/detail/unit_op.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>
#include <eddy/sqlite/sqlite_unit_of_work.hpp>

namespace eddy {

/// The inbox in a SQLite file (table `eddy_inbox`: consumer, message_id, processed_at in ns):
/// `mark_processed(unit, consumer, message_id)` joins a unit of work of the same
/// `sqlite_storage`, so a consumer's effects (events, outbox messages, its own rows) and the
/// mark commit in one transaction; models `eddy::inbox_store`. Marks are kept (no expiry).
///
/// Lazy: `is_processed` is a task (on the reader); `mark_processed` is eager (adds to the
/// unit). Where the awaiter resumes: on the storage's scheduler.
/// Errors: `eddy::duplicate_message` from the commit of a unit marking a message the consumer
/// already processed (in an earlier unit, or twice in this one): nothing of the unit is
/// written; `eddy::sqlite_error`.
/// Lifetime: a handle on the storage. Thread-safety: every member may be called from any thread
/// concurrently.
///
///     eddy::sqlite_inbox_store inbox(db);
///     auto unit = db.begin();
///     inbox.mark_processed(unit, "billing", message_id);
///     unit.execute("UPDATE ledger SET total = total + ?", {amount});
///     co_await db.commit(std::move(unit)); // throws duplicate_message the second time
class sqlite_inbox_store {
public:
    using unit_type = sqlite_unit_of_work;

    explicit sqlite_inbox_store(sqlite_storage storage) : m_storage(std::move(storage)) {}

    void mark_processed(sqlite_unit_of_work& unit, std::string consumer, std::string message_id) {
        unit.add(m_storage.engine().get(),
                 std::make_unique<mark_op>(std::move(consumer), std::move(message_id)), false);
    }

    [[nodiscard]] task<bool> is_processed(std::string consumer, std::string message_id) {
        return detail::sqlite_engine::read<bool>(
            m_storage.engine(), [consumer = std::move(consumer),
                                 message_id = std::move(message_id)](detail::connection& c) {
                detail::statement& s =
                    c.cached("SELECT 1 FROM eddy_inbox WHERE consumer = ? AND message_id = ?");
                s.bind(1, consumer).bind(2, message_id);
                const bool found = s.step();
                s.reset();
                return found;
            });
    }

    /// The storage the store lives in.
    [[nodiscard]] const sqlite_storage& storage() const noexcept { return m_storage; }

private:
    struct mark_op final : detail::sqlite_unit_op {
        mark_op(std::string c, std::string m) : consumer(std::move(c)), message_id(std::move(m)) {}
        void run(detail::connection& c, detail::sqlite_engine&, commit_result&) override {
            c.cached("INSERT INTO eddy_inbox (consumer, message_id, processed_at) VALUES (?, ?, ?) "
                     "ON CONFLICT DO NOTHING")
                .bind(1, consumer)
                .bind(2, message_id)
                .bind(3, detail::to_ns(std::chrono::system_clock::now()))
                .run();
            if (c.changes() == 0) {
                throw duplicate_message(consumer, message_id);
            }
        }
        std::string consumer;
        std::string message_id;
    };

    sqlite_storage m_storage;
};

static_assert(inbox_store<sqlite_inbox_store>);

} // namespace eddy
