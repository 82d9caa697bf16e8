// Tests of eddy::nats_bus's idempotent publish: a `message-id` header (the outbox relay's) or a
// producer_sequence becomes the record's Nats-Msg-Id, and JetStream stores a publish repeated
// within the duplicate window once, yielding where the original landed. [concurrency]: the bus
// completes publishes on libnats' threads and resumes on a thread pool.
#include <eddy/nats/nats_bus.hpp>

#include <catch2/catch.hpp>

#include <string> // std::string
#include <vector> // std::vector

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/bus/producer_sequence.hpp>
#include <nats/nats_harness.hpp>

namespace {

using eddy::publish_result;
using eddy::test::bus::parcel;
using eddy::test::bus::parcel_n;
using eddy::test::nats::nats_harness;
using eddy::test::nats::test_bus;

eddy::task<publish_result> publish_id(test_bus* bus, std::string id, int n) {
    eddy::headers h;
    h.set("message-id", std::move(id));
    std::string key = "k";
    co_return co_await bus->publish(std::string("orders"), std::move(key), parcel_n(n),
                                    std::move(h));
}

eddy::task<publish_result> publish_seq(test_bus* bus, std::uint64_t seq, int n) {
    eddy::producer_sequence s{"relay-1", seq};
    eddy::headers none;
    std::string key = "k";
    co_return co_await bus->publish(std::string("orders"), std::move(key), parcel_n(n),
                                    std::move(none), std::move(s));
}

} // namespace

TEST_CASE("nats_bus: a repeated message-id is stored once and yields the original offset",
          "[nats][idempotent][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders", {.partitions = 2});
    const std::size_t p = bus.partition_for("orders", "k");
    const publish_result first = h.run(publish_id(&bus, "m-1", 1));
    const publish_result again = h.run(publish_id(&bus, "m-1", 1)); // a relay's retry
    const publish_result other = h.run(publish_id(&bus, "m-2", 2));
    REQUIRE(first == publish_result{p, 0});
    REQUIRE(again == first);
    REQUIRE(other == publish_result{p, 1});
    eddy::stream<eddy::record<parcel>> s = bus.consume<parcel>("orders", "g", {});
    std::vector<std::uint64_t> expected_lag(2, 0);
    expected_lag[p] = 2;
    REQUIRE(bus.lag("orders", "g") == expected_lag);
    const auto got = h.run(eddy::test::bus::pull_n(&s, 2));
    REQUIRE(got.size() == 2);
    REQUIRE(got[0].value == parcel_n(1));
    REQUIRE(got[1].value == parcel_n(2));
    REQUIRE(got[0].headers == eddy::headers{{"message-id", "m-1"}}); // no Nats-Msg-Id
}

TEST_CASE("nats_bus: a publish retried with the same producer_sequence lands once",
          "[nats][idempotent][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders");
    const publish_result a = h.run(publish_seq(&bus, 1, 1));
    const publish_result a_again = h.run(publish_seq(&bus, 1, 1));
    const publish_result b = h.run(publish_seq(&bus, 2, 2));
    REQUIRE(a == publish_result{0, 0});
    REQUIRE(a_again == a);
    REQUIRE(b == publish_result{0, 1});
    eddy::stream<eddy::record<parcel>> s = bus.consume<parcel>("orders", "g", {});
    REQUIRE(bus.lag("orders", "g") == std::vector<std::uint64_t>{2});
}
