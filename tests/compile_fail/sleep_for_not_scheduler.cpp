// expect: the type does not model eddy::scheduler
#include <chrono>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

// Has schedule() and now() but no schedule_after(duration).
struct half_scheduler {
    eddy::virtual_time_scheduler* inner;
    auto schedule() { return inner->schedule(); }
    std::chrono::steady_clock::time_point now() const { return inner->now(); }
};

int main() {
    eddy::virtual_time_scheduler vt;
#ifdef EDDY_COMPILE_FAIL
    half_scheduler s{&vt};
    vt.run(eddy::sleep_for(s, std::chrono::seconds(1)));
#else
    vt.run(eddy::sleep_for(vt, std::chrono::seconds(1)));
#endif
}
