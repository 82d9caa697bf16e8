// Tests of eddy::business_failure and eddy::unknown_outcome: both are eddy::errors carrying
// their message, and neither is the other (a saga treats them oppositely: no effect vs maybe).
#include <eddy/saga/business_failure.hpp>

#include <catch2/catch.hpp>

#include <type_traits>

#include <eddy/saga/unknown_outcome.hpp>

TEST_CASE("business_failure and unknown_outcome are distinct eddy::errors",
          "[saga][business_failure]") {
    STATIC_REQUIRE(std::is_base_of_v<eddy::error, eddy::business_failure>);
    STATIC_REQUIRE(std::is_base_of_v<eddy::error, eddy::unknown_outcome>);
    STATIC_REQUIRE_FALSE(std::is_base_of_v<eddy::business_failure, eddy::unknown_outcome>);
    STATIC_REQUIRE_FALSE(std::is_base_of_v<eddy::unknown_outcome, eddy::business_failure>);
    CHECK(std::string(eddy::business_failure("card declined").what()) == "card declined");
    CHECK(std::string(eddy::unknown_outcome("reply lost").what()) == "reply lost");
}
