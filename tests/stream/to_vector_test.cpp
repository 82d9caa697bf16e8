// Tests of eddy::to_vector(stream).
#include <eddy/stream/to_vector.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <vector>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

#include <support/counted.hpp>

using eddy::stream;
using eddy::test::counted;

namespace {

stream<int> count_to(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield i;
    }
}

stream<std::unique_ptr<int>> boxes() {
    co_yield std::make_unique<int>(1);
    co_yield std::make_unique<int>(2);
}

stream<int> two_then_throw() {
    co_yield 1;
    co_yield 2;
    throw std::runtime_error("broken");
}

stream<int> guarded(counted guard) { co_yield guard.id(); }

} // namespace

TEST_CASE("to_vector: every value in order", "[stream][to_vector]") {
    REQUIRE(eddy::sync_wait(eddy::to_vector(count_to(5))) == std::vector<int>{1, 2, 3, 4, 5});
    REQUIRE(eddy::sync_wait(eddy::to_vector(count_to(0))).empty());
}

TEST_CASE("to_vector: move-only values", "[stream][to_vector]") {
    std::vector<std::unique_ptr<int>> v = eddy::sync_wait(eddy::to_vector(boxes()));
    REQUIRE(v.size() == 2);
    REQUIRE(*v[1] == 2);
}

TEST_CASE("to_vector: the stream's exception reaches the awaiter", "[stream][to_vector]") {
    REQUIRE_THROWS_WITH(eddy::sync_wait(eddy::to_vector(two_then_throw())), "broken");
}

TEST_CASE("to_vector: lazy, and the stream's frame is gone when it completes",
          "[stream][to_vector]") {
    counted::reset();
    {
        auto t = eddy::to_vector(guarded(counted{}));
        REQUIRE(counted::alive() == 1); // the stream's parameter, nothing ran
    }
    REQUIRE(counted::alive() == 0);
    auto t = eddy::to_vector(guarded(counted{}));
    REQUIRE(eddy::sync_wait(t) == std::vector<int>{1});
    REQUIRE(counted::alive() == 0); // the task still exists; the stream is already destroyed
}
