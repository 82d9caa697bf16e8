// tests/support/counted.hpp - a value that counts its own constructions and destructions, so a
// test can prove that a coroutine frame (its parameters, locals and results) was destroyed.
#pragma once

#include <atomic> // std::atomic (counters shared by the threads of [concurrency] tests)

namespace eddy::test {

/// Counts every construction and destruction of `counted` objects, process-wide.
///
/// Call `counted::reset()` at the start of a test, then `REQUIRE(counted::alive() == 0)` once
/// everything that could hold one is gone. A coroutine parameter taken by value, a local of a
/// body and a result held by a promise all count, so a leaked frame shows as `alive() > 0`.
/// Assignment changes no count (it creates and destroys nothing).
/// Thread-safety: the counters are atomic; `reset()` must not race with live objects.
///
///     counted::reset();
///     { auto t = takes_counted(counted{}); } // never awaited
///     REQUIRE(counted::alive() == 0);
class counted {
public:
    counted() noexcept : m_id(counts().next_id++) { ++counts().default_constructed; }
    counted(const counted& other) noexcept : m_id(other.m_id) { ++counts().copy_constructed; }
    counted(counted&& other) noexcept : m_id(other.m_id) { ++counts().move_constructed; }
    counted& operator=(const counted&) noexcept = default;
    counted& operator=(counted&&) noexcept = default;
    ~counted() { ++counts().destroyed; }

    /// The id of the default-constructed object this one was copied or moved from.
    [[nodiscard]] int id() const noexcept { return m_id; }

    static void reset() noexcept {
        counts().default_constructed = 0;
        counts().copy_constructed = 0;
        counts().move_constructed = 0;
        counts().destroyed = 0;
        counts().next_id = 0;
    }

    [[nodiscard]] static int default_constructed() noexcept { return counts().default_constructed; }
    [[nodiscard]] static int copy_constructed() noexcept { return counts().copy_constructed; }
    [[nodiscard]] static int move_constructed() noexcept { return counts().move_constructed; }
    [[nodiscard]] static int constructed() noexcept {
        return default_constructed() + copy_constructed() + move_constructed();
    }
    [[nodiscard]] static int destroyed() noexcept { return counts().destroyed; }
    /// Objects constructed and not yet destroyed.
    [[nodiscard]] static int alive() noexcept { return constructed() - destroyed(); }

private:
    struct lifetime_counts {
        std::atomic<int> default_constructed{0};
        std::atomic<int> copy_constructed{0};
        std::atomic<int> move_constructed{0};
        std::atomic<int> destroyed{0};
        std::atomic<int> next_id{0};
    };

    static lifetime_counts& counts() noexcept {
        static lifetime_counts instance;
        return instance;
    }

    int m_id;
};

} // namespace eddy::test
