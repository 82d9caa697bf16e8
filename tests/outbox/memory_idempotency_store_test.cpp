// Tests of eddy::memory_idempotency_store and eddy::idempotent_call (Stripe's idempotency
// keys): the first call runs and stores its response, a repeat returns it without running, a
// concurrent repeat gets request_in_progress, another fingerprint idempotency_key_reused, a
// failed call frees its key, keys expire after their ttl (virtual time) and are purged.
#include <eddy/outbox/memory_idempotency_store.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>

#include <support/outbox_world.hpp>

namespace {

using namespace std::chrono_literals;
using store_type = eddy::memory_idempotency_store<std::string>;

struct service {
    eddy::virtual_time_scheduler* vt;
    int runs = 0;
    int fail_next = 0;
};

eddy::task<std::string> place_order(service* s, std::string item) {
    ++s->runs;
    co_await s->vt->schedule_after(1s);
    if (s->fail_next > 0) {
        --s->fail_next;
        throw std::runtime_error("payment gateway down");
    }
    co_return "receipt for " + item + " #" + std::to_string(s->runs);
}

struct placing {
    service* s;
    std::string item;
    eddy::task<std::string> operator()() const { return place_order(s, item); }
};

store_type store_on(eddy::virtual_time_scheduler& vt) {
    return store_type([&vt] { return eddy::test::outbox::at(vt.now().time_since_epoch()); });
}

} // namespace

static_assert(eddy::idempotency_store<store_type>);
static_assert(!eddy::idempotency_store<int>);

TEST_CASE("the first call runs; a repeat returns its response", "[outbox][idempotency]") {
    eddy::virtual_time_scheduler vt;
    auto keys = store_on(vt);
    service s{&vt};
    const auto first = vt.run(eddy::idempotent_call(keys, "k1", "fp", 1h, placing{&s, "book"}));
    const auto again = vt.run(eddy::idempotent_call(keys, "k1", "fp", 1h, placing{&s, "book"}));
    CHECK(first == "receipt for book #1");
    CHECK(again == first);
    CHECK(s.runs == 1);
}

TEST_CASE("a concurrent repeat is told the request is in progress", "[outbox][idempotency]") {
    eddy::virtual_time_scheduler vt;
    auto keys = store_on(vt);
    service s{&vt};
    auto both = eddy::when_all(eddy::idempotent_call(keys, "k1", "fp", 1h, placing{&s, "book"}),
                               eddy::idempotent_call(keys, "k1", "fp", 1h, placing{&s, "book"}));
    CHECK_THROWS_WITH(vt.run(std::move(both)), Catch::Contains("'k1' is still in progress"));
    CHECK(s.runs == 1);
}

TEST_CASE("a key reused with other parameters is an error", "[outbox][idempotency]") {
    eddy::virtual_time_scheduler vt;
    auto keys = store_on(vt);
    service s{&vt};
    (void)vt.run(eddy::idempotent_call(keys, "k1", "fp-book", 1h, placing{&s, "book"}));
    CHECK_THROWS_AS(vt.run(eddy::idempotent_call(keys, "k1", "fp-pen", 1h, placing{&s, "pen"})),
                    eddy::idempotency_key_reused);
    CHECK(s.runs == 1);
}

TEST_CASE("a failed call frees its key", "[outbox][idempotency]") {
    eddy::virtual_time_scheduler vt;
    auto keys = store_on(vt);
    service s{&vt, 0, 1};
    CHECK_THROWS_WITH(vt.run(eddy::idempotent_call(keys, "k1", "fp", 1h, placing{&s, "book"})),
                      "payment gateway down");
    CHECK(keys.size() == 0);
    CHECK(vt.run(eddy::idempotent_call(keys, "k1", "fp", 1h, placing{&s, "book"})) ==
          "receipt for book #2");
}

TEST_CASE("keys expire after their ttl and are purged", "[outbox][idempotency]") {
    eddy::virtual_time_scheduler vt;
    auto keys = store_on(vt);
    service s{&vt};
    (void)vt.run(eddy::idempotent_call(keys, "k1", "fp", 10min, placing{&s, "book"}));
    (void)vt.run(eddy::idempotent_call(keys, "k2", "fp", 1h, placing{&s, "pen"}));
    vt.advance(9min);
    CHECK(vt.run(eddy::idempotent_call(keys, "k1", "fp", 10min, placing{&s, "book"})) ==
          "receipt for book #1");
    vt.advance(2min); // k1: 10 min after its first call
    CHECK(vt.run(keys.purge_expired()) == 1);
    CHECK(keys.size() == 1);
    CHECK(vt.run(eddy::idempotent_call(keys, "k1", "fp", 10min, placing{&s, "book"})) ==
          "receipt for book #3"); // a new request
}

TEST_CASE("bad keys and misuse are eddy::errors", "[outbox][idempotency]") {
    eddy::virtual_time_scheduler vt;
    auto keys = store_on(vt);
    CHECK_THROWS_WITH(vt.run(keys.begin("", "fp", 1h)), Catch::Contains("empty idempotency key"));
    CHECK_THROWS_WITH(vt.run(keys.begin("k", "fp", 0s)), Catch::Contains("ttl must be positive"));
    CHECK_THROWS_WITH(vt.run(keys.complete("k", "r")), Catch::Contains("not in progress"));
    CHECK_THROWS_WITH(vt.run(keys.abandon("k")), Catch::Contains("not in progress"));
}
