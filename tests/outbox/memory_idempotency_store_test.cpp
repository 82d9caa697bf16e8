// Tests of eddy::memory_idempotency_store and eddy::idempotent_call (Stripe's idempotency
// keys): the idempotency_store conformance suite (a repeat returns the stored response without
// running, another fingerprint is idempotency_key_reused, a failed call frees its key, keys
// expire and are purged, misuse), and two calls racing in virtual time.
#include <eddy/outbox/memory_idempotency_store.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>

#include <outbox/conformance/idempotency_store_suite.hpp>
#include <support/manual_clock.hpp>
#include <support/outbox_world.hpp>

namespace {

using namespace std::chrono_literals;
using store_type = eddy::memory_idempotency_store<std::string>;

struct service {
    eddy::virtual_time_scheduler* vt;
    int runs = 0;
};

eddy::task<std::string> place_order(service* s, std::string item) {
    ++s->runs;
    co_await s->vt->schedule_after(1s);
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

TEST_CASE("a concurrent repeat is told the request is in progress", "[outbox][idempotency]") {
    eddy::virtual_time_scheduler vt;
    auto keys = store_on(vt);
    service s{&vt};
    auto both = eddy::when_all(eddy::idempotent_call(keys, "k1", "fp", 1h, placing{&s, "book"}),
                               eddy::idempotent_call(keys, "k1", "fp", 1h, placing{&s, "book"}));
    CHECK_THROWS_WITH(vt.run(std::move(both)), Catch::Contains("'k1' is still in progress"));
    CHECK(s.runs == 1);
}

namespace {
struct memory_fixture {
    eddy::test::manual_clock clock;
    store_type keys{clock};
};
} // namespace

TEST_CASE("memory_idempotency_store passes the idempotency_store conformance suite",
          "[outbox][idempotency]") {
    eddy::test::outbox::idempotency_store_conformance(
        [] { return std::make_unique<memory_fixture>(); });
}
