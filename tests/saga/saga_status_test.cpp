// Tests of eddy::saga_status and eddy::saga_outcome: every status has its name; only
// `completed` counts as completed.
#include <eddy/saga/saga_status.hpp>

#include <catch2/catch.hpp>

#include <eddy/saga/saga_outcome.hpp>
#include <eddy/saga/saga_transition.hpp>

TEST_CASE("every status has its name", "[saga][saga_status]") {
    using s = eddy::saga_status;
    STATIC_REQUIRE(eddy::to_string(s::running) == "running");
    STATIC_REQUIRE(eddy::to_string(s::compensating) == "compensating");
    STATIC_REQUIRE(eddy::to_string(s::completed) == "completed");
    STATIC_REQUIRE(eddy::to_string(s::compensated) == "compensated");
    STATIC_REQUIRE(eddy::to_string(s::compensation_failed) == "compensation_failed");
    STATIC_REQUIRE(eddy::to_string(s::parked) == "parked");
    STATIC_REQUIRE(eddy::to_string(static_cast<s>(99)) == "unknown");
}

TEST_CASE("only a completed outcome is completed", "[saga][saga_status]") {
    using s = eddy::saga_status;
    for (const auto st :
         {s::running, s::compensating, s::compensated, s::compensation_failed, s::parked}) {
        eddy::saga_outcome<int> o;
        o.status = st;
        CHECK_FALSE(o.completed());
    }
    CHECK(eddy::saga_outcome<int>{}.completed());
}

TEST_CASE("transition kinds round-trip through their names", "[saga][saga_transition]") {
    for (int i = 0; i <= static_cast<int>(eddy::saga_transition_kind::saga_resumed); ++i) {
        const auto k = static_cast<eddy::saga_transition_kind>(i);
        CHECK(eddy::saga_transition_kind_from(eddy::to_string(k)) == k);
    }
    CHECK(eddy::to_string(eddy::saga_transition_kind::step_outcome_unknown) ==
          "step_outcome_unknown");
    CHECK_FALSE(eddy::saga_transition_kind_from("step_begun").has_value());
    CHECK_FALSE(eddy::saga_transition_kind_from("").has_value());
}
