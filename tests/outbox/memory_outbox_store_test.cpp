// Tests of eddy::memory_outbox_store: messages appear only when their unit commits (with the
// events they announce, or not at all), in order, with ids and times; claims respect leases and
// per-aggregate order across relays; release keeps the order and counts attempts; publish
// marks, stats, retention purge, enqueue notifications and bad input.
#include <eddy/outbox/memory_outbox_store.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/outbox/outbox_store.hpp>

#include <support/outbox_world.hpp>

namespace {

using namespace std::chrono_literals;
using namespace eddy::test::outbox;
using strings = std::vector<std::string>;
using store_type = eddy::memory_outbox_store<notice>;

strings names(const std::vector<eddy::outbox_message<notice>>& ms) {
    strings out;
    for (const auto& m : ms) {
        out.push_back(m.payload.order + "#" + std::to_string(m.payload.n));
    }
    return out;
}

void commit(eddy::virtual_time_scheduler& vt, eddy::memory_storage& storage, store_type& outbox,
            std::vector<eddy::outbox_message<notice>> ms) {
    auto unit = storage.begin();
    outbox.enqueue(unit, std::move(ms));
    (void)vt.run(storage.commit(std::move(unit)));
}

} // namespace

static_assert(eddy::outbox_store<store_type>);

TEST_CASE("messages appear when their unit commits, with the events, in order",
          "[outbox][memory_outbox_store]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    eddy::memory_event_store<order_events> events(storage);
    store_type outbox(storage);
    vt.advance(5s);
    auto unit = storage.begin();
    events.append(unit, "order-a", eddy::expected_version::no_stream(), {order_placed{10}});
    outbox.enqueue(unit, {message("a", 1), message("a", 2)});
    CHECK(outbox.messages().empty()); // not before the commit
    (void)vt.run(storage.commit(std::move(unit)));
    const auto ms = outbox.messages();
    CHECK(names(ms) == strings{"a#1", "a#2"});
    CHECK(ms[0].sequence == 1);
    CHECK(ms[1].sequence == 2);
    CHECK(ms[0].created == at(5s));
    CHECK(ms[0].id.version() == 7);
    CHECK(ms[0].id < ms[1].id);
    CHECK(ms[0].status == eddy::outbox_status::pending);
}

TEST_CASE("a unit that fails writes no message", "[outbox][memory_outbox_store]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    eddy::memory_event_store<order_events> events(storage);
    store_type outbox(storage);
    auto unit = storage.begin();
    events.append(unit, "order-a", eddy::expected_version::exact(3), {order_placed{10}});
    outbox.enqueue(unit, {message("a", 1)});
    CHECK_THROWS_AS(vt.run(storage.commit(std::move(unit))), eddy::concurrency_conflict);
    CHECK(outbox.messages().empty());
}

TEST_CASE("claims lease messages in order, one aggregate's in order across relays",
          "[outbox][memory_outbox_store]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    commit(vt, storage, outbox, {message("a", 1), message("b", 1), message("a", 2)});
    commit(vt, storage, outbox, {message("c", 1)});

    CHECK(names(vt.run(outbox.claim("r1", 1, 10s))) == strings{"a#1"});
    // r2 may not take a#2 while a#1 is leased to r1
    CHECK(names(vt.run(outbox.claim("r2", 10, 10s))) == strings{"b#1", "c#1"});
    CHECK(vt.run(outbox.claim("r2", 10, 10s)).empty()); // everything else is leased or blocked
    vt.advance(10s); // leases end: r2 takes over a#1 and, behind it, a#2 and b#1, c#1
    CHECK(names(vt.run(outbox.claim("r2", 10, 10s))) == strings{"a#1", "b#1", "a#2", "c#1"});
}

TEST_CASE("release keeps the order and counts attempts", "[outbox][memory_outbox_store]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    commit(vt, storage, outbox, {message("a", 1), message("a", 2)});
    const auto claimed = vt.run(outbox.claim("r1", 10, 10s));
    REQUIRE(claimed.size() == 2);
    CHECK_THROWS_WITH(vt.run(outbox.release("r2", claimed[0].id, "x")),
                      Catch::Contains("is not leased to relay 'r2'"));
    vt.run(outbox.release("r1", claimed[0].id, "broker down"));
    vt.run(outbox.release("r1", claimed[1].id, "behind a#1"));
    const auto again = vt.run(outbox.claim("r2", 10, 10s));
    CHECK(names(again) == strings{"a#1", "a#2"});
    CHECK(again[0].attempts == 1);
    CHECK(again[0].last_error == "broker down");
}

TEST_CASE("published messages leave the pending set; stats and purge",
          "[outbox][memory_outbox_store]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    vt.advance(1s);
    commit(vt, storage, outbox, {message("a", 1), message("b", 1)});
    vt.advance(1s);
    commit(vt, storage, outbox, {message("c", 1)});
    CHECK(vt.run(outbox.stats()) == eddy::outbox_stats{3, at(1s), 0});
    const auto claimed = vt.run(outbox.claim("r1", 2, 10s));
    vt.run(outbox.mark_published("r1", {claimed[0].id, claimed[1].id}));
    vt.run(outbox.mark_published("r1", {claimed[0].id})); // again: nothing changes
    CHECK(vt.run(outbox.stats()) == eddy::outbox_stats{1, at(2s), 2});
    CHECK(vt.run(outbox.claim("r2", 10, 10s)).size() == 1); // only c#1
    CHECK_THROWS_WITH(vt.run(outbox.mark_published("r1", {eddy::uuid{}})),
                      Catch::Contains("no message"));

    vt.advance(30s);
    CHECK(vt.run(outbox.purge_published(1min)) == 0); // published 30 s ago
    CHECK(vt.run(outbox.purge_published(20s)) == 2);
    CHECK(names(outbox.messages()) == strings{"c#1"});
    CHECK(vt.run(outbox.stats()).published == 2); // the count survives the purge
}

TEST_CASE("enqueue listeners run after each commit until destroyed",
          "[outbox][memory_outbox_store]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    int calls = 0;
    {
        auto listener = outbox.on_enqueue([&] { ++calls; });
        commit(vt, storage, outbox, {message("a", 1)});
        CHECK(calls == 1);
        (void)vt.run(storage.commit(storage.begin())); // no message: no call
        CHECK(calls == 1);
    }
    commit(vt, storage, outbox, {message("a", 2)});
    CHECK(calls == 1);
}

TEST_CASE("bad input is an eddy::error and applies nothing", "[outbox][memory_outbox_store]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    auto unit = storage.begin();
    auto no_topic = message("a", 1);
    no_topic.topic.clear();
    CHECK_THROWS_WITH(outbox.enqueue(unit, {no_topic}), Catch::Contains("needs a topic"));
    commit(vt, storage, outbox, {message("a", 1)});
    auto dup = message("a", 2);
    dup.id = outbox.messages()[0].id;
    auto unit2 = storage.begin();
    outbox.enqueue(unit2, {message("b", 1), dup});
    CHECK_THROWS_WITH(vt.run(storage.commit(std::move(unit2))),
                      Catch::Contains("is already in the outbox"));
    CHECK(outbox.messages().size() == 1);
    CHECK_THROWS_WITH(outbox.on_enqueue({}), Catch::Contains("empty function"));
}
