// Tests of eddy::memory_outbox_store: the outbox_store conformance suite (messages appear only
// when their unit commits, in order; claims respect leases and per-aggregate order across
// relays; release, publish marks, stats, retention purge, bad input), and its enqueue
// notifications.
#include <eddy/outbox/memory_outbox_store.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include <eddy/core/sync_wait.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/outbox/outbox_store.hpp>

#include <outbox/conformance/outbox_store_suite.hpp>
#include <support/manual_clock.hpp>
#include <support/outbox_world.hpp>

namespace {

using namespace eddy::test::outbox;
using store_type = eddy::memory_outbox_store<notice>;

struct memory_fixture {
    eddy::test::manual_clock clock;
    eddy::memory_storage storage{clock};
    eddy::memory_event_store<order_events> events{storage};
    store_type outbox{storage};
    std::vector<eddy::outbox_message<notice>> messages() const { return outbox.messages(); }
};

} // namespace

static_assert(eddy::outbox_store<store_type>);

TEST_CASE("memory_outbox_store passes the outbox_store conformance suite",
          "[outbox][memory_outbox_store]") {
    outbox_store_conformance([] { return std::make_unique<memory_fixture>(); });
}

TEST_CASE("enqueue listeners run after each commit that enqueued, until destroyed",
          "[outbox][memory_outbox_store]") {
    memory_fixture f;
    int calls = 0;
    {
        auto listener = f.outbox.on_enqueue([&] { ++calls; });
        enqueue_committed(f, {message("a", 1)});
        CHECK(calls == 1);
        (void)eddy::sync_wait(f.storage.commit(f.storage.begin())); // no message: no call
        CHECK(calls == 1);
    }
    enqueue_committed(f, {message("a", 2)});
    CHECK(calls == 1);
    CHECK_THROWS_WITH(f.outbox.on_enqueue({}), Catch::Contains("empty function"));
}
