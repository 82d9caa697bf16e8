// eddy/es/concurrency_conflict.hpp - eddy::concurrency_conflict, the error of an append whose
// expected version did not hold.
#pragma once

#include <cstdint> // std::uint64_t
#include <string>  // std::string, std::to_string
#include <utility> // std::move

#include <eddy/core/error.hpp>
#include <eddy/es/expected_version.hpp>

namespace eddy {

/// Thrown by an event store's `append` (and by `repository::save`) when the stream's version
/// did not satisfy the expected version: somebody else appended first. Nothing of the batch was
/// appended. Carries the stream, the expectation and the version the stream actually had.
///
/// Thread-safety: like `std::runtime_error`.
///
///     try { co_await repo.save(order); }
///     catch (const eddy::concurrency_conflict& c) { c.actual(); } // reload and retry
class concurrency_conflict : public error {
public:
    concurrency_conflict(std::string stream, expected_version expected, std::uint64_t actual)
        : error("eddy: concurrency conflict on stream '" + stream + "': expected version " +
                expected.to_string() + ", actual " + std::to_string(actual)),
          m_stream(std::move(stream)), m_expected(expected), m_actual(actual) {}

    [[nodiscard]] const std::string& stream() const noexcept { return m_stream; }
    [[nodiscard]] expected_version expected() const noexcept { return m_expected; }
    /// The stream's version at the time of the append (0: no events).
    [[nodiscard]] std::uint64_t actual() const noexcept { return m_actual; }

private:
    std::string m_stream;
    expected_version m_expected;
    std::uint64_t m_actual;
};

} // namespace eddy
