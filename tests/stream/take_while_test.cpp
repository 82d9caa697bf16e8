// Tests of eddy::take_while: elements while the predicate holds, early stop, errors, move-only
// values.
#include <eddy/stream/take_while.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/copy_move_tracker.hpp>
#include <support/stream_sources.hpp>

using eddy::stream;
using eddy::task;
using eddy::test::copy_move_tracker;

using eddy::test::all;
using eddy::test::boxes;
using eddy::test::count_to;
using eddy::test::counted_source;
using eddy::test::next_of;
using eddy::test::two_then_throw;
using eddy::test::unbounded;

TEST_CASE("take_while: elements while the predicate holds, in order", "[stream][take_while]") {
    REQUIRE(all<int>(count_to(6) | eddy::take_while([](int x) { return x < 4; })) ==
            std::vector<int>{1, 2, 3});
    REQUIRE(all<int>(count_to(3) | eddy::take_while([](int) { return true; })) ==
            std::vector<int>{1, 2, 3});
    REQUIRE(all<int>(count_to(3) | eddy::take_while([](int) { return false; })).empty());
}

TEST_CASE("take_while: the first failing element ends it; the source is not pulled again",
          "[stream][take_while]") {
    int pulls = 0;
    auto p = counted_source(unbounded, &pulls) | eddy::take_while([](int x) { return x != 3; });
    REQUIRE(eddy::sync_wait(next_of(&p)) == 1);
    REQUIRE(eddy::sync_wait(next_of(&p)) == 2);
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE(p.ended());
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE(pulls == 3);
}

TEST_CASE("take_while: the element type is kept; a fused stage", "[stream][take_while]") {
    using p = decltype(count_to(1) | eddy::take_while([](int) { return true; }));
    STATIC_REQUIRE(std::is_same_v<p::value_type, int>);
    STATIC_REQUIRE_FALSE(std::is_same_v<p, stream<int>>);
}

TEST_CASE("take_while: errors of the predicate and of the source reach the consumer",
          "[stream][take_while]") {
    REQUIRE_THROWS_WITH(all<int>(count_to(3) | eddy::take_while([](int x) -> bool {
                                     throw std::runtime_error("predicate failed " +
                                                              std::to_string(x));
                                 })),
                        "predicate failed 1");
    REQUIRE_THROWS_WITH(all<int>(two_then_throw() | eddy::take_while([](int) { return true; })),
                        "source failed");
    REQUIRE(all<int>(two_then_throw() | eddy::take_while([](int x) { return x < 2; })) ==
            std::vector<int>{1});
}

TEST_CASE("take_while: move-only elements", "[stream][take_while]") {
    std::vector<std::unique_ptr<int>> v = all<std::unique_ptr<int>>(
        boxes(5) | eddy::take_while([](const std::unique_ptr<int>& b) { return *b < 3; }));
    REQUIRE(v.size() == 2);
    REQUIRE(*v[1] == 2);
}
