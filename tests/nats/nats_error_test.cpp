// Tests of eddy::nats_error and the bad-input errors of eddy::nats_bus: an unreachable server,
// a request the servers refuse, unknown topics and groups, header names NATS cannot carry.
// [concurrency]: the bus resumes on a thread pool.
#include <eddy/nats/nats_error.hpp>

#include <catch2/catch.hpp>

#include <string> // std::string

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/nats/nats_bus.hpp>
#include <nats/nats_harness.hpp>

namespace {

using eddy::test::bus::parcel;
using eddy::test::bus::parcel_n;
using eddy::test::nats::nats_harness;
using eddy::test::nats::test_bus;
using eddy::test::nats::test_codec;

eddy::task<void> publish_header(test_bus* bus, std::string name) {
    eddy::headers h;
    h.set(std::move(name), "v");
    std::string key = "k";
    co_await bus->publish(std::string("orders"), std::move(key), parcel_n(1), std::move(h));
}

} // namespace

TEST_CASE("nats_error names the operation, libnats' status text and the JetStream code",
          "[nats][nats_error]") {
    const eddy::nats_error e("reading stream 's'", 26, "Timeout", 10059, "stream not found");
    REQUIRE(std::string(e.what()) ==
            "eddy::nats: reading stream 's': Timeout (stream not found) [JetStream error 10059]");
    REQUIRE(e.status() == 26);
    REQUIRE(e.status_text() == "Timeout");
    REQUIRE(e.js_code() == 10059);
    const eddy::nats_error plain("connecting to x", 1, "Error");
    REQUIRE(std::string(plain.what()) == "eddy::nats: connecting to x: Error");
}

TEST_CASE("nats_bus: no server at the URL is a nats_error naming libnats' status",
          "[nats][nats_error][concurrency]") {
    eddy::thread_pool pool(1);
    eddy::nats_bus_options o;
    o.urls = {"nats://127.0.0.1:1"};
    o.request_timeout = std::chrono::milliseconds(500);
    try {
        test_bus bus(pool, test_codec{}, o);
        FAIL("connected to nats://127.0.0.1:1");
    } catch (const eddy::nats_error& e) {
        REQUIRE(e.status_text() == "No server available for connection");
        REQUIRE(std::string(e.what()) == "eddy::nats: connecting to nats://127.0.0.1:1: No server "
                                         "available for connection");
    }
}

TEST_CASE("nats_bus: what the servers refuse is a nats_error with the JetStream code",
          "[nats][nats_error][concurrency]") {
    eddy::thread_pool pool(1);
    eddy::nats_bus_options o = eddy::test::nats::test_options();
    o.replicas = 5; // more than the 3 servers scripts/test starts
    test_bus bus(pool, test_codec{}, o);
    try {
        bus.create_topic<parcel>("orders");
        FAIL("created a stream with 5 replicas");
    } catch (const eddy::nats_error& e) {
        REQUIRE(e.js_code() != 0);
        REQUIRE_THAT(e.what(), Catch::Contains("creating stream"));
    }
}

TEST_CASE("nats_bus: unknown topics and groups, reserved or malformed header names are errors",
          "[nats][nats_error][concurrency]") {
    nats_harness h;
    test_bus& bus = h.bus();
    bus.create_topic<parcel>("orders");
    REQUIRE_THROWS_WITH(bus.lag("nope", "g"), Catch::Contains("unknown topic 'nope'"));
    REQUIRE_THROWS_WITH(bus.lag("orders", "g"), Catch::Contains("has no consumer group 'g'"));
    REQUIRE_THROWS_WITH(h.run(publish_header(&bus, "Nats-Expected-Stream")),
                        Catch::Contains("header name 'Nats-Expected-Stream'"));
    REQUIRE_THROWS_AS(h.run(publish_header(&bus, "Eddy-Key")), eddy::error);
    REQUIRE_THROWS_AS(h.run(publish_header(&bus, "two words")), eddy::error);
    REQUIRE_THROWS_AS(h.run(publish_header(&bus, "a:b")), eddy::error);
    REQUIRE_THROWS_AS(h.run(bus.reprocess(eddy::dead_letter_id{"orders", 0, 0}, "x")),
                      eddy::error); // not a dead-letter topic
    REQUIRE_THROWS_WITH(h.run(bus.reprocess(eddy::dead_letter_id{"orders.DLQ", 0, 5}, "x")),
                        Catch::Contains("does not exist"));
}
