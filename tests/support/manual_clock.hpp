// tests/support/manual_clock.hpp - a wall clock the test moves by hand (copies share it): for
// stores whose leases, ttls and times read a clock function and that cannot run in virtual time.
#pragma once

#include <atomic> // std::atomic
#include <chrono> // std::chrono::system_clock, std::chrono::nanoseconds
#include <memory> // std::shared_ptr, std::make_shared

namespace eddy::test {

class manual_clock {
public:
    using time_point = std::chrono::system_clock::time_point;

    /// The clock's epoch plus the time advanced so far.
    time_point operator()() const {
        return time_point(std::chrono::duration_cast<time_point::duration>(
            std::chrono::nanoseconds(m_ns->load())));
    }
    template <class Rep, class Period>
    void advance(std::chrono::duration<Rep, Period> d) const {
        m_ns->fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    }

private:
    std::shared_ptr<std::atomic<long long>> m_ns = std::make_shared<std::atomic<long long>>(0);
};

} // namespace eddy::test
