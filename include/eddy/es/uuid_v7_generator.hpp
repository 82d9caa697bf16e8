// eddy/es/uuid_v7_generator.hpp - eddy::uuid_v7_generator, time-ordered UUIDs (RFC 9562 v7)
// from an injected clock and random source.
#pragma once

#include <chrono>     // std::chrono::system_clock, milliseconds
#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint8_t, std::uint64_t
#include <functional> // std::function
#include <mutex>      // std::mutex, std::lock_guard
#include <random>     // std::random_device, std::mt19937_64
#include <utility>    // std::move

#include <eddy/core/error.hpp>
#include <eddy/es/uuid.hpp>

namespace eddy {

/// Generates time-ordered UUID v7s (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit
/// counter (method 1 of the RFC), then 62 random bits. Every UUID it returns is greater than the
/// previous one, even when the clock stands still or steps back (the generator then keeps the
/// last millisecond and counts; a counter overflow borrows the next millisecond).
///
/// The clock and the random source are injected, so tests get exact, repeatable ids; the
/// default uses `std::chrono::system_clock` and a `std::mt19937_64` seeded from
/// `std::random_device` (owned by this generator: no global state).
/// Errors: an empty clock or random function is bad input (`eddy::error`, from the
/// constructor). Thread-safety: `next()` may be called from any thread (a mutex).
///
///     eddy::uuid_v7_generator ids([] { return std::chrono::system_clock::time_point{}; },
///                                 [] { return std::uint64_t{42}; });
///     eddy::uuid a = ids.next(), b = ids.next(); // a < b, both version 7
class uuid_v7_generator {
public:
    using clock_function = std::function<std::chrono::system_clock::time_point()>;
    using random_function = std::function<std::uint64_t()>;

    /// System clock and a privately seeded `std::mt19937_64`.
    uuid_v7_generator()
        : uuid_v7_generator([] { return std::chrono::system_clock::now(); },
                            [engine = std::mt19937_64(std::random_device{}())]() mutable {
                                return static_cast<std::uint64_t>(engine());
                            }) {}

    /// The given clock and random source (each called under the generator's mutex).
    uuid_v7_generator(clock_function clock, random_function random)
        : m_clock(std::move(clock)), m_random(std::move(random)) {
        if (!m_clock || !m_random) {
            throw error("eddy::uuid_v7_generator: the clock and the random source must be set");
        }
    }

    /// The next UUID: greater than every UUID this generator returned before.
    [[nodiscard]] uuid next() {
        std::lock_guard lock(m_mutex);
        auto since_epoch = m_clock().time_since_epoch();
        auto now = since_epoch.count() < 0
                       ? 0
                       : std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
        std::uint64_t ms = static_cast<std::uint64_t>(now) & 0xFFFF'FFFF'FFFFULL;
        if (m_issued && ms <= m_last_ms) {
            ms = m_last_ms;
            if (++m_counter > 0xFFF) { // 4096 ids in one millisecond: borrow the next one
                m_counter = 0;
                ++ms;
            }
        } else {
            m_counter = 0;
        }
        m_issued = true;
        m_last_ms = ms;
        std::uint64_t random = m_random();

        uuid id;
        for (std::size_t i = 0; i < 6; ++i) {
            id.bytes[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
        }
        id.bytes[6] = static_cast<std::uint8_t>(0x70 | (m_counter >> 8));
        id.bytes[7] = static_cast<std::uint8_t>(m_counter & 0xFF);
        id.bytes[8] = static_cast<std::uint8_t>(0x80 | ((random >> 56) & 0x3F));
        for (std::size_t i = 9; i < 16; ++i) {
            id.bytes[i] = static_cast<std::uint8_t>(random >> (8 * (15 - i)));
        }
        return id;
    }

private:
    std::mutex m_mutex;
    clock_function m_clock;   // guarded by m_mutex
    random_function m_random; // guarded by m_mutex
    std::uint64_t m_last_ms = 0;
    unsigned m_counter = 0;
    bool m_issued = false;
};

} // namespace eddy
