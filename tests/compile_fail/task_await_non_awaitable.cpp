// expect: eddy::task: the operand of co_await is not awaitable
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

eddy::task<int> answer() { co_return 42; }

eddy::task<int> caller() {
#ifdef EDDY_COMPILE_FAIL
    co_return co_await 42;
#else
    co_return co_await answer();
#endif
}

int main() { return eddy::sync_wait(caller()) == 42 ? 0 : 1; }
