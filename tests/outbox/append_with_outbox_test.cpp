// Tests of eddy::append_with_outbox: an aggregate's new events and their outbox messages
// commit together (mapped per event, optional ones skipped, aggregate id filled in), or, on a
// conflict, neither; bad input.
#include <eddy/outbox/append_with_outbox.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <eddy/core/sync_wait.hpp>
#include <eddy/es/aggregate.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/outbox/memory_outbox_store.hpp>
#include <eddy/stream/to_vector.hpp>

namespace {

struct opened {
    static constexpr std::string_view event_name = "opened";
};
struct noted {
    static constexpr std::string_view event_name = "noted";
    std::string text;
};
using ticket_events = std::variant<opened, noted>;

struct ticket : eddy::aggregate<ticket, ticket_events> {
    int notes = 0;
    void open() { raise(opened{}); }
    void note(std::string text) { raise(noted{std::move(text)}); }
    void apply(const opened&) {}
    void apply(const noted&) { ++notes; }
};

// The per-aggregate mapping: "opened" is announced, notes are private.
std::optional<eddy::outbox_message<std::string>> announce(const ticket_events& e, const ticket& t) {
    if (!std::holds_alternative<opened>(e)) {
        return std::nullopt;
    }
    eddy::outbox_message<std::string> m;
    m.topic = "tickets";
    m.aggregate_type = "ticket";
    m.event_type = "opened";
    m.payload = "opened " + t.id();
    return m;
}

} // namespace

TEST_CASE("events and their messages commit together", "[outbox][append_with_outbox]") {
    eddy::memory_storage storage;
    eddy::memory_event_store<ticket_events> events(storage);
    eddy::memory_outbox_store<std::string> outbox(storage);
    ticket t;
    t.set_id("t-1");
    t.open();
    t.note("hi");
    auto unit = storage.begin();
    const std::size_t slot = eddy::append_with_outbox(unit, events, t, outbox, announce);
    const auto result = eddy::sync_wait(storage.commit(std::move(unit)));
    t.mark_committed();
    CHECK(result.appends[slot].stream_version == 2);
    CHECK(eddy::sync_wait(eddy::to_vector(events.read_stream("t-1"))).size() == 2);
    const auto ms = outbox.messages();
    REQUIRE(ms.size() == 1);
    CHECK(ms[0].payload == "opened t-1");
    CHECK(ms[0].aggregate_id == "t-1"); // filled in

    // the next change expects version 2
    t.note("again");
    auto next = storage.begin();
    eddy::append_with_outbox(next, events, t, outbox, announce);
    (void)eddy::sync_wait(storage.commit(std::move(next)));
    CHECK(eddy::sync_wait(eddy::to_vector(events.read_stream("t-1"))).size() == 3);
    CHECK(outbox.messages().size() == 1); // notes announce nothing
}

TEST_CASE("a conflict writes neither events nor messages", "[outbox][append_with_outbox]") {
    eddy::memory_storage storage;
    eddy::memory_event_store<ticket_events> events(storage);
    eddy::memory_outbox_store<std::string> outbox(storage);
    (void)eddy::sync_wait(events.append("t-1", eddy::expected_version::any(), {opened{}}));
    ticket stale; // thinks the ticket is new
    stale.set_id("t-1");
    stale.open();
    auto unit = storage.begin();
    eddy::append_with_outbox(unit, events, stale, outbox, announce);
    CHECK_THROWS_AS(eddy::sync_wait(storage.commit(std::move(unit))), eddy::concurrency_conflict);
    CHECK(outbox.messages().empty());
    CHECK(eddy::sync_wait(eddy::to_vector(events.read_stream("t-1"))).size() == 1);

    ticket anonymous;
    anonymous.open();
    auto other = storage.begin();
    CHECK_THROWS_WITH(eddy::append_with_outbox(other, events, anonymous, outbox, announce),
                      Catch::Contains("has no id"));
}
