// examples/payments/test_schemas.hpp - the PostgreSQL schemas a payments test uses: a prefix of
// the test's own, dropped before the test and after it (the crash and scale-out tests).
#pragma once

#include <string>  // std::string, std::to_string
#include <utility> // std::move

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

} // namespace payments::test
