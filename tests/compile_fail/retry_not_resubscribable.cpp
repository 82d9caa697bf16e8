// expect: eddy::retry: a plain stream.* cannot be subscribed again; wrap the source in eddy::defer
#include <chrono>
#include <vector>

#include <eddy/core/retry_policy.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/stream/defer.hpp>
#include <eddy/stream/retry.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/to_vector.hpp>

eddy::stream<int> numbers() { co_yield 1; }

int main() {
    eddy::virtual_time_scheduler vt;
    const eddy::retry_policy policy{.initial_interval = std::chrono::seconds(1)};
#ifdef EDDY_COMPILE_FAIL
    std::vector<int> v = vt.run(eddy::to_vector(numbers() | eddy::retry(policy, vt)));
#else
    std::vector<int> v = vt.run(eddy::to_vector(eddy::defer(numbers) | eddy::retry(policy, vt)));
#endif
    return v.size() == 1 ? 0 : 1;
}
