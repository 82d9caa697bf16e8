// Tests of eddy::stage_chain: fused stages composed before they meet a source, reused, extended,
// appended to a pipeline, and producing the same pipeline type as piping stage by stage.
#include <eddy/stream/stage_chain.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <eddy/stream/filter.hpp>
#include <eddy/stream/from_range.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/take.hpp>

#include <support/stream_sources.hpp>

using eddy::stream;
using eddy::test::all;
using eddy::test::count_to;
using eddy::test::counted_source;
using eddy::test::is_even;

namespace {

int square(int x) { return x * x; }
std::string label(int x) { return "#" + std::to_string(x); }

} // namespace

TEST_CASE("stage_chain: two stages make a chain, not a pipeline", "[stream][stage_chain]") {
    auto chain = eddy::filter(is_even) | eddy::map(square);
    using chain_type = decltype(chain);
    STATIC_REQUIRE(std::is_same_v<chain_type, eddy::stage_chain<eddy::filter_stage<bool (*)(int)>,
                                                                eddy::map_stage<int (*)(int)>>>);
    STATIC_REQUIRE(std::is_same_v<chain_type::output<int>, int>);
    // Applying it gives exactly the pipeline of piping the stages one by one.
    using applied = decltype(count_to(1) | chain);
    using piped = decltype(count_to(1) | eddy::filter(is_even) | eddy::map(square));
    STATIC_REQUIRE(std::is_same_v<applied, piped>);
}

TEST_CASE("stage_chain: one chain serves several streams of different sources",
          "[stream][stage_chain]") {
    const auto evens_squared = eddy::filter(is_even) | eddy::map(square);
    REQUIRE(all<int>(count_to(6) | evens_squared) == std::vector<int>{4, 16, 36});
    REQUIRE(all<int>(eddy::from(std::vector<int>{10, 11}) | evens_squared) ==
            std::vector<int>{100});
    REQUIRE(all<int>(count_to(2) | evens_squared) == std::vector<int>{4}); // still usable
}

TEST_CASE("stage_chain: chains extend with stages and with chains", "[stream][stage_chain]") {
    auto front = eddy::filter(is_even) | eddy::map(square);
    auto back = eddy::take(2) | eddy::map(label);
    auto whole = front | back;
    STATIC_REQUIRE(std::is_same_v<decltype(whole)::output<int>, std::string>);
    REQUIRE(all<std::string>(count_to(10) | whole) == std::vector<std::string>{"#4", "#16"});
    auto longer = front | eddy::take(1);
    REQUIRE(all<int>(count_to(10) | longer) == std::vector<int>{4});
}

TEST_CASE("stage_chain: appended to a pipeline after its own stages", "[stream][stage_chain]") {
    auto p = count_to(10) | eddy::map(square);
    auto q = std::move(p) | (eddy::filter(is_even) | eddy::take(2));
    REQUIRE(all<int>(std::move(q)) == std::vector<int>{4, 16});
}

TEST_CASE("stage_chain: lazy, and take stops pulling the source", "[stream][stage_chain]") {
    int pulls = 0;
    const auto first_two = eddy::map(square) | eddy::take(2);
    { auto unused = counted_source(100, &pulls) | first_two; }
    REQUIRE(pulls == 0);
    REQUIRE(all<int>(counted_source(100, &pulls) | first_two) == std::vector<int>{1, 4});
    REQUIRE(pulls == 2);
}

TEST_CASE("stage_chain: converts to stream<T> once applied", "[stream][stage_chain]") {
    stream<int> s = count_to(4) | (eddy::map(square) | eddy::filter(is_even));
    REQUIRE(all(std::move(s)) == std::vector<int>{4, 16});
}
