// Tests of eddy::expected_version: which stream versions each kind accepts, exact(0) is
// no_stream, text forms, equality.
#include <eddy/es/expected_version.hpp>

#include <catch2/catch.hpp>

TEST_CASE("expected_version: accepts", "[es][expected_version]") {
    using ev = eddy::expected_version;
    REQUIRE(ev::any().accepts(0));
    REQUIRE(ev::any().accepts(7));
    REQUIRE(ev::no_stream().accepts(0));
    REQUIRE_FALSE(ev::no_stream().accepts(1));
    REQUIRE_FALSE(ev::stream_exists().accepts(0));
    REQUIRE(ev::stream_exists().accepts(1));
    REQUIRE(ev::exact(3).accepts(3));
    REQUIRE_FALSE(ev::exact(3).accepts(2));
    REQUIRE_FALSE(ev::exact(3).accepts(4));
    REQUIRE(ev::exact(0) == ev::no_stream());
    REQUIRE(ev::exact(3).value() == 3);
    REQUIRE(ev::exact(3).type() == ev::kind::exact);
    REQUIRE_FALSE(ev::exact(3) == ev::exact(4));
    STATIC_REQUIRE(ev::exact(2).accepts(2));
}

TEST_CASE("expected_version: text", "[es][expected_version]") {
    using ev = eddy::expected_version;
    REQUIRE(ev::any().to_string() == "any");
    REQUIRE(ev::no_stream().to_string() == "no stream");
    REQUIRE(ev::stream_exists().to_string() == "stream exists");
    REQUIRE(ev::exact(42).to_string() == "42");
}
