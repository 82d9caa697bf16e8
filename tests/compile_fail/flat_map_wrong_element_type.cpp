// expect: eddy::flat_map: the function cannot be called with the stream's element type
#include <string>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/stream/flat_map.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/to_vector.hpp>

eddy::stream<int> numbers() { co_yield 1; }

eddy::task<int> length(std::string s) { co_return static_cast<int>(s.size()); }
eddy::task<int> twice(int x) { co_return 2 * x; }

int main() {
#ifdef EDDY_COMPILE_FAIL
    auto v = eddy::sync_wait(eddy::to_vector(numbers() | eddy::flat_map(length, 2)));
#else
    auto v = eddy::sync_wait(eddy::to_vector(numbers() | eddy::flat_map(twice, 2)));
#endif
    return v.size() == 1 ? 0 : 1;
}
