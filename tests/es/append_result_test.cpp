// Tests of eddy::append_result: defaults and equality.
#include <eddy/es/append_result.hpp>

#include <catch2/catch.hpp>

TEST_CASE("append_result: value semantics", "[es][append_result]") {
    eddy::append_result none;
    REQUIRE(none == eddy::append_result{0, 0, 0});
    eddy::append_result a{3, 10, 12};
    REQUIRE(a == eddy::append_result{3, 10, 12});
    REQUIRE_FALSE(a == eddy::append_result{3, 10, 11});
}
