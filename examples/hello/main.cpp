// hello: two lazy tasks awaited together with when_all, driven to completion by sync_wait.
#include <eddy/eddy.hpp>

#include <cstdio>
#include <tuple>

namespace {

eddy::task<int> six() { co_return 6; }

eddy::task<int> seven() { co_return 7; }

eddy::task<int> multiply() {
    auto [a, b] = co_await eddy::when_all(six(), seven());
    std::printf("when_all(six(), seven()) = (%d, %d)\n", a, b);
    const int product = a * b; // named: clang-format 14 misreads `co_return a * b` as a declaration
    co_return product;
}

} // namespace

int main() {
    std::printf("hello from eddy\n");
    const int answer = eddy::sync_wait(multiply());
    std::printf("6 * 7 = %d\n", answer);
    return answer == 42 ? 0 : 1;
}
