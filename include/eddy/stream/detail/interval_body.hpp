// eddy/stream/detail/interval_body.hpp - the coroutine behind eddy::interval.
#pragma once

#include <chrono>  // std::chrono::steady_clock
#include <cstddef> // std::size_t

#include <eddy/stream/stream.hpp>

namespace eddy::detail {

// Checked by eddy::interval (scheduler concept, positive period) before it gets here.
template <class Scheduler>
stream<std::size_t> interval_body(Scheduler& s, std::chrono::steady_clock::duration period) {
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;
    const time_point start = s.now();
    for (std::size_t i = 0;; ++i) {
        // Fixed rate: deadlines do not drift with the consumer's pace.
        const time_point deadline = start + period * static_cast<duration::rep>(i + 1);
        const time_point now = s.now();
        const duration wait = deadline > now ? duration(deadline - now) : duration::zero();
        co_await s.schedule_after(wait);
        co_yield std::size_t{i};
    }
}

} // namespace eddy::detail
