// expect: eddy::map: the function cannot be called with the stream's element type
#include <cstddef>
#include <string>

#include <eddy/core/sync_wait.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/to_vector.hpp>

eddy::stream<int> numbers() { co_yield 1; }

std::size_t length(const std::string& s) { return s.size(); }
int twice(int x) { return 2 * x; }

int main() {
#ifdef EDDY_COMPILE_FAIL
    auto v = eddy::sync_wait(eddy::to_vector(numbers() | eddy::map(length)));
#else
    auto v = eddy::sync_wait(eddy::to_vector(numbers() | eddy::map(twice)));
#endif
    return v.size() == 1 ? 0 : 1;
}
