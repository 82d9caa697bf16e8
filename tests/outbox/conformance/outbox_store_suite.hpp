// tests/outbox/conformance/outbox_store_suite.hpp - the conformance suite of eddy::outbox_store:
// every store (memory, SQLite, later PostgreSQL) runs these checks unchanged on a fresh fixture
// from the caller's factory.
//
//     TEST_CASE("my outbox conforms", "[outbox][my_store]") {
//         eddy::test::outbox::outbox_store_conformance([] { return make_my_fixture(); });
//     }
// A fixture (held by std::unique_ptr) has members `storage` (an eddy::unit_of_work_storage),
// `events` (an event store of order_events on it), `outbox` (an eddy::outbox_store of `notice`
// on it, whose clock is `clock`), `clock` (an eddy::test::manual_clock) and
// `std::vector<eddy::outbox_message<notice>> messages()` (every message, in enqueue order).
#pragma once

#include <catch2/catch.hpp>

#include <chrono>  // std::chrono_literals
#include <string>  // std::string, std::to_string
#include <utility> // std::move
#include <vector>  // std::vector

#include <eddy/core/sync_wait.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/outbox/outbox_message.hpp>
#include <eddy/outbox/outbox_store.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/manual_clock.hpp>
#include <support/outbox_world.hpp>

