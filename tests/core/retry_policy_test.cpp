// Tests of eddy::retry_policy and eddy::retry_state: validation, the exact backoff schedule, the
// cap, jitter bounds and reproducibility, the retry decision (attempts, time budget,
// non-retryable errors, cancellation).
#include <eddy/core/retry_policy.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <vector>

#include <eddy/core/error.hpp>

using eddy::retry_policy;
using eddy::retry_state;
using namespace std::chrono_literals;
using duration = retry_policy::duration;

namespace {

std::exception_ptr runtime_failure() {
    return std::make_exception_ptr(std::runtime_error("transient"));
}

// The waits a retry_state hands out for failures that keep coming at elapsed == 0.
std::vector<duration> schedule_of(const retry_policy& p, const std::exception_ptr& e) {
    retry_state state;
    std::vector<duration> waits;
    for (;;) {
        std::optional<duration> wait = state.on_failure(p, 0s, e);
        if (!wait) {
            return waits;
        }
        waits.push_back(*wait);
    }
}

} // namespace

TEST_CASE("retry_policy: defaults are valid and documented", "[core][retry_policy]") {
    const retry_policy p;
    REQUIRE_NOTHROW(p.validate());
    REQUIRE(p.initial_interval == 100ms);
    REQUIRE(p.multiplier == 2.0);
    REQUIRE(p.max_interval == 30s);
    REQUIRE(p.max_attempts == 5);
    REQUIRE(p.max_elapsed == 0s);
    REQUIRE(p.jitter == 0.0);
    REQUIRE_FALSE(p.non_retryable);
    REQUIRE_FALSE(p.seed.has_value());
}

TEST_CASE("retry_policy: exponential schedule 1s, 2s, 4s ... capped, exact without jitter",
          "[core][retry_policy]") {
    const retry_policy p{.initial_interval = 1s, .max_interval = 10s};
    REQUIRE(p.delay_before(0, 0.5) == 0s);
    REQUIRE(p.delay_before(1, 0.5) == 0s);
    REQUIRE(p.delay_before(2, 0.5) == 1s);
    REQUIRE(p.delay_before(3, 0.5) == 2s);
    REQUIRE(p.delay_before(4, 0.5) == 4s);
    REQUIRE(p.delay_before(5, 0.5) == 8s);
    REQUIRE(p.delay_before(6, 0.5) == 10s);
    REQUIRE(p.delay_before(7, 0.5) == 10s);
    // Without jitter the random number is ignored.
    REQUIRE(p.delay_before(4, 0.0) == 4s);
    REQUIRE(p.delay_before(4, 0.99) == 4s);
}

TEST_CASE("retry_policy: other multipliers, a constant backoff, a zero interval",
          "[core][retry_policy]") {
    const retry_policy growing{.initial_interval = 1s, .multiplier = 1.5, .max_interval = 1min};
    REQUIRE(growing.delay_before(2, 0.5) == 1s);
    REQUIRE(growing.delay_before(3, 0.5) == 1500ms);
    REQUIRE(growing.delay_before(4, 0.5) == 2250ms);
    const retry_policy constant{.initial_interval = 3s, .multiplier = 1.0, .max_interval = 3s};
    REQUIRE(constant.delay_before(2, 0.5) == 3s);
    REQUIRE(constant.delay_before(50, 0.5) == 3s);
    const retry_policy immediate{.initial_interval = 0s, .max_interval = 0s};
    REQUIRE(immediate.delay_before(2, 0.5) == 0s);
    REQUIRE(immediate.delay_before(1000000, 0.5) == 0s);
}

TEST_CASE("retry_policy: huge attempt numbers and caps do not overflow", "[core][retry_policy]") {
    const retry_policy p{.initial_interval = 1s, .max_interval = 1h};
    REQUIRE(p.delay_before(100000, 0.5) == 1h);
    REQUIRE(p.delay_before(retry_policy::unlimited, 0.5) == 1h);
    const retry_policy huge{.initial_interval = 1s, .max_interval = duration::max()};
    REQUIRE(huge.delay_before(2, 0.5) == 1s);
    REQUIRE(huge.delay_before(10000, 0.5) == duration::max());
}

