// Tests of eddy::decode_error: an eddy::error naming the event's type name and schema version
// (or "a value"), the place once located, and the underlying reason.
#include <eddy/es/decode_error.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

TEST_CASE("decode_error: an event's payload", "[es][decode_error]") {
    STATIC_REQUIRE(std::is_base_of_v<eddy::error, eddy::decode_error>);
    const eddy::decode_error d("order_placed", 2, "key 'customer' not found");
    REQUIRE(d.type_name() == "order_placed");
    REQUIRE(d.schema_version() == 2);
    REQUIRE(d.reason() == "key 'customer' not found");
    REQUIRE(d.stream().empty());
    REQUIRE(d.position() == std::nullopt);
    REQUIRE(std::string(d.what()) ==
            "eddy: cannot decode event 'order_placed' schema version 2: key 'customer' not found");

    const eddy::decode_error at = d.located("order-1", 41);
    REQUIRE(at.type_name() == "order_placed");
    REQUIRE(at.schema_version() == 2);
    REQUIRE(at.reason() == "key 'customer' not found");
    REQUIRE(at.stream() == "order-1");
    REQUIRE(at.position() == std::optional<std::uint64_t>(41));
    REQUIRE(std::string(at.what()) == "eddy: cannot decode event 'order_placed' schema version 2 "
                                      "(stream 'order-1', position 41): key 'customer' not found");
    REQUIRE(d.position() == std::nullopt);
    REQUIRE_THROWS_AS(throw at, eddy::error);
}

TEST_CASE("decode_error: a value", "[es][decode_error]") {
    const eddy::decode_error d("unexpected end of input");
    REQUIRE(d.type_name().empty());
    REQUIRE(d.schema_version() == 0);
    REQUIRE(d.reason() == "unexpected end of input");
    REQUIRE(std::string(d.what()) == "eddy: cannot decode a value: unexpected end of input");
    REQUIRE(std::string(d.located("order-1", 7).what()) ==
            "eddy: cannot decode a value (stream 'order-1', position 7): unexpected end of input");
}
