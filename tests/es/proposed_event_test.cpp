// Tests of eddy::proposed_event: implicit from a payload (a batch is a braced list of events),
// with optional metadata and id.
#include <eddy/es/proposed_event.hpp>

#include <catch2/catch.hpp>

#include <string_view>
#include <variant>
#include <vector>

#include <eddy/es/named_event.hpp>

namespace {
struct pinged {
    static constexpr std::string_view event_name = "pinged";
    int n = 0;
    friend bool operator==(const pinged&, const pinged&) = default;
};
using events = std::variant<pinged>;
} // namespace

TEST_CASE("proposed_event: implicit from a payload, with optional metadata and id",
          "[es][proposed_event]") {
    STATIC_REQUIRE(eddy::event_name_v<pinged> == "pinged");
    std::vector<eddy::proposed_event<events>> batch{pinged{1}, pinged{2}};
    REQUIRE(std::get<pinged>(batch[1].payload).n == 2);
    REQUIRE(batch[0].event_id.is_nil());
    REQUIRE(batch[0] == eddy::proposed_event<events>(pinged{1}));
    REQUIRE_FALSE(batch[0] == batch[1]);
    eddy::event_metadata md;
    md.tenant = "t";
    const eddy::uuid id = *eddy::uuid::parse("01890a5d-ac96-774b-bcce-b302099a8057");
    eddy::proposed_event<events> p(pinged{3}, md, id);
    REQUIRE(p.metadata.tenant == "t");
    REQUIRE(p.event_id == id);
}
