// Downstream consumer: exits 0 iff eddy::sync_wait runs a task to its result 42.
#include <eddy/eddy.hpp>

eddy::task<int> answer() { co_return 42; }

int main() { return eddy::sync_wait(answer()) == 42 ? 0 : 1; }
