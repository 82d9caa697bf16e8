// Tests of eddy::map: order, end, errors, conversion, move-only values, copies.
#include <eddy/stream/map.hpp>

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

namespace {

struct fails_on_two {
    int operator()(int x) const {
        if (x == 2) {
            throw std::runtime_error("map failed");
        }
        return x;
    }
};

} // namespace

TEST_CASE("map: each element transformed, in order", "[stream][map]") {
    REQUIRE(all<int>(count_to(4) | eddy::map([](int x) { return x * 10; })) ==
            std::vector<int>{10, 20, 30, 40});
    REQUIRE(all<std::string>(count_to(2) | eddy::map([](int x) { return std::to_string(x); })) ==
            std::vector<std::string>{"1", "2"});
    REQUIRE(all<int>(count_to(0) | eddy::map([](int x) { return x; })).empty());
}

TEST_CASE("map: is a fused stage; the element type is the decayed result", "[stream][map]") {
    using p = decltype(count_to(1) | eddy::map([](int x) { return x * 0.5; }));
    STATIC_REQUIRE(std::is_same_v<p::value_type, double>);
    STATIC_REQUIRE_FALSE(std::is_same_v<p, stream<double>>);
    static const std::string text = "x";
    using q = decltype(count_to(1) | eddy::map([](int) -> const std::string& { return text; }));
    STATIC_REQUIRE(std::is_same_v<q::value_type, std::string>);
}

TEST_CASE("map: stateful callables keep their state across elements", "[stream][map]") {
    REQUIRE(all<int>(count_to(3) | eddy::map([n = 0](int x) mutable { return x + n++; })) ==
            std::vector<int>{1, 3, 5});
}

TEST_CASE("map: after the end, nothing more is pulled", "[stream][map]") {
    int pulls = 0;
    auto p = counted_source(2, &pulls) | eddy::map([](int x) { return -x; });
    REQUIRE(eddy::sync_wait(next_of(&p)) == -1);
    REQUIRE(eddy::sync_wait(next_of(&p)) == -2);
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE(pulls == 2);
}

TEST_CASE("map: errors of the function and of the source reach the consumer", "[stream][map]") {
    int pulls = 0;
    auto p = counted_source(5, &pulls) | eddy::map(fails_on_two{});
    REQUIRE(eddy::sync_wait(next_of(&p)) == 1);
    REQUIRE_THROWS_WITH(eddy::sync_wait(next_of(&p)), "map failed");
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE(pulls == 2);
    REQUIRE_THROWS_WITH(all<int>(two_then_throw() | eddy::map([](int x) { return x; })),
                        "source failed");
}

TEST_CASE("map: move-only elements, moved into the function", "[stream][map]") {
    std::vector<int> v = all<int>(boxes(3) | eddy::map([](std::unique_ptr<int> b) { return *b; }));
    REQUIRE(v == std::vector<int>{1, 2, 3});
}

TEST_CASE("map: never copies an element", "[stream][map]") {
    copy_move_tracker t(5);
    std::vector<copy_move_tracker> out =
        all<copy_move_tracker>(moves_out(&t) | eddy::map([](copy_move_tracker x) { return x; }));
    REQUIRE(out.size() == 1);
    REQUIRE(out[0].value() == 5);
    REQUIRE(t.copies() == 0);
}
