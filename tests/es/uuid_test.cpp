// Tests of eddy::uuid: text form and parsing (either case, malformed input), version, Unix
// milliseconds of a v7 UUID, nil, ordering.
#include <eddy/es/uuid.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("uuid: text form, parse, nil, order", "[es][uuid]") {
    eddy::uuid nil;
    REQUIRE(nil.is_nil());
    REQUIRE(nil.to_string() == "00000000-0000-0000-0000-000000000000");
    auto id = eddy::uuid::parse("0189A0B1-C2D3-7E4F-8a5b-6c7d8e9f0a1b");
    REQUIRE(id.has_value());
    REQUIRE(id->to_string() == "0189a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b");
    REQUIRE(id->version() == 7);
    REQUIRE(id->unix_ms() == 0x0189a0b1c2d3ULL);
    REQUIRE_FALSE(id->is_nil());
    REQUIRE(eddy::uuid::parse(id->to_string()) == id);
    REQUIRE_FALSE(eddy::uuid::parse("0189a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1").has_value());
    REQUIRE_FALSE(eddy::uuid::parse("0189a0b1xc2d3-7e4f-8a5b-6c7d8e9f0a1b").has_value());
    REQUIRE_FALSE(eddy::uuid::parse("0189a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1g").has_value());
    REQUIRE(nil < *id);
}
