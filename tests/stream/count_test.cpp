// Tests of eddy::count(stream).
#include <eddy/stream/count.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <memory>
#include <stdexcept>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

using eddy::stream;

namespace {

stream<int> count_to(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield i;
    }
}

stream<std::unique_ptr<int>> boxes(int n) {
    for (int i = 0; i < n; ++i) {
        co_yield std::make_unique<int>(i);
    }
}

stream<int> one_then_throw() {
    co_yield 1;
    throw std::runtime_error("broken");
}

} // namespace

TEST_CASE("count: the number of values", "[stream][count]") {
    REQUIRE(eddy::sync_wait(eddy::count(count_to(7))) == 7U);
    REQUIRE(eddy::sync_wait(eddy::count(count_to(0))) == 0U);
    REQUIRE(eddy::sync_wait(eddy::count(boxes(3))) == 3U);
}

TEST_CASE("count: a million values in constant stack", "[stream][count]") {
    REQUIRE(eddy::sync_wait(eddy::count(count_to(1'000'000))) == 1'000'000U);
}

TEST_CASE("count: the stream's exception reaches the awaiter", "[stream][count]") {
    REQUIRE_THROWS_WITH(eddy::sync_wait(eddy::count(one_then_throw())), "broken");
}
