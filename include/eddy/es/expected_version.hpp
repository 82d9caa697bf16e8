// eddy/es/expected_version.hpp - eddy::expected_version, the optimistic-concurrency condition of
// an append.
#pragma once

#include <cstdint> // std::uint64_t
#include <string>  // std::string, std::to_string

namespace eddy {

/// What an append expects of its stream: `any()` (no check), `no_stream()` (the stream has no
/// events), `stream_exists()` (it has at least one) or `exact(v)` (its last event is version
/// `v`; `exact(0)` is the same as `no_stream()`). A stream's version is its number of events.
///
/// Eager value type. Thread-safety: like `int`.
///
///     co_await store.append("order-1", eddy::expected_version::exact(3), batch);
class expected_version {
public:
    enum class kind { any, no_stream, stream_exists, exact };

    [[nodiscard]] static constexpr expected_version any() noexcept { return {kind::any, 0}; }
    [[nodiscard]] static constexpr expected_version no_stream() noexcept {
        return {kind::no_stream, 0};
    }
    [[nodiscard]] static constexpr expected_version stream_exists() noexcept {
        return {kind::stream_exists, 0};
    }
    [[nodiscard]] static constexpr expected_version exact(std::uint64_t v) noexcept {
        return v == 0 ? no_stream() : expected_version{kind::exact, v};
    }

    [[nodiscard]] constexpr kind type() const noexcept { return m_kind; }
    /// The version of `exact(v)`; 0 otherwise.
    [[nodiscard]] constexpr std::uint64_t value() const noexcept { return m_value; }

    /// Whether a stream at version `actual` (0: no events) satisfies this expectation.
    [[nodiscard]] constexpr bool accepts(std::uint64_t actual) const noexcept {
        switch (m_kind) {
        case kind::any:
            return true;
        case kind::no_stream:
            return actual == 0;
        case kind::stream_exists:
            return actual > 0;
        case kind::exact:
            return actual == m_value;
        }
        return false;
    }

    /// "any", "no stream", "stream exists" or the version.
    [[nodiscard]] std::string to_string() const {
        switch (m_kind) {
        case kind::any:
            return "any";
        case kind::no_stream:
            return "no stream";
        case kind::stream_exists:
            return "stream exists";
        case kind::exact:
            return std::to_string(m_value);
        }
        return "?";
    }

    friend constexpr bool operator==(expected_version, expected_version) = default;

private:
    constexpr expected_version(kind k, std::uint64_t v) noexcept : m_kind(k), m_value(v) {}

    kind m_kind;
    std::uint64_t m_value;
};

} // namespace eddy
