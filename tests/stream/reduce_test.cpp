// Tests of eddy::reduce(stream, init, f).
#include <eddy/stream/reduce.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

using eddy::stream;
using eddy::task;

namespace {

stream<int> count_to(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield i;
    }
}

stream<std::unique_ptr<int>> boxes(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield std::make_unique<int>(i);
    }
}

stream<int> one_then_throw() {
    co_yield 1;
    throw std::runtime_error("broken");
}

struct append_digit {
    std::string operator()(std::string acc, int v) const { return acc + std::to_string(v); }
};

struct add_box {
    int operator()(int acc, std::unique_ptr<int> v) const { return acc + *v; }
};

task<long> add_later(long acc, int v) { co_return acc + v; }

struct add_async {
    task<long> operator()(long acc, int v) const { return add_later(acc, v); }
};

} // namespace

TEST_CASE("reduce: folds in order from the initial value", "[stream][reduce]") {
    REQUIRE(eddy::sync_wait(eddy::reduce(count_to(4), 0, std::plus<>{})) == 10);
    REQUIRE(eddy::sync_wait(eddy::reduce(count_to(3), std::string(">"), append_digit{})) == ">123");
    REQUIRE(eddy::sync_wait(eddy::reduce(count_to(0), 42, std::plus<>{})) == 42);
}

TEST_CASE("reduce: move-only values", "[stream][reduce]") {
    REQUIRE(eddy::sync_wait(eddy::reduce(boxes(3), 0, add_box{})) == 6);
}

TEST_CASE("reduce: an asynchronous step", "[stream][reduce]") {
    REQUIRE(eddy::sync_wait(eddy::reduce(count_to(1'000), 0L, add_async{})) == 500'500L);
}

TEST_CASE("reduce: the stream's exception reaches the awaiter", "[stream][reduce]") {
    REQUIRE_THROWS_WITH(eddy::sync_wait(eddy::reduce(one_then_throw(), 0, std::plus<>{})),
                        "broken");
}
