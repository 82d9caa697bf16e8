// expect: eddy::map: the function cannot be called with the stream's element type
// A chain declared on its own is checked when it meets a stream: here a chain for strings
// applied to a stream of ints.
#include <cstddef>
#include <string>

#include <eddy/core/sync_wait.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/stage_chain.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/take.hpp>
#include <eddy/stream/to_vector.hpp>

eddy::stream<int> numbers() { co_yield 1; }
eddy::stream<std::string> words() { co_yield "one"; }

std::size_t length(const std::string& s) { return s.size(); }

int main() {
    const auto lengths = eddy::map(length) | eddy::take(1);
#ifdef EDDY_COMPILE_FAIL
    auto v = eddy::sync_wait(eddy::to_vector(numbers() | lengths));
#else
    auto v = eddy::sync_wait(eddy::to_vector(words() | lengths));
#endif
    return v.size() == 1 ? 0 : 1;
}
