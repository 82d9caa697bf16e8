// tests/support/copy_move_tracker.hpp - a value that counts how often it was copied and moved,
// so a test can hold a code path to a budget ("a moved result is never copied").
#pragma once

#include <atomic> // std::atomic (counts may be bumped from another thread)
#include <memory> // std::shared_ptr

namespace eddy::test {

/// A value whose copies and moves are counted in one record shared by the original and every
/// object copied or moved from it (directly or transitively).
///
/// A moved-from tracker keeps the shared record, so the test can still read the counts through
/// the object it started with:
///
///     copy_move_tracker t;
///     auto r = eddy::sync_wait(pass_through(std::move(t)));
///     REQUIRE(t.copies() == 0);
///     REQUIRE(t.moves() <= 3);
///
/// Assignment counts like construction (a copy assignment is a copy, a move assignment a move)
/// and adopts the source's record. Thread-safety: counts are atomic.
class copy_move_tracker {
public:
    copy_move_tracker() : m_counts(std::make_shared<counts>()) {}
    explicit copy_move_tracker(int value) : m_counts(std::make_shared<counts>()), m_value(value) {}

    copy_move_tracker(const copy_move_tracker& other)
        : m_counts(other.m_counts), m_value(other.m_value) {
        ++m_counts->copies;
    }
    // Shares (does not steal) the record: the moved-from object must still report counts.
    copy_move_tracker(copy_move_tracker&& other) noexcept
        : m_counts(other.m_counts), m_value(other.m_value) {
        ++m_counts->moves;
    }
    copy_move_tracker& operator=(const copy_move_tracker& other) {
        m_counts = other.m_counts;
        m_value = other.m_value;
        ++m_counts->copies;
        return *this;
    }
    copy_move_tracker& operator=(copy_move_tracker&& other) noexcept {
        m_counts = other.m_counts;
        m_value = other.m_value;
        ++m_counts->moves;
        return *this;
    }
    ~copy_move_tracker() = default;

    /// Copies (construction or assignment) of this object and of everything sharing its record.
    [[nodiscard]] int copies() const noexcept { return m_counts->copies; }
    /// Moves (construction or assignment) of this object and of everything sharing its record.
    [[nodiscard]] int moves() const noexcept { return m_counts->moves; }
    /// A payload, carried along by copies and moves.
    [[nodiscard]] int value() const noexcept { return m_value; }

private:
    struct counts {
        std::atomic<int> copies{0};
        std::atomic<int> moves{0};
    };

    std::shared_ptr<counts> m_counts;
    int m_value = 0;
};

} // namespace eddy::test
