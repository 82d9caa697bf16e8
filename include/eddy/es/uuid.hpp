// eddy/es/uuid.hpp - eddy::uuid, a 128-bit identifier (RFC 9562).
#pragma once

#include <array>       // std::array
#include <compare>     // std::strong_ordering
#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint8_t, std::uint64_t
#include <optional>    // std::optional
#include <string>      // std::string
#include <string_view> // std::string_view

namespace eddy {

/// A 128-bit UUID as 16 big-endian bytes. Compares bytewise, so v7 UUIDs order by creation
/// time. The default value is the nil UUID.
///
/// Eager value type. Thread-safety: like `int`.
///
///     auto id = eddy::uuid::parse("0190b4f2-7c3e-7000-8000-000000000001");
///     id->version();   // 7
///     id->to_string(); // the same text, lower case
class uuid {
public:
    std::array<std::uint8_t, 16> bytes{};

    /// True for the nil UUID (all zero).
    [[nodiscard]] constexpr bool is_nil() const noexcept { return *this == uuid{}; }

    /// The version nibble (7 for a v7 UUID, 0 for nil).
    [[nodiscard]] constexpr int version() const noexcept { return bytes[6] >> 4; }

    /// The 48-bit Unix time in milliseconds a v7 UUID carries.
    [[nodiscard]] constexpr std::uint64_t unix_ms() const noexcept {
        std::uint64_t ms = 0;
        for (int i = 0; i < 6; ++i) {
            ms = (ms << 8) | bytes[static_cast<std::size_t>(i)];
        }
        return ms;
    }

    /// The canonical text form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower-case hex.
    [[nodiscard]] std::string to_string() const {
        const std::array<char, 36> t = text();
        return std::string(t.data(), t.size());
    }
    /// The same text in a fixed buffer (no allocation).
    [[nodiscard]] std::array<char, 36> text() const noexcept {
        constexpr std::string_view digits = "0123456789abcdef";
        std::array<char, 36> out{};
        std::size_t n = 0;
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                out[n++] = '-';
            }
            out[n++] = digits[bytes[i] >> 4];
            out[n++] = digits[bytes[i] & 0xF];
        }
        return out;
    }

    /// Parses the canonical text form (either case); an empty optional for anything else.
    [[nodiscard]] static std::optional<uuid> parse(std::string_view text) noexcept {
        if (text.size() != 36) {
            return std::nullopt;
        }
        uuid out;
        std::size_t byte = 0;
        for (std::size_t i = 0; i < text.size();) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (text[i] != '-') {
                    return std::nullopt;
                }
                ++i;
                continue;
            }
            int hi = hex_value(text[i]);
            int lo = hex_value(text[i + 1]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out.bytes[byte++] = static_cast<std::uint8_t>((hi << 4) | lo);
            i += 2;
        }
        return out;
    }

    friend constexpr bool operator==(const uuid&, const uuid&) = default;
    friend constexpr std::strong_ordering operator<=>(const uuid&, const uuid&) = default;

private:
    static constexpr int hex_value(char c) noexcept {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
};

} // namespace eddy
