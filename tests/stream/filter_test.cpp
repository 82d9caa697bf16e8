// Tests of eddy::filter: order, skipped runs, end, errors, move-only values, copies.
#include <eddy/stream/filter.hpp>

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
using eddy::test::is_even;
using eddy::test::moves_out;
using eddy::test::next_of;
using eddy::test::two_then_throw;

TEST_CASE("filter: keeps what satisfies the predicate, in order", "[stream][filter]") {
    REQUIRE(all<int>(count_to(7) | eddy::filter(is_even)) == std::vector<int>{2, 4, 6});
    REQUIRE(all<int>(count_to(3) | eddy::filter([](int) { return false; })).empty());
    REQUIRE(all<int>(count_to(3) | eddy::filter([](int) { return 1; })) ==
            std::vector<int>{1, 2, 3});
    REQUIRE(all<int>(count_to(0) | eddy::filter(is_even)).empty());
}

TEST_CASE("filter: one next() pulls past rejected elements; then the end", "[stream][filter]") {
    int pulls = 0;
    auto p = counted_source(10, &pulls) | eddy::filter([](int x) { return x % 4 == 0; });
    REQUIRE(eddy::sync_wait(next_of(&p)) == 4);
    REQUIRE(pulls == 4);
    REQUIRE(eddy::sync_wait(next_of(&p)) == 8);
    REQUIRE(pulls == 8);
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE(pulls == 10);
}

TEST_CASE("filter: is a fused stage keeping the element type", "[stream][filter]") {
    using p = decltype(count_to(1) | eddy::filter(is_even) | eddy::filter(is_even));
    STATIC_REQUIRE(std::is_same_v<p, eddy::pipeline<stream<int>, eddy::filter_stage<bool (*)(int)>,
                                                    eddy::filter_stage<bool (*)(int)>>>);
    STATIC_REQUIRE(std::is_same_v<p::value_type, int>);
}

TEST_CASE("filter: errors of the predicate and of the source reach the consumer",
          "[stream][filter]") {
    auto p = count_to(5) | eddy::filter([](int x) {
                 if (x == 3) {
                     throw std::runtime_error("filter failed");
                 }
                 return true;
             });
    REQUIRE(eddy::sync_wait(next_of(&p)) == 1);
    REQUIRE(eddy::sync_wait(next_of(&p)) == 2);
    REQUIRE_THROWS_WITH(eddy::sync_wait(next_of(&p)), "filter failed");
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE_THROWS_WITH(all<int>(two_then_throw() | eddy::filter(is_even)), "source failed");
}

TEST_CASE("filter: move-only elements", "[stream][filter]") {
    std::vector<std::unique_ptr<int>> v = all<std::unique_ptr<int>>(
        boxes(5) | eddy::filter([](const std::unique_ptr<int>& b) { return *b > 3; }));
    REQUIRE(v.size() == 2);
    REQUIRE(*v[0] == 4);
    REQUIRE(*v[1] == 5);
}

TEST_CASE("filter: never copies an element", "[stream][filter]") {
    copy_move_tracker t(5);
    std::vector<copy_move_tracker> out = all<copy_move_tracker>(
        moves_out(&t) | eddy::filter([](const copy_move_tracker& x) { return x.value() == 5; }));
    REQUIRE(out.size() == 1);
    REQUIRE(t.copies() == 0);
}
