// Tests of eddy::skip: drops the first n, pulls, end, errors, move-only values.
#include <eddy/stream/skip.hpp>

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
#include <eddy/stream/take.hpp>
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

TEST_CASE("skip: every element but the first n, in order", "[stream][skip]") {
    REQUIRE(all<int>(count_to(5) | eddy::skip(2)) == std::vector<int>{3, 4, 5});
    REQUIRE(all<int>(count_to(3) | eddy::skip(0)) == std::vector<int>{1, 2, 3});
    REQUIRE(all<int>(count_to(3) | eddy::skip(3)).empty());
    REQUIRE(all<int>(count_to(3) | eddy::skip(10)).empty());
}

TEST_CASE("skip: the first next() pulls n + 1 times; then one pull per element", "[stream][skip]") {
    int pulls = 0;
    auto p = counted_source(5, &pulls) | eddy::skip(3);
    REQUIRE(eddy::sync_wait(next_of(&p)) == 4);
    REQUIRE(pulls == 4);
    REQUIRE(eddy::sync_wait(next_of(&p)) == 5);
    REQUIRE(pulls == 5);
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
}

TEST_CASE("skip: combined with take, a window", "[stream][skip]") {
    int pulls = 0;
    REQUIRE(all<int>(counted_source(100, &pulls) | eddy::skip(10) | eddy::take(2)) ==
            std::vector<int>{11, 12});
    REQUIRE(pulls == 12);
    STATIC_REQUIRE(std::is_same_v<decltype(count_to(1) | eddy::skip(1) | eddy::take(1)),
                                  eddy::pipeline<stream<int>, eddy::skip_stage, eddy::take_stage>>);
}

TEST_CASE("skip: the source's error reaches the consumer, even while skipping", "[stream][skip]") {
    REQUIRE_THROWS_WITH(all<int>(two_then_throw() | eddy::skip(5)), "source failed");
    REQUIRE_THROWS_WITH(all<int>(two_then_throw() | eddy::skip(1)), "source failed");
}

TEST_CASE("skip: move-only elements", "[stream][skip]") {
    std::vector<std::unique_ptr<int>> v = all<std::unique_ptr<int>>(boxes(3) | eddy::skip(2));
    REQUIRE(v.size() == 1);
    REQUIRE(*v[0] == 3);
}
