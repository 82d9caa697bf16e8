// expect: eddy::step: an action or compensation must be callable as
#include <eddy/core/task.hpp>
#include <eddy/saga/step.hpp>

struct ctx {};

#ifdef EDDY_COMPILE_FAIL
void action(ctx&) {} // returns void, not a task
#else
eddy::task<void> action(ctx&) { co_return; }
#endif

int main() {
    eddy::step<ctx> s("a", action);
    (void)s;
}
