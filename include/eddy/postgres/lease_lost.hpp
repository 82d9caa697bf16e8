// eddy/postgres/lease_lost.hpp - eddy::lease_lost: a unit of work fenced by a postgres_lease was
// not committed because its holder no longer held the lease.
#pragma once

#include <cstdint> // std::uint64_t
#include <string>  // std::string, std::to_string
#include <utility> // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown by `postgres_storage::commit` for a unit of work fenced by a `postgres_lease`
/// (`lease.fence(unit)`) when, at commit, the lease is no longer held by that holder at the
/// epoch the fence was taken with: another holder took it over (after it expired), it was
/// released, or it was never acquired. Nothing of the unit was written. The holder has lost
/// the work the lease guards: it stops, and may `acquire_or_renew` later (a new epoch) and
/// start again from what its successor committed (e.g. the projection's checkpoint).
///
/// Thread-safety: like `std::runtime_error`.
///
///     try { co_await storage.commit(std::move(unit)); }
///     catch (const eddy::lease_lost& e) { /* another process does this work now */ }
class lease_lost : public error {
public:
    lease_lost(std::string name, std::string holder, std::uint64_t epoch)
        : error("eddy::postgres_lease: the lease '" + name + "' is no longer held by '" + holder +
                "' at epoch " + std::to_string(epoch) +
                " (taken over, released or never acquired): the unit of work was not committed"),
          m_name(std::move(name)), m_holder(std::move(holder)), m_epoch(epoch) {}

    /// The lease's name.
    [[nodiscard]] const std::string& name() const noexcept { return m_name; }
    /// The holder that fenced the unit.
    [[nodiscard]] const std::string& holder() const noexcept { return m_holder; }
    /// The epoch the unit was fenced with (0: the lease had never been acquired).
    [[nodiscard]] std::uint64_t epoch() const noexcept { return m_epoch; }

private:
    std::string m_name;
    std::string m_holder;
    std::uint64_t m_epoch;
};

} // namespace eddy
