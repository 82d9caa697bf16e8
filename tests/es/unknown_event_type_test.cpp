// Tests of eddy::unknown_event_type: an eddy::error carrying the type name, schema version and
// (once located) stream and position, all named by the message; located() keeps the rest.
#include <eddy/es/unknown_event_type.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

TEST_CASE("unknown_event_type: not located", "[es][unknown_event_type]") {
    STATIC_REQUIRE(std::is_base_of_v<eddy::error, eddy::unknown_event_type>);
    const eddy::unknown_event_type u("coupon_applied", 3);
    REQUIRE(u.type_name() == "coupon_applied");
    REQUIRE(u.schema_version() == 3);
    REQUIRE(u.stream().empty());
    REQUIRE(u.position() == std::nullopt);
    REQUIRE(u.detail().empty());
    REQUIRE(std::string(u.what()) == "eddy: unknown event type 'coupon_applied' schema version 3");

    const eddy::unknown_event_type d("coupon_applied", 3, "written by a newer service");
    REQUIRE(std::string(d.what()) ==
            "eddy: unknown event type 'coupon_applied' schema version 3: written by a newer "
            "service");
}

TEST_CASE("unknown_event_type: located names the stream and position", "[es][unknown_event_type]") {
    const eddy::unknown_event_type u("coupon_applied", 3, "no such alternative");
    const eddy::unknown_event_type at = u.located("cart-7", 18446744073709551615ULL);
    REQUIRE(at.type_name() == "coupon_applied");
    REQUIRE(at.schema_version() == 3);
    REQUIRE(at.detail() == "no such alternative");
    REQUIRE(at.stream() == "cart-7");
    REQUIRE(at.position() == std::optional<std::uint64_t>(18446744073709551615ULL));
    REQUIRE(std::string(at.what()) ==
            "eddy: unknown event type 'coupon_applied' schema version 3 (stream 'cart-7', "
            "position 18446744073709551615): no such alternative");
    // The original is unchanged; catching as eddy::error keeps the message.
    REQUIRE(u.position() == std::nullopt);
    REQUIRE_THROWS_WITH(throw at, "eddy: unknown event type 'coupon_applied' schema version 3 "
                                  "(stream 'cart-7', position 18446744073709551615): no such "
                                  "alternative");
    REQUIRE_THROWS_AS(throw at, eddy::error);
}
