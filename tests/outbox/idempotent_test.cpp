// Tests of eddy::idempotent and eddy::message_id_of: a message delivered twice (same message-id
// header) has one effect; without the header the record's position is the id; a handler that
// fails leaves nothing (no mark), so the bus's retry applies it once.
#include <eddy/outbox/idempotent.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/outbox/memory_inbox_store.hpp>

namespace {

using namespace std::chrono_literals;
using bus_type = eddy::event_bus<eddy::virtual_time_scheduler>;

struct ledger {
    int total = 0;
    int calls = 0;
    int fail_first = 0;
};

eddy::task<void> add(ledger* l, int amount, eddy::memory_unit_of_work* unit) {
    ++l->calls;
    if (l->fail_first > 0) {
        --l->fail_first;
        throw std::runtime_error("transient");
    }
    unit->on_commit([l, amount] { l->total += amount; });
    co_return;
}

struct adder {
    ledger* l;
    eddy::task<void> operator()(const eddy::record<int>& r, eddy::memory_unit_of_work& u) const {
        return add(l, r.value, &u);
    }
};

eddy::task<void> publish_then_stop(eddy::virtual_time_scheduler* vt, bus_type* bus,
                                   eddy::subscription* sub) {
    eddy::headers same{{"message-id", "m-1"}};
    co_await bus->publish<int>("payments", "k", 5, same);
    co_await bus->publish<int>("payments", "k", 5, same); // a relay's duplicate
    co_await bus->publish<int>("payments", "k", 7);       // no header: its position is its id
    co_await eddy::sleep_for(*vt, 1min);
    co_await sub->stop();
}

} // namespace

TEST_CASE("a duplicate message has no second effect", "[outbox][idempotent]") {
    eddy::virtual_time_scheduler vt;
    bus_type bus(vt);
    bus.create_topic<int>("payments");
    eddy::memory_storage storage;
    eddy::memory_inbox_store inbox(storage);
    ledger l;
    auto sub = bus.subscribe<int>("payments", "billing",
                                  eddy::idempotent<int>(storage, inbox, "billing", adder{&l}));
    vt.run(publish_then_stop(&vt, &bus, &sub));
    CHECK(l.total == 12);
    CHECK(l.calls == 2); // the duplicate never reached the handler
    CHECK(vt.run(inbox.is_processed("billing", "m-1")));
    CHECK(vt.run(inbox.is_processed("billing", "payments/0/2")));
}

TEST_CASE("a failing handler leaves no mark; the retry applies it once", "[outbox][idempotent]") {
    eddy::virtual_time_scheduler vt;
    bus_type bus(vt);
    bus.create_topic<int>("payments");
    eddy::memory_storage storage;
    eddy::memory_inbox_store inbox(storage);
    ledger l;
    l.fail_first = 2;
    auto sub = bus.subscribe<int>("payments", "billing",
                                  eddy::idempotent<int>(storage, inbox, "billing", adder{&l}),
                                  {.retry = {.initial_interval = 1s, .max_attempts = 5}});
    vt.run(publish_then_stop(&vt, &bus, &sub));
    CHECK(l.total == 12);
    CHECK(l.calls == 4); // two failures, then m-1 once, then the third record
    CHECK(inbox.size() == 2);
}

TEST_CASE("message_id_of prefers the header", "[outbox][idempotent]") {
    eddy::record<int> r{"t", 1, 9, "k", {}, {}, 0};
    CHECK(eddy::message_id_of(r) == "t/1/9");
    r.headers.set("message-id", "abc");
    CHECK(eddy::message_id_of(r) == "abc");
}
