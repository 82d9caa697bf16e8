// expect: eddy::when_all: every argument must be awaitable
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/when_all.hpp>

eddy::task<int> answer() { co_return 42; }

int main() {
#ifdef EDDY_COMPILE_FAIL
    auto [a, b] = eddy::sync_wait(eddy::when_all(answer(), 7));
#else
    auto [a, b] = eddy::sync_wait(eddy::when_all(answer(), answer()));
#endif
    return a + b == 84 ? 0 : 1;
}
