// The outbox relay over eddy::nats_bus: the relay sets each message's `message-id` header, the
// bus makes it the Nats-Msg-Id, so a relay that dies between publishing and marking publishes
// again after its restart and the stream still holds each message once. [concurrency]: the
// relay and the bus run on a thread pool, acknowledgements arrive on libnats' threads.
#include <eddy/nats/nats_bus.hpp>

#include <catch2/catch.hpp>

#include <chrono>    // std::chrono
#include <set>       // std::set
#include <stdexcept> // std::runtime_error
#include <string>    // std::string
#include <vector>    // std::vector

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/outbox/memory_outbox_store.hpp>
#include <eddy/outbox/outbox_relay.hpp>
#include <nats/nats_harness.hpp>

namespace {

using eddy::test::bus::parcel;
using eddy::test::bus::parcel_n;
using eddy::test::nats::nats_harness;
using eddy::test::nats::test_bus;
using inner_store = eddy::memory_outbox_store<parcel>;

// An outbox store whose first mark_published fails: the relay dies after publishing, before
// marking (the messages stay leased to it, as after a crash).
struct crash_before_mark {
    using payload_type = parcel;
    using unit_type = eddy::memory_unit_of_work;

    inner_store* inner;
    bool crashed = false;

    void enqueue(unit_type& unit, std::vector<eddy::outbox_message<parcel>> messages) {
        inner->enqueue(unit, std::move(messages));
    }
    eddy::task<std::vector<eddy::outbox_message<parcel>>>
    claim(std::string relay, std::size_t max, std::chrono::steady_clock::duration lease) {
        return inner->claim(std::move(relay), max, lease);
    }
    eddy::task<void> mark_published(std::string relay, std::vector<eddy::uuid> ids) {
        return mark(this, std::move(relay), std::move(ids));
    }
    eddy::task<void> release(std::string relay, eddy::uuid id, std::string error) {
        return inner->release(std::move(relay), id, std::move(error));
    }
    eddy::task<eddy::outbox_stats> stats() { return inner->stats(); }
    eddy::task<std::size_t> purge_published(std::chrono::steady_clock::duration age) {
        return inner->purge_published(age);
    }

    static eddy::task<void> mark(crash_before_mark* self, std::string relay,
                                 std::vector<eddy::uuid> ids) {
        if (!self->crashed) {
            self->crashed = true;
            throw std::runtime_error("the relay process died before marking");
        }
        co_await self->inner->mark_published(std::move(relay), std::move(ids));
    }
};

eddy::outbox_message<parcel> message(std::string aggregate, int n) {
    eddy::outbox_message<parcel> m;
    m.topic = "orders";
    m.aggregate_type = "order";
    m.aggregate_id = std::move(aggregate);
    m.event_type = "parcel";
    m.payload = parcel_n(n);
    return m;
}

} // namespace

TEST_CASE("nats_bus: a relay that dies between publish and mark duplicates nothing downstream",
          "[nats][outbox][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders", {.partitions = 2});
    eddy::memory_storage storage;
    inner_store outbox(storage);
    {
        auto unit = storage.begin();
        outbox.enqueue(unit, {message("a", 0), message("b", 1), message("a", 2)});
        (void)h.run(storage.commit(std::move(unit)));
    }
    crash_before_mark store{&outbox};
    {
        eddy::outbox_relay relay(store, bus, h.pool, {.relay_id = "r1"});
        REQUIRE_THROWS_WITH(h.run(relay.run_once()), "the relay process died before marking");
    }
    // What it published is in the stream.
    eddy::stream<eddy::record<parcel>> probe = bus.consume<parcel>("orders", "probe", {});
    const std::vector<std::uint64_t> before = bus.lag("orders", "probe");
    REQUIRE(before[0] + before[1] == 3);
    // The relay restarts under its id: its leases end, the three messages are published again.
    REQUIRE(h.run(outbox.release_leases("r1")) == 3);
    eddy::outbox_relay again(store, bus, h.pool, {.relay_id = "r1"});
    REQUIRE(h.run(again.run_once()) == 3);
    REQUIRE(h.run(outbox.stats()).pending == 0);
    // Downstream: three records, not six.
    eddy::stream<eddy::record<parcel>> s = bus.consume<parcel>("orders", "billing", {});
    const std::vector<std::uint64_t> lag = bus.lag("orders", "billing");
    REQUIRE(lag[0] + lag[1] == 3);
    REQUIRE(bus.lag("orders", "probe") == before);
    const std::vector<eddy::record<parcel>> got = h.run(eddy::test::bus::pull_n(&s, 3));
    std::set<std::string> ids;
    std::set<std::string> expected;
    for (const auto& m : outbox.messages()) {
        expected.insert(m.id.to_string());
    }
    std::vector<int> of_a;
    for (const eddy::record<parcel>& r : got) {
        ids.insert(std::string(r.headers.get(eddy::message_id_header).value_or("")));
        if (r.key == "a") {
            of_a.push_back(r.value.n);
        }
    }
    REQUIRE(ids == expected);
    REQUIRE(of_a == std::vector<int>{0, 2}); // one aggregate's messages in enqueue order
}
