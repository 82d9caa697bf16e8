// Tests of eddy::memory_inbox_store and eddy::duplicate_message: a mark commits with the unit's
// other writes; marking a processed message fails the whole unit (nothing of it applied), in
// separate units or twice in one; consumers are independent.
#include <eddy/outbox/memory_inbox_store.hpp>

#include <catch2/catch.hpp>

#include <eddy/core/sync_wait.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/outbox/inbox_store.hpp>

#include <memory>

#include <eddy/es/memory_event_store.hpp>

#include <outbox/conformance/inbox_store_suite.hpp>

static_assert(eddy::inbox_store<eddy::memory_inbox_store>);
static_assert(!eddy::inbox_store<int>);

TEST_CASE("a mark commits with the unit's writes, once", "[outbox][memory_inbox_store]") {
    eddy::memory_storage storage;
    eddy::memory_inbox_store inbox(storage);
    int effects = 0;
    auto first = storage.begin();
    inbox.mark_processed(first, "billing", "m1");
    first.on_commit([&] { ++effects; });
    CHECK_FALSE(eddy::sync_wait(inbox.is_processed("billing", "m1")));
    (void)eddy::sync_wait(storage.commit(std::move(first)));
    CHECK(eddy::sync_wait(inbox.is_processed("billing", "m1")));
    CHECK_FALSE(eddy::sync_wait(inbox.is_processed("shipping", "m1"))); // another consumer

    auto again = storage.begin();
    inbox.mark_processed(again, "billing", "m1");
    again.on_commit([&] { ++effects; });
    try {
        (void)eddy::sync_wait(storage.commit(std::move(again)));
        FAIL("a second mark must fail");
    } catch (const eddy::duplicate_message& e) {
        CHECK(e.consumer() == "billing");
        CHECK(e.message_id() == "m1");
        CHECK(std::string(e.what()) == "eddy: consumer 'billing' already processed message 'm1'");
    }
    CHECK(effects == 1);
    CHECK(inbox.size() == 1);
}

TEST_CASE("the same mark twice in one unit fails it", "[outbox][memory_inbox_store]") {
    eddy::memory_storage storage;
    eddy::memory_inbox_store inbox(storage);
    auto unit = storage.begin();
    inbox.mark_processed(unit, "billing", "m1");
    inbox.mark_processed(unit, "billing", "m1");
    CHECK_THROWS_AS(eddy::sync_wait(storage.commit(std::move(unit))), eddy::duplicate_message);
    CHECK(inbox.size() == 0);
}

TEST_CASE("a unit of another storage is rejected", "[outbox][memory_inbox_store]") {
    eddy::memory_storage a;
    eddy::memory_storage b;
    eddy::memory_inbox_store inbox(a);
    auto unit = b.begin();
    CHECK_THROWS_AS(inbox.mark_processed(unit, "billing", "m1"), eddy::error);
}

namespace {
struct memory_fixture {
    eddy::memory_storage storage;
    eddy::memory_event_store<eddy::test::outbox::order_events> events{storage};
    eddy::memory_inbox_store inbox{storage};
};
} // namespace

TEST_CASE("memory_inbox_store passes the inbox_store conformance suite",
          "[outbox][memory_inbox_store]") {
    eddy::test::outbox::inbox_store_conformance([] { return std::make_unique<memory_fixture>(); });
}
