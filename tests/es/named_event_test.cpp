// Tests of eddy::named_event: the concept, names and schema versions (default 1), the
// event_variant concept, the name and version of a variant's current alternative.
#include <eddy/es/named_event.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace {
struct order_placed {
    static constexpr std::string_view event_name = "order_placed";
};
struct order_shipped {
    static constexpr std::string_view event_name = "order_shipped";
    static constexpr std::uint32_t schema_version = 3;
};
struct anonymous_event {
    int x = 0;
};
} // namespace

TEST_CASE("named_event: names and schema versions", "[es][named_event]") {
    STATIC_REQUIRE(eddy::named_event<order_placed>);
    STATIC_REQUIRE_FALSE(eddy::named_event<anonymous_event>);
    STATIC_REQUIRE_FALSE(eddy::named_event<int>);
    STATIC_REQUIRE(eddy::event_name_v<order_placed> == "order_placed");
    STATIC_REQUIRE(eddy::event_schema_version_v<order_placed> == 1);
    STATIC_REQUIRE(eddy::event_schema_version_v<order_shipped> == 3);
}

TEST_CASE("named_event: variants of named events", "[es][named_event]") {
    using events = std::variant<order_placed, order_shipped>;
    STATIC_REQUIRE(eddy::event_variant<events>);
    STATIC_REQUIRE_FALSE(eddy::event_variant<std::variant<order_placed, anonymous_event>>);
    STATIC_REQUIRE_FALSE(eddy::event_variant<order_placed>);
    events e = order_placed{};
    REQUIRE(eddy::event_name_of(e) == "order_placed");
    REQUIRE(eddy::event_schema_version_of(e) == 1);
    e = order_shipped{};
    REQUIRE(eddy::event_name_of(e) == "order_shipped");
    REQUIRE(eddy::event_schema_version_of(e) == 3);
    STATIC_REQUIRE(eddy::event_name_of(events{order_shipped{}}) == "order_shipped");
}
