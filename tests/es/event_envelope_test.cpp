// Tests of eddy::event_envelope: defaults, copies and equality.
#include <eddy/es/event_envelope.hpp>

#include <catch2/catch.hpp>

#include <eddy/es/named_event.hpp>

#include <string_view>
#include <variant>

namespace {
struct pinged {
    static constexpr std::string_view event_name = "pinged";
    int n = 0;
    friend bool operator==(const pinged&, const pinged&) = default;
};
using events = std::variant<pinged>;
} // namespace

TEST_CASE("event_envelope: defaults and equality", "[es][event_envelope]") {
    STATIC_REQUIRE(eddy::event_name_v<pinged> == "pinged");
    eddy::event_envelope<events> e;
    REQUIRE(e.event_id.is_nil());
    REQUIRE(e.stream_version == 0);
    REQUIRE(e.global_position == 0);
    REQUIRE(e.schema_version == 1);
    eddy::event_envelope<events> f = e;
    REQUIRE(e == f);
    f.payload = pinged{1};
    REQUIRE_FALSE(e == f);
}