TEST_CASE("retry_policy: jitter spreads a wait over [d(1-j), d(1+j)), capped",
          "[core][retry_policy]") {
    const retry_policy p{.initial_interval = 4s, .max_interval = 10s, .jitter = 0.5};
    REQUIRE(p.delay_before(2, 0.0) == 2s);    // 4s * 0.5
    REQUIRE(p.delay_before(2, 0.5) == 4s);    // the middle: unjittered
    REQUIRE(p.delay_before(2, 0.75) == 5s);   // 4s * 1.25
    REQUIRE(p.delay_before(3, 0.25) == 6s);   // 8s * 0.75
    REQUIRE(p.delay_before(3, 0.75) == 10s);  // 8s * 1.25 = 10s, at the cap
    REQUIRE(p.delay_before(3, 0.999) == 10s); // 8s * 1.499 capped
    REQUIRE(p.delay_before(9, 0.0) == 5s);    // capped base 10s * 0.5
    REQUIRE(p.delay_before(9, 0.9) == 10s);   // capped again after jitter
    const retry_policy full{.initial_interval = 1s, .jitter = 1.0};
    REQUIRE(full.delay_before(2, 0.0) == 0s);
    REQUIRE(full.delay_before(2, 0.25) == 500ms);
}

TEST_CASE("retry_policy: validate names the bad field", "[core][retry_policy]") {
    using Catch::Matchers::Contains;
    REQUIRE_THROWS_WITH((retry_policy{.initial_interval = -1s}.validate()),
                        Contains("initial_interval must not be negative"));
    REQUIRE_THROWS_WITH((retry_policy{.initial_interval = 2s, .max_interval = 1s}.validate()),
                        Contains("max_interval must not be less than initial_interval"));
    REQUIRE_THROWS_WITH((retry_policy{.multiplier = 0.5}.validate()),
                        Contains("multiplier must be at least 1"));
    REQUIRE_THROWS_WITH((retry_policy{.multiplier = std::nan("")}.validate()),
                        Contains("multiplier must be at least 1"));
    REQUIRE_THROWS_WITH((retry_policy{.jitter = -0.1}.validate()),
                        Contains("jitter must lie in [0, 1]"));
    REQUIRE_THROWS_WITH((retry_policy{.jitter = 1.5}.validate()),
                        Contains("jitter must lie in [0, 1]"));
    REQUIRE_THROWS_WITH((retry_policy{.max_attempts = 0}.validate()),
                        Contains("max_attempts must be at least 1"));
    REQUIRE_THROWS_WITH((retry_policy{.max_elapsed = -1ms}.validate()),
                        Contains("max_elapsed must not be negative"));
    REQUIRE_THROWS_AS((retry_policy{.max_attempts = 0}.validate()), eddy::error);
    REQUIRE_NOTHROW(
        retry_policy{.initial_interval = 0s, .multiplier = 1.0, .max_interval = 0s, .jitter = 1.0}
            .validate());
    REQUIRE_NOTHROW(retry_policy{.max_attempts = retry_policy::unlimited}.validate());
}

TEST_CASE("retry_policy: operation_cancelled is never retried; the predicate marks others",
          "[core][retry_policy]") {
    const retry_policy all_retry;
    REQUIRE(all_retry.is_retryable(runtime_failure()));
    REQUIRE_FALSE(all_retry.is_retryable(std::make_exception_ptr(eddy::operation_cancelled())));
    REQUIRE(all_retry.is_retryable(std::make_exception_ptr(eddy::timeout_error())));
    REQUIRE(all_retry.is_retryable(std::make_exception_ptr(42)));

    const retry_policy picky{
        .non_retryable = retry_policy::error_types<std::invalid_argument, std::range_error>()};
    REQUIRE_FALSE(picky.is_retryable(std::make_exception_ptr(std::invalid_argument("bad"))));
    REQUIRE_FALSE(picky.is_retryable(std::make_exception_ptr(std::range_error("range"))));
    REQUIRE(picky.is_retryable(std::make_exception_ptr(std::out_of_range("derived from logic"))));
    REQUIRE(picky.is_retryable(runtime_failure()));
    REQUIRE_FALSE(picky.is_retryable(std::make_exception_ptr(eddy::operation_cancelled())));

    // error_types matches derived classes.
    const retry_policy logic{.non_retryable = retry_policy::error_types<std::logic_error>()};
    REQUIRE_FALSE(logic.is_retryable(std::make_exception_ptr(std::invalid_argument("bad"))));

    int calls = 0;
    const retry_policy custom{.non_retryable = [&calls](const std::exception_ptr&) {
        ++calls;
        return true;
    }};
    REQUIRE_FALSE(custom.is_retryable(runtime_failure()));
    REQUIRE(calls == 1);
}

TEST_CASE("retry_policy: should_retry counts attempts including the first",
          "[core][retry_policy]") {
    const retry_policy p{.max_attempts = 3};
    const std::exception_ptr e = runtime_failure();
    REQUIRE(p.should_retry(1, 0s, 1s, e));
    REQUIRE(p.should_retry(2, 0s, 1s, e));
    REQUIRE_FALSE(p.should_retry(3, 0s, 1s, e));
    const retry_policy once{.max_attempts = 1};
    REQUIRE_FALSE(once.should_retry(1, 0s, 0s, e));
    const retry_policy forever{.max_attempts = retry_policy::unlimited};
    REQUIRE(forever.should_retry(1000000, 0s, 1s, e));
}

