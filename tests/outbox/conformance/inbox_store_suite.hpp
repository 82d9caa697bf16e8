// tests/outbox/conformance/inbox_store_suite.hpp - the conformance suite of eddy::inbox_store:
// every store runs these checks unchanged on a fresh fixture from the caller's factory.
// A fixture (held by std::unique_ptr) has members `storage` (an eddy::unit_of_work_storage),
// `events` (an event store of order_events on it) and `inbox` (an eddy::inbox_store on it).
#pragma once

#include <catch2/catch.hpp>

#include <string>  // std::string
#include <utility> // std::move

#include <eddy/core/sync_wait.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/outbox/duplicate_message.hpp>
#include <eddy/outbox/inbox_store.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/outbox_world.hpp>

namespace eddy::test::outbox {

/// The checks, each on a fresh fixture from `make()`.
template <class MakeFixture>
void inbox_store_conformance(MakeFixture make) {
    using fixture_type = typename decltype(make())::element_type;
    STATIC_REQUIRE(eddy::inbox_store<decltype(fixture_type::inbox)>);

    SECTION("a mark commits with the unit's writes, once per consumer") {
        auto f = make();
        auto first = f->storage.begin();
        f->inbox.mark_processed(first, "billing", "m1");
        f->events.append(first, "order-a", eddy::expected_version::no_stream(), {order_placed{1}});
        CHECK_FALSE(eddy::sync_wait(f->inbox.is_processed("billing", "m1")));
        (void)eddy::sync_wait(f->storage.commit(std::move(first)));
        CHECK(eddy::sync_wait(f->inbox.is_processed("billing", "m1")));
        CHECK_FALSE(eddy::sync_wait(f->inbox.is_processed("shipping", "m1"))); // another consumer
        CHECK_FALSE(eddy::sync_wait(f->inbox.is_processed("billing", "m2")));

        auto again = f->storage.begin();
        f->inbox.mark_processed(again, "billing", "m1");
        f->events.append(again, "order-b", eddy::expected_version::no_stream(), {order_placed{2}});
        try {
            (void)eddy::sync_wait(f->storage.commit(std::move(again)));
            FAIL("a second mark must fail");
        } catch (const eddy::duplicate_message& e) {
            CHECK(e.consumer() == "billing");
            CHECK(e.message_id() == "m1");
        }
        // nothing of the failed unit was written
        CHECK(eddy::sync_wait(eddy::to_vector(f->events.read_stream("order-b"))).empty());

        auto other = f->storage.begin();
        f->inbox.mark_processed(other, "shipping", "m1");
        (void)eddy::sync_wait(f->storage.commit(std::move(other)));
        CHECK(eddy::sync_wait(f->inbox.is_processed("shipping", "m1")));
    }

    SECTION("the same mark twice in one unit fails it") {
        auto f = make();
        auto unit = f->storage.begin();
        f->inbox.mark_processed(unit, "billing", "m1");
        f->inbox.mark_processed(unit, "billing", "m1");
        CHECK_THROWS_AS(eddy::sync_wait(f->storage.commit(std::move(unit))),
                        eddy::duplicate_message);
        CHECK_FALSE(eddy::sync_wait(f->inbox.is_processed("billing", "m1")));
    }
}

} // namespace eddy::test::outbox
