// examples/payments/test_support.hpp - what the crash and scale-out tests share: PostgreSQL
// schemas of the test's own (dropped before and after), and the checks of a system's end.
#pragma once

#include <string>  // std::string, std::to_string
#include <utility> // std::move

#include <catch2/catch.hpp>

#include <unistd.h> // getpid

#include "payments.hpp"

namespace payments::test {

class test_schemas {
public:
    /// Schemas `<name>_<pid>_...` on the server `conninfo` names, none of them there yet.
    test_schemas(std::string conninfo, const std::string& name)
        : m_conninfo(std::move(conninfo)), m_prefix(name + "_" + std::to_string(::getpid()) + "_") {
        drop_postgres_schemas(m_conninfo, m_prefix);
    }
    test_schemas(const test_schemas&) = delete;
    test_schemas& operator=(const test_schemas&) = delete;
    ~test_schemas() {
        try {
            drop_postgres_schemas(m_conninfo, m_prefix);
        } catch (...) { // NOLINT: the test's own failure is the one to report
        }
    }

    [[nodiscard]] const std::string& prefix() const noexcept { return m_prefix; }

private:
    std::string m_conninfo;
    std::string m_prefix;
};

/// Every order in the store ended (none stuck) and exactly once: the ledger equals the read
/// model, nobody charged or shipped twice, every completed order reserved and shipped.
inline void check_ended_exactly_once(const report& r) {
    CHECK(r.completed + r.compensated == r.orders);
    CHECK(r.stuck == 0);
    CHECK(r.charged_net_cents == r.read_model_paid_cents);
    CHECK(r.most_charges_per_order <= 1);
    CHECK(r.reserved_orders == r.shipped_orders);
    CHECK(r.shipped_orders == r.completed);
    CHECK(r.most_shipments_per_order <= 1);
    CHECK(r.consistent());
}

} // namespace payments::test
