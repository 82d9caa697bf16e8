// eddy/bus/transaction.hpp - eddy::transaction, the handle of one bus transaction: records to
// several topics and consumed offsets that become visible together, or not at all.
#pragma once

#include <cassert>   // assert
#include <cstddef>   // std::size_t
#include <cstdint>   // std::uint64_t
#include <memory>    // std::shared_ptr
#include <string>    // std::string
#include <typeindex> // std::type_index
#include <typeinfo>  // typeid
#include <utility>   // std::move

#include <eddy/bus/detail/transaction_state.hpp>
#include <eddy/bus/headers.hpp>
#include <eddy/bus/record.hpp>
#include <eddy/core/task.hpp>

namespace eddy {

/// One transaction of an event bus (`event_bus::begin_transaction(producer_id)`): records
/// published through it, to any topics, and consumer-group offsets given to `commit_offset`
/// take effect together when `co_await commit()` succeeds, and never after `abort()`, a failed
/// commit, or destruction without a commit (which aborts).
///
/// Visibility: a transactional record is appended to its partition at once (it gets its
/// offset then), but consumers with `isolation::read_committed` (the default) wait at it until
/// the transaction ends, then get it (committed) or skip it (aborted); consumers with
/// `isolation::read_uncommitted` get it at once either way. Committed offsets move the group's
/// position (`offset + 1`) at commit, atomically with the records.
/// Exactly-once consume-process-produce: a handler begins a transaction, publishes its output,
/// adds the consumed record's offset with `commit_offset(group, record)` and commits. The
/// commit fails (and aborts) with `eddy::error` if the group already moved past that offset
/// (another member handled the record after this one was cancelled), and with
/// `eddy::producer_fenced` if a newer transaction began with the same producer id. A push
/// member whose handler fails after its transaction committed the record's offset does not
/// retry it (the record is done): so each input yields one committed output.
/// Fencing: every `begin_transaction(id)` bumps the id's epoch and aborts the id's transaction
/// still open, so one producer id has at most one live transaction; concurrent workers use
/// distinct ids (e.g. one per input partition).
/// Lazy/eager: `publish` and `commit` return lazy tasks that complete synchronously when
/// awaited (nothing waits for consumers); `commit_offset` and `abort` act at once.
/// Where the awaiter resumes: on its own thread, inline.
/// Errors: `eddy::producer_fenced` (stale epoch), `eddy::error` for a transaction already
/// committed or aborted, an unknown topic or group, a value type other than the topic's, a
/// partition out of range, or an offset conflict at commit (the transaction is then aborted).
/// Cancellation: none of its own; an uncommitted transaction whose handler is cancelled is
/// aborted by its destructor.
/// Preconditions: the bus outlives the transaction; not used after being moved from (assert).
/// Thread-safety: the bus's lock orders its operations; one transaction is used by one
/// coroutine at a time. Move-only.
///
///     auto tx = bus.begin_transaction("billing-p" + std::to_string(r.partition));
///     co_await tx.publish("invoices", r.key, invoice_for(r.value));
///     co_await tx.publish("audit", r.key, audit_line{r.offset});
///     tx.commit_offset("billing", r);
///     co_await tx.commit();
class transaction {
public:
    transaction() noexcept = default;
    /// Wraps a bus's transaction (called by `event_bus::begin_transaction`).
    explicit transaction(std::shared_ptr<detail::transaction_state> state) noexcept
        : m_state(std::move(state)) {}
    transaction(transaction&&) noexcept = default;
    /// Aborts the transaction held (if open), then takes `other`'s.
    transaction& operator=(transaction&& other) noexcept {
        if (this != &other) {
            abort();
            m_state = std::move(other.m_state);
        }
        return *this;
    }
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    /// Aborts the transaction if it is still open.
    ~transaction() { abort(); }

    /// `co_await tx.publish(topic, key, value, headers)` appends a record of this transaction to
    /// the partition of `key` and yields where it landed (see the class comment).
    template <class T>
    [[nodiscard]] task<publish_result> publish(std::string topic, std::string key, T value,
                                               headers h = {}) {
        assert(m_state && "eddy::transaction::publish on an empty transaction");
        return publish_in<T>(m_state, std::move(topic), std::move(key), std::move(value),
                             std::move(h));
    }

    /// On commit, `group` has consumed `consumed`: its position in the record's partition
    /// becomes `consumed.offset + 1`. Eager. Errors: see the class comment.
    template <class T>
    void commit_offset(const std::string& group, const record<T>& consumed) {
        commit_offset(group, consumed.topic, consumed.partition, consumed.offset);
    }

    /// On commit, `group`'s position in `topic` partition `partition` becomes `offset + 1`.
    void commit_offset(const std::string& group, const std::string& topic, std::size_t partition,
                       std::uint64_t offset) {
        assert(m_state && "eddy::transaction::commit_offset on an empty transaction");
        m_state->commit_offset(group, topic, partition, offset);
    }

    /// `co_await tx.commit()` makes every record and offset of the transaction visible at once.
    /// Errors: see the class comment (after an error nothing of it is visible).
    [[nodiscard]] task<void> commit() {
        assert(m_state && "eddy::transaction::commit on an empty transaction");
        return commit_in(m_state);
    }

    /// Aborts the transaction if it is open (its records are skipped by read_committed
    /// consumers, its offsets dropped); otherwise does nothing. Never throws.
    void abort() noexcept {
        if (m_state) {
            m_state->abort();
        }
    }

    /// Whether the transaction can still publish and commit (not committed, aborted or fenced).
    [[nodiscard]] bool open() const { return m_state && m_state->open(); }

    /// The producer id given to `begin_transaction`.
    [[nodiscard]] const std::string& producer_id() const noexcept {
        assert(m_state && "eddy::transaction::producer_id on an empty transaction");
        return m_state->producer();
    }

    /// The producer id's epoch this transaction holds (1 for the id's first transaction).
    [[nodiscard]] std::uint64_t epoch() const noexcept {
        assert(m_state && "eddy::transaction::epoch on an empty transaction");
        return m_state->epoch();
    }

private:
    // Static, parameters by value: the task may outlive a moved-from handle.
    template <class T>
    static task<publish_result> publish_in(std::shared_ptr<detail::transaction_state> state,
                                           std::string topic, std::string key, T value, headers h) {
        co_return state->publish(topic, std::move(key), std::move(h), std::type_index(typeid(T)),
                                 typeid(T).name(), &value);
    }

    static task<void> commit_in(std::shared_ptr<detail::transaction_state> state) {
        state->commit();
        co_return;
    }

    std::shared_ptr<detail::transaction_state> m_state;
};

} // namespace eddy
