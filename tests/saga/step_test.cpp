// Tests of eddy::step: bad input is an eddy::error naming the step, the two action signatures,
// deduction of the context from functions, options reaching the definition, and reuse of one
// step value.
#include <eddy/saga/step.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/saga/run_saga.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/sequence.hpp>

namespace {

using namespace std::chrono_literals;

struct counter {
    int n = 0;
};

eddy::task<void> bump(counter& c, const eddy::step_context& s) {
    c.n += static_cast<int>(s.attempt);
    co_return;
}
eddy::task<void> bump_plain(counter& c) {
    c.n += 10;
    co_return;
}
eddy::task<void> undo(counter& c) {
    c.n -= 1;
    co_return;
}

} // namespace

TEST_CASE("bad step input is an eddy::error naming the step", "[saga][step]") {
    CHECK_THROWS_WITH(eddy::step("", bump), Catch::Contains("non-empty name"));
    CHECK_THROWS_WITH(eddy::step<counter>("a", eddy::detail::saga_action<counter>{}),
                      Catch::Contains("'a': the action is empty"));
    CHECK_THROWS_WITH(eddy::step("a", bump).timeout(0s), Catch::Contains("'a': timeout"));
    CHECK_THROWS_WITH(eddy::step("a", bump).timeout(-1s), Catch::Contains("must be positive"));
    CHECK_THROWS_WITH(eddy::step("a", bump).retry({.max_attempts = 0}),
                      Catch::Contains("'a': retry: eddy::retry_policy: max_attempts"));
    CHECK_THROWS_WITH(eddy::step("a", bump).compensation_retry({.multiplier = 0.5}),
                      Catch::Contains("'a': compensation_retry"));
    CHECK_THROWS_AS(eddy::step("a", bump).retry({.jitter = 2.0}), eddy::error);
}

TEST_CASE("the context is deduced from functions of either signature", "[saga][step]") {
    STATIC_REQUIRE(std::is_same_v<decltype(eddy::step("a", bump)), eddy::step<counter>>);
    STATIC_REQUIRE(
        std::is_same_v<decltype(eddy::step("a", bump_plain, undo)), eddy::step<counter>>);
    eddy::virtual_time_scheduler vt;
    const eddy::saga<counter> s("s",
                                eddy::sequence(eddy::step("a", bump), eddy::step("b", bump_plain)));
    CHECK(vt.run(eddy::run_saga(s, "x", counter{}, vt)).context.n == 11);
}

TEST_CASE("options reach the definition", "[saga][step]") {
    const eddy::saga<counter> s("s", eddy::sequence(eddy::step("a", bump, undo)
                                                        .retry({.max_attempts = 3})
                                                        .compensation_retry({.max_attempts = 7})
                                                        .timeout(5s)
                                                        .pivot(),
                                                    eddy::step("b", bump).optional()));
    const auto& a = s.step_at(s.step_index("a"));
    CHECK(a.retry.max_attempts == 3);
    CHECK(a.compensation_retry.max_attempts == 7);
    CHECK(a.timeout == std::optional<std::chrono::steady_clock::duration>(5s));
    CHECK(a.pivot);
    CHECK_FALSE(a.optional);
    CHECK(static_cast<bool>(a.compensation));
    const auto& b = s.step_at(s.step_index("b"));
    CHECK(b.optional);
    CHECK(b.retry.max_attempts == 1); // default: one attempt
    CHECK(b.compensation_retry.max_attempts == eddy::retry_policy{}.max_attempts);
    CHECK_FALSE(b.compensation);
    CHECK_FALSE(b.timeout);
}

TEST_CASE("one step value converts into several nodes", "[saga][step]") {
    const auto a = eddy::step("a", bump);
    const eddy::saga<counter> one("one", eddy::sequence(a));
    const eddy::saga<counter> two("two", eddy::sequence(a, eddy::step("b", bump)));
    CHECK(one.step_count() == 1);
    CHECK(two.step_count() == 2);
}