namespace eddy::test::outbox {

inline std::vector<std::string> names(const std::vector<eddy::outbox_message<notice>>& ms) {
    std::vector<std::string> out;
    for (const auto& m : ms) {
        out.push_back(m.payload.order + "#" + std::to_string(m.payload.n));
    }
    return out;
}

template <class Fixture>
void enqueue_committed(Fixture& f, std::vector<eddy::outbox_message<notice>> ms) {
    auto unit = f.storage.begin();
    f.outbox.enqueue(unit, std::move(ms));
    (void)eddy::sync_wait(f.storage.commit(std::move(unit)));
}

/// The checks, each on a fresh fixture from `make()`.
template <class MakeFixture>
void outbox_store_conformance(MakeFixture make) {
    using namespace std::chrono_literals;
    using strings = std::vector<std::string>;
    using fixture_type = typename decltype(make())::element_type;
    STATIC_REQUIRE(eddy::outbox_store<decltype(fixture_type::outbox)>);

    SECTION("messages appear when their unit commits, with the events, in order") {
        auto f = make();
        f->clock.advance(5s);
        auto unit = f->storage.begin();
        f->events.append(unit, "order-a", eddy::expected_version::no_stream(), {order_placed{10}});
        f->outbox.enqueue(unit, {message("a", 1), message("a", 2)});
        REQUIRE(f->messages().empty()); // not before the commit
        (void)eddy::sync_wait(f->storage.commit(std::move(unit)));
        const auto ms = f->messages();
        REQUIRE(names(ms) == strings{"a#1", "a#2"});
        CHECK(ms[0].sequence < ms[1].sequence);
        CHECK(ms[0].created == at(5s));
        CHECK(ms[0].id.version() == 7);
        CHECK(ms[0].id < ms[1].id);
        CHECK(ms[0].topic == "notices");
        CHECK(ms[0].aggregate_type == "order");
        CHECK(ms[0].aggregate_id == "a");
        CHECK(ms[0].event_type == "notice");
        CHECK(ms[0].status == eddy::outbox_status::pending);
        CHECK(ms[0].attempts == 0);
    }

    SECTION("headers and given ids are kept") {
        auto f = make();
        auto m = message("a", 1);
        m.headers.set("trace", "t-1");
        m.id = *eddy::uuid::parse("01890a5d-ac96-774b-bcce-b302099a8057");
        enqueue_committed(*f, {m});
        const auto ms = f->messages();
        REQUIRE(ms.size() == 1);
        CHECK(ms[0].id == m.id);
        CHECK(ms[0].headers.get("trace") == "t-1");
    }

    SECTION("a unit that fails writes no message") {
        auto f = make();
        auto unit = f->storage.begin();
        f->events.append(unit, "order-a", eddy::expected_version::exact(3), {order_placed{10}});
        f->outbox.enqueue(unit, {message("a", 1)});
        CHECK_THROWS_AS(eddy::sync_wait(f->storage.commit(std::move(unit))),
                        eddy::concurrency_conflict);
        CHECK(f->messages().empty());
    }

    SECTION("claims lease messages in order, one aggregate's in order across relays") {
        auto f = make();
        enqueue_committed(*f, {message("a", 1), message("b", 1), message("a", 2)});
        enqueue_committed(*f, {message("c", 1)});
        CHECK(names(eddy::sync_wait(f->outbox.claim("r1", 1, 10s))) == strings{"a#1"});
        // r2 may not take a#2 while a#1 is leased to r1
        CHECK(names(eddy::sync_wait(f->outbox.claim("r2", 10, 10s))) == strings{"b#1", "c#1"});
        CHECK(eddy::sync_wait(f->outbox.claim("r2", 10, 10s)).empty());
        f->clock.advance(10s); // leases end: r2 takes everything over, in order
        CHECK(names(eddy::sync_wait(f->outbox.claim("r2", 10, 10s))) ==
              strings{"a#1", "b#1", "a#2", "c#1"});
    }

    SECTION("release keeps the order and counts attempts") {
        auto f = make();
        enqueue_committed(*f, {message("a", 1), message("a", 2)});
        const auto claimed = eddy::sync_wait(f->outbox.claim("r1", 10, 10s));
        REQUIRE(claimed.size() == 2);
        CHECK_THROWS_WITH(eddy::sync_wait(f->outbox.release("r2", claimed[0].id, "x")),
                          Catch::Contains("is not leased to relay 'r2'"));
        eddy::sync_wait(f->outbox.release("r1", claimed[0].id, "broker down"));
        eddy::sync_wait(f->outbox.release("r1", claimed[1].id, "behind a#1"));
        const auto again = eddy::sync_wait(f->outbox.claim("r2", 10, 10s));
        CHECK(names(again) == strings{"a#1", "a#2"});
        CHECK(again[0].attempts == 1);
        CHECK(again[0].last_error == "broker down");
    }

    SECTION("published messages leave the pending set; stats and purge") {
        auto f = make();
        f->clock.advance(1s);
        enqueue_committed(*f, {message("a", 1), message("b", 1)});
        f->clock.advance(1s);
        enqueue_committed(*f, {message("c", 1)});
        CHECK(eddy::sync_wait(f->outbox.stats()) == eddy::outbox_stats{3, at(1s), 0});
        const auto claimed = eddy::sync_wait(f->outbox.claim("r1", 2, 10s));
        REQUIRE(claimed.size() == 2);
        eddy::sync_wait(f->outbox.mark_published("r1", {claimed[0].id, claimed[1].id}));
        eddy::sync_wait(f->outbox.mark_published("r1", {claimed[0].id})); // again: no change
        CHECK(eddy::sync_wait(f->outbox.stats()) == eddy::outbox_stats{1, at(2s), 2});
        CHECK(names(eddy::sync_wait(f->outbox.claim("r2", 10, 10s))) == strings{"c#1"});
        CHECK_THROWS_WITH(eddy::sync_wait(f->outbox.mark_published("r1", {eddy::uuid{}})),
                          Catch::Contains("no message"));
        const auto ms = f->messages();
        REQUIRE(ms.size() == 3);
        CHECK(ms[0].status == eddy::outbox_status::published);
        CHECK(ms[2].status == eddy::outbox_status::pending);

        f->clock.advance(30s);
        CHECK(eddy::sync_wait(f->outbox.purge_published(1min)) == 0); // published 30 s ago
        CHECK(eddy::sync_wait(f->outbox.purge_published(20s)) == 2);
        CHECK(names(f->messages()) == strings{"c#1"});
        CHECK(eddy::sync_wait(f->outbox.stats()).published == 2); // survives the purge
    }

    SECTION("a message published by a relay whose lease ended is still marked once") {
        auto f = make();
        enqueue_committed(*f, {message("a", 1)});
        const auto first = eddy::sync_wait(f->outbox.claim("r1", 10, 10s));
        f->clock.advance(11s);
        const auto second = eddy::sync_wait(f->outbox.claim("r2", 10, 10s));
        REQUIRE(first.size() == 1);
        REQUIRE(second.size() == 1);
        eddy::sync_wait(f->outbox.mark_published("r1", {first[0].id}));
        eddy::sync_wait(f->outbox.mark_published("r2", {second[0].id}));
        CHECK(eddy::sync_wait(f->outbox.stats()) ==
              eddy::outbox_stats{0, std::chrono::system_clock::time_point{}, 1});
    }

    if constexpr (requires(decltype(fixture_type::outbox)& o) { o.release_leases("r"); }) {
        SECTION("release_leases ends one relay's leases, not another's") {
            auto f = make();
            enqueue_committed(*f, {message("a", 1), message("b", 1), message("c", 1)});
            REQUIRE(eddy::sync_wait(f->outbox.claim("r1", 2, 1min)).size() == 2);
            REQUIRE(eddy::sync_wait(f->outbox.claim("r2", 1, 1min)).size() == 1);
            CHECK(eddy::sync_wait(f->outbox.release_leases("r1")) == 2);
            const auto again = eddy::sync_wait(f->outbox.claim("r1", 10, 1min));
            CHECK(names(again) == strings{"a#1", "b#1"}); // c#1 stays r2's
            CHECK(again[0].attempts == 0);
        }
    }

    SECTION("bad input is an eddy::error and applies nothing") {
        auto f = make();
        auto unit = f->storage.begin();
        auto no_topic = message("a", 1);
        no_topic.topic.clear();
        CHECK_THROWS_WITH(f->outbox.enqueue(unit, {no_topic}), Catch::Contains("needs a topic"));
        enqueue_committed(*f, {message("a", 1)});
        auto dup = message("a", 2);
        dup.id = f->messages()[0].id;
        auto unit2 = f->storage.begin();
        f->events.append(unit2, "order-b", eddy::expected_version::no_stream(), {order_placed{1}});
        f->outbox.enqueue(unit2, {message("b", 1), dup});
        CHECK_THROWS_WITH(eddy::sync_wait(f->storage.commit(std::move(unit2))),
                          Catch::Contains("is already in the outbox"));
        CHECK(f->messages().size() == 1);
        CHECK(eddy::sync_wait(eddy::to_vector(f->events.read_stream("order-b"))).empty());
        CHECK_THROWS_WITH(eddy::sync_wait(f->outbox.release("r1", eddy::uuid{}, "x")),
                          Catch::Contains("no message"));
    }
}

} // namespace eddy::test::outbox