TEST_CASE("retry_policy: should_retry keeps the next attempt inside max_elapsed",
          "[core][retry_policy]") {
    const retry_policy p{.max_attempts = retry_policy::unlimited, .max_elapsed = 10s};
    const std::exception_ptr e = runtime_failure();
    REQUIRE(p.should_retry(1, 6s, 4s, e)); // starts at exactly 10s: allowed
    REQUIRE_FALSE(p.should_retry(1, 6s, 4001ms, e));
    REQUIRE_FALSE(p.should_retry(1, 11s, 0s, e)); // already past the budget
    const retry_policy none{.max_attempts = retry_policy::unlimited};
    REQUIRE(none.should_retry(1, 1000h, 1h, e)); // zero: no budget
    const retry_policy big{.max_attempts = retry_policy::unlimited, .max_elapsed = duration::max()};
    REQUIRE(big.should_retry(1, 1h, duration::max(), e) == false);
    REQUIRE(big.should_retry(1, 1h, 1h, e));
}

TEST_CASE("retry_policy: non-retryable errors and cancellation are never retried",
          "[core][retry_policy]") {
    const retry_policy p{.max_attempts = 10,
                         .non_retryable = retry_policy::error_types<std::invalid_argument>()};
    REQUIRE_FALSE(p.should_retry(1, 0s, 0s, std::make_exception_ptr(std::invalid_argument("x"))));
    REQUIRE_FALSE(p.should_retry(1, 0s, 0s, std::make_exception_ptr(eddy::operation_cancelled())));
    REQUIRE(p.should_retry(1, 0s, 0s, runtime_failure()));
}

TEST_CASE("retry_state: the waits of a run, then giving up", "[core][retry_policy]") {
    const retry_policy p{.initial_interval = 1s, .max_interval = 5s, .max_attempts = 6};
    REQUIRE(schedule_of(p, runtime_failure()) == std::vector<duration>{1s, 2s, 4s, 5s, 5s});

    retry_state state;
    REQUIRE(state.attempt() == 1);
    REQUIRE(state.on_failure(p, 0s, runtime_failure()) == std::optional<duration>(1s));
    REQUIRE(state.attempt() == 2);
    // A non-retryable failure gives up at once and does not count an attempt.
    REQUIRE_FALSE(state.on_failure(p, 0s, std::make_exception_ptr(eddy::operation_cancelled())));
    REQUIRE(state.attempt() == 2);
    REQUIRE(state.on_failure(p, 1s, runtime_failure()) == std::optional<duration>(2s));
    REQUIRE(state.attempt() == 3);
}

TEST_CASE("retry_state: max_elapsed stops a run whose next wait would end past the budget",
          "[core][retry_policy]") {
    const retry_policy p{
        .initial_interval = 1s, .max_attempts = retry_policy::unlimited, .max_elapsed = 7s};
    retry_state state;
    const std::exception_ptr e = runtime_failure();
    REQUIRE(state.on_failure(p, 0s, e) == std::optional<duration>(1s)); // attempt 2 at 1s
    REQUIRE(state.on_failure(p, 1s, e) == std::optional<duration>(2s)); // attempt 3 at 3s
    REQUIRE(state.on_failure(p, 3s, e) == std::optional<duration>(4s)); // attempt 4 at 7s
    REQUIRE_FALSE(state.on_failure(p, 7s, e));                          // 7s + 8s > 7s
    REQUIRE(state.attempt() == 4);
}

TEST_CASE("retry_state: seeded jitter is reproducible and stays within its bounds",
          "[core][retry_policy]") {
    const retry_policy p{
        .initial_interval = 1s, .max_interval = 100s, .max_attempts = 9, .jitter = 0.5, .seed = 42};
    const std::vector<duration> a = schedule_of(p, runtime_failure());
    const std::vector<duration> b = schedule_of(p, runtime_failure());
    REQUIRE(a.size() == 8);
    REQUIRE(a == b);
    duration base = 1s;
    bool any_jittered = false;
    for (duration d : a) {
        REQUIRE(d >= base / 2);
        REQUIRE(d < base + base / 2);
        any_jittered = any_jittered || d != base;
        base *= 2;
    }
    REQUIRE(any_jittered);
    retry_policy other = p;
    other.seed = 43;
    REQUIRE(schedule_of(other, runtime_failure()) != a);
    // Unseeded runs draw from std::random_device; the bounds still hold.
    other.seed.reset();
    const std::vector<duration> c = schedule_of(other, runtime_failure());
    REQUIRE(c.size() == 8);
    REQUIRE(c[0] >= 500ms);
    REQUIRE(c[0] < 1500ms);
}
