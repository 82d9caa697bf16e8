// Tests of eddy::commit_result: defaults and equality.
#include <eddy/es/commit_result.hpp>

#include <catch2/catch.hpp>

TEST_CASE("commit_result: value semantics", "[es][commit_result]") {
    eddy::commit_result none;
    REQUIRE(none.appends.empty());
    eddy::commit_result r{{{1, 1, 1}, {3, 2, 3}}};
    REQUIRE(r == eddy::commit_result{{{1, 1, 1}, {3, 2, 3}}});
    REQUIRE_FALSE(r == none);
}
