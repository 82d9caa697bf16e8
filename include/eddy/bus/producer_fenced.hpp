// eddy/bus/producer_fenced.hpp - the error of a transaction whose producer id was taken over by
// a newer transaction (a "zombie" producer instance).
#pragma once

#include <cstdint> // std::uint64_t
#include <string>  // std::string, std::to_string
#include <utility> // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown by `transaction::publish`, `commit_offset` and `commit` when a newer transaction
/// was begun with the same producer id (`event_bus::begin_transaction` bumps the id's epoch):
/// this transaction belongs to a stale producer instance, its records were aborted, and
/// nothing it does becomes visible. Carries the producer id, this transaction's epoch and the
/// current one.
///
///     try { co_await tx.commit(); }
///     catch (const eddy::producer_fenced& e) { /* another instance took over e.producer() */ }
class producer_fenced : public error {
public:
    producer_fenced(std::string producer, std::uint64_t epoch, std::uint64_t current)
        : error("eddy::transaction: producer '" + producer +
                "' was fenced: this transaction has "
                "epoch " +
                std::to_string(epoch) + " but a newer transaction began with epoch " +
                std::to_string(current) +
                " (a stale producer instance; its records were "
                "aborted)"),
          m_producer(std::move(producer)), m_epoch(epoch), m_current(current) {}

    [[nodiscard]] const std::string& producer() const noexcept { return m_producer; }
    /// The epoch of the fenced transaction.
    [[nodiscard]] std::uint64_t epoch() const noexcept { return m_epoch; }
    /// The producer id's current epoch.
    [[nodiscard]] std::uint64_t current_epoch() const noexcept { return m_current; }

private:
    std::string m_producer;
    std::uint64_t m_epoch;
    std::uint64_t m_current;
};

} // namespace eddy
