// expect: eddy::batch: the type does not model eddy::scheduler
#include <chrono>
#include <cstddef>
#include <vector>

#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/stream/batch.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/to_vector.hpp>

// Has schedule() and schedule_after(duration) but no now().
struct clockless_scheduler {
    eddy::virtual_time_scheduler* inner;
    auto schedule() { return inner->schedule(); }
    auto schedule_after(std::chrono::steady_clock::duration d) { return inner->schedule_after(d); }
};

eddy::stream<int> numbers() { co_yield 1; }

int main() {
    eddy::virtual_time_scheduler vt;
#ifdef EDDY_COMPILE_FAIL
    clockless_scheduler s{&vt};
    auto v = vt.run(eddy::to_vector(numbers() | eddy::batch(2, std::chrono::seconds(1), s)));
#else
    auto v = vt.run(eddy::to_vector(numbers() | eddy::batch(2, std::chrono::seconds(1), vt)));
#endif
    return v.size() == 1 ? 0 : 1;
}
