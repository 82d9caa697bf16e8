// tests/outbox/conformance/idempotency_store_suite.hpp - the conformance suite of
// eddy::idempotency_store: every store runs these checks unchanged on a fresh fixture.
// A fixture (held by std::unique_ptr) has members `keys` (an eddy::idempotency_store whose
// response_type is std::string and whose clock is `clock`) and `clock` (a manual_clock).
#pragma once

#include <catch2/catch.hpp>

#include <chrono>    // std::chrono_literals
#include <optional>  // std::optional
#include <stdexcept> // std::runtime_error
#include <string>    // std::string

#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/outbox/idempotency_store.hpp>
#include <eddy/outbox/memory_idempotency_store.hpp>
#include <eddy/outbox/request_in_progress.hpp>

#include <support/manual_clock.hpp>

namespace eddy::test::outbox {

// A request that counts its runs and fails while `failures` > 0.
struct counted_request {
    int* runs;
    int* failures;
    std::string item;
    eddy::task<std::string> operator()() const { return run(runs, failures, item); }
    static eddy::task<std::string> run(int* runs, int* failures, std::string item) {
        ++*runs;
        if (*failures > 0) {
            --*failures;
            throw std::runtime_error("payment gateway down");
        }
        co_return "receipt for " + item + " #" + std::to_string(*runs);
    }
};

/// The checks, each on a fresh fixture from `make()`.
template <class MakeFixture>
void idempotency_store_conformance(MakeFixture make) {
    using namespace std::chrono_literals;
    using fixture_type = typename decltype(make())::element_type;
    STATIC_REQUIRE(eddy::idempotency_store<decltype(fixture_type::keys)>);
    int runs = 0;
    int failures = 0;
    auto call = [&](auto& keys, const char* key, const char* fp, auto ttl, const char* item) {
        return eddy::sync_wait(
            eddy::idempotent_call(keys, key, fp, ttl, counted_request{&runs, &failures, item}));
    };

    SECTION("the first call runs; a repeat returns its response") {
        auto f = make();
        const std::string first = call(f->keys, "k1", "fp", 1h, "book");
        const std::string again = call(f->keys, "k1", "fp", 1h, "book");
        CHECK(first == "receipt for book #1");
        CHECK(again == first);
        CHECK(runs == 1);
        CHECK(call(f->keys, "k2", "fp", 1h, "pen") == "receipt for pen #2"); // another key
    }

    SECTION("a repeat while the first runs is told it is in progress") {
        auto f = make();
        CHECK_FALSE(eddy::sync_wait(f->keys.begin("k1", "fp", 1h)).has_value());
        CHECK_THROWS_AS(eddy::sync_wait(f->keys.begin("k1", "fp", 1h)), eddy::request_in_progress);
        eddy::sync_wait(f->keys.complete("k1", "done"));
        CHECK(eddy::sync_wait(f->keys.begin("k1", "fp", 1h)) == std::optional<std::string>("done"));
    }

    SECTION("a key reused with other parameters is an error") {
        auto f = make();
        (void)call(f->keys, "k1", "fp-book", 1h, "book");
        CHECK_THROWS_AS(call(f->keys, "k1", "fp-pen", 1h, "pen"), eddy::idempotency_key_reused);
        CHECK(runs == 1);
    }

    SECTION("a failed call frees its key") {
        auto f = make();
        failures = 1;
        CHECK_THROWS_WITH(call(f->keys, "k1", "fp", 1h, "book"), "payment gateway down");
        CHECK(call(f->keys, "k1", "fp", 1h, "book") == "receipt for book #2");
    }

    SECTION("keys expire after their ttl and are purged") {
        auto f = make();
        (void)call(f->keys, "k1", "fp", 10min, "book");
        (void)call(f->keys, "k2", "fp", 1h, "pen");
        f->clock.advance(9min);
        CHECK(call(f->keys, "k1", "fp", 10min, "book") == "receipt for book #1");
        f->clock.advance(2min); // k1: 11 min after its first call
        CHECK(eddy::sync_wait(f->keys.purge_expired()) == 1);
        CHECK(eddy::sync_wait(f->keys.purge_expired()) == 0);
        CHECK(call(f->keys, "k1", "other-fp", 10min, "book") == "receipt for book #3"); // new
        CHECK(call(f->keys, "k2", "fp", 1h, "pen") == "receipt for pen #2");            // kept
    }

    SECTION("an expired key that was never purged is a new request") {
        auto f = make();
        (void)call(f->keys, "k1", "fp", 10min, "book");
        f->clock.advance(10min);
        CHECK(call(f->keys, "k1", "fp", 10min, "book") == "receipt for book #2");
    }

    SECTION("bad keys and misuse are eddy::errors") {
        auto f = make();
        CHECK_THROWS_WITH(eddy::sync_wait(f->keys.begin("", "fp", 1h)),
                          Catch::Contains("empty idempotency key"));
        CHECK_THROWS_WITH(eddy::sync_wait(f->keys.begin("k", "fp", 0s)),
                          Catch::Contains("ttl must be positive"));
        CHECK_THROWS_WITH(eddy::sync_wait(f->keys.complete("k", "r")),
                          Catch::Contains("not in progress"));
        CHECK_THROWS_WITH(eddy::sync_wait(f->keys.abandon("k")),
                          Catch::Contains("not in progress"));
        (void)call(f->keys, "k1", "fp", 1h, "book");
        CHECK_THROWS_WITH(eddy::sync_wait(f->keys.complete("k1", "r")),
                          Catch::Contains("not in progress"));
    }
}

} // namespace eddy::test::outbox
