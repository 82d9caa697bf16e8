// Tests of eddy::nats_bus_options: every unusable field is an eddy::error naming it. No server
// needed.
#include <eddy/nats/nats_bus_options.hpp>

#include <catch2/catch.hpp>

#include <chrono> // std::chrono

TEST_CASE("nats_bus_options are validated", "[nats][nats_bus_options]") {
    eddy::nats_bus_options o;
    o.prefix = "a.b";
    REQUIRE_THROWS_WITH(o.validate(), Catch::Contains("may hold only letters, digits and '-'"));
    o.prefix = "";
    REQUIRE_THROWS_AS(o.validate(), eddy::error);
    o = {};
    o.replicas = 0;
    REQUIRE_THROWS_WITH(o.validate(), Catch::Contains("replicas must lie in [1, 5]"));
    o = {};
    o.urls.clear();
    REQUIRE_THROWS_AS(o.validate(), eddy::error);
    o = {};
    o.max_pending_publishes = 0;
    REQUIRE_THROWS_AS(o.validate(), eddy::error);
    o = {};
    o.fetch_wait = std::chrono::milliseconds(0);
    REQUIRE_THROWS_AS(o.validate(), eddy::error);
    REQUIRE_NOTHROW(eddy::nats_bus_options{}.validate());
}
