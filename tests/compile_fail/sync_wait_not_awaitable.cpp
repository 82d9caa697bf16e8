// expect: eddy::sync_wait: the argument is not awaitable
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

struct not_awaitable {};
eddy::task<int> answer() { co_return 42; }

int main() {
#ifdef EDDY_COMPILE_FAIL
    return eddy::sync_wait(not_awaitable{});
#else
    return eddy::sync_wait(answer()) == 42 ? 0 : 1;
#endif
}
