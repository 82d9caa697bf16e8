// Tests of eddy::take: the first n, early stop (no more pulls), take(0), errors, move-only values,
// copies.
#include <eddy/stream/take.hpp>

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
using eddy::test::moves_out;
using eddy::test::next_of;
using eddy::test::two_then_throw;
using eddy::test::unbounded;

TEST_CASE("take: the first n elements, in order", "[stream][take]") {
    REQUIRE(all<int>(count_to(5) | eddy::take(3)) == std::vector<int>{1, 2, 3});
    REQUIRE(all<int>(count_to(2) | eddy::take(5)) == std::vector<int>{1, 2});
    REQUIRE(all<int>(count_to(2) | eddy::take(2)) == std::vector<int>{1, 2});
}

TEST_CASE("take: stops pulling after the n-th element, even from an endless source",
          "[stream][take]") {
    int pulls = 0;
    auto p = counted_source(unbounded, &pulls) | eddy::take(2);
    REQUIRE(eddy::sync_wait(next_of(&p)) == 1);
    REQUIRE(eddy::sync_wait(next_of(&p)) == 2);
    REQUIRE(p.ended());
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE(pulls == 2);

    int more = 0;
    REQUIRE(all<int>(counted_source(unbounded, &more) | eddy::take(4)) ==
            std::vector<int>{1, 2, 3, 4});
    REQUIRE(more == 4);
}

TEST_CASE("take(0) never pulls", "[stream][take]") {
    int pulls = 0;
    auto p = counted_source(unbounded, &pulls) | eddy::take(0);
    REQUIRE(p.ended());
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE(all<int>(counted_source(unbounded, &pulls) | eddy::take(0)).empty());
    REQUIRE(pulls == 0);
}

TEST_CASE("take: a later take inside a pipeline also ends it", "[stream][take]") {
    int pulls = 0;
    REQUIRE(all<int>(counted_source(unbounded, &pulls) | eddy::take(10) | eddy::take(3)) ==
            std::vector<int>{1, 2, 3});
    REQUIRE(pulls == 3);
}

TEST_CASE("take: the source's error before the n-th element reaches the consumer",
          "[stream][take]") {
    REQUIRE(all<int>(two_then_throw() | eddy::take(2)) == std::vector<int>{1, 2});
    REQUIRE_THROWS_WITH(all<int>(two_then_throw() | eddy::take(3)), "source failed");
}

TEST_CASE("take: move-only elements, never copied", "[stream][take]") {
    std::vector<std::unique_ptr<int>> v = all<std::unique_ptr<int>>(boxes(5) | eddy::take(2));
    REQUIRE(v.size() == 2);
    REQUIRE(*v[1] == 2);
    copy_move_tracker t(5);
    REQUIRE(all<copy_move_tracker>(moves_out(&t) | eddy::take(1)).size() == 1);
    REQUIRE(t.copies() == 0);
}
