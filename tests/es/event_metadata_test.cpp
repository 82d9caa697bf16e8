// Tests of eddy::event_metadata: empty by default, designated initialisation, equality
// including headers.
#include <eddy/es/event_metadata.hpp>

#include <catch2/catch.hpp>

TEST_CASE("event_metadata: fields, headers, equality", "[es][event_metadata]") {
    eddy::event_metadata empty;
    REQUIRE(empty.correlation_id.empty());
    REQUIRE(empty.causation_id.empty());
    REQUIRE(empty.tenant.empty());
    REQUIRE(empty.traceparent.empty());
    REQUIRE(empty.headers.empty());

    eddy::event_metadata m;
    m.correlation_id = "c-1";
    m.tenant = "acme";
    m.headers.set("source", "web");
    eddy::event_metadata same = m;
    REQUIRE(m == same);
    same.headers.set("source", "mobile");
    REQUIRE_FALSE(m == same);
    REQUIRE(m.headers.get("source") == std::string_view("web"));
    REQUIRE_FALSE(m == empty);
}
