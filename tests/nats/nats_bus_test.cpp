// Tests of eddy::nats_bus against the message_bus conformance suite (the same checks the
// in-process bus passes), on the NATS JetStream cluster of EDDY_NATS_URL. [concurrency]: the
// bus runs handlers on a thread pool and fetches on threads of its own.
#include <eddy/nats/nats_bus.hpp>

#include <catch2/catch.hpp>

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/bus/message_bus.hpp>
#include <eddy/core/thread_pool.hpp>
#include <nats/nats_harness.hpp>

namespace {

using eddy::test::nats::nats_harness;
using eddy::test::nats::test_bus;

} // namespace

TEST_CASE("nats_bus models message_bus but not transactional_bus", "[nats][nats_bus]") {
    STATIC_REQUIRE(eddy::message_bus<test_bus>);
    STATIC_REQUIRE(eddy::detail::check_message_bus<test_bus>());
    STATIC_REQUIRE_FALSE(eddy::transactional_bus<test_bus>);
}

TEST_CASE("nats_bus passes the message_bus conformance suite",
          "[nats][nats_bus][conformance][concurrency]") {
    eddy::test::bus::message_bus_conformance<nats_harness>();
}
