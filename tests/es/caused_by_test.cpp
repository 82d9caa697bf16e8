// Tests of eddy::caused_by: correlation and causation propagation (a new conversation starts
// with the incoming event's id; an existing one continues), tenant and traceparent copied,
// headers not.
#include <eddy/es/caused_by.hpp>

#include <catch2/catch.hpp>

#include <string_view>
#include <variant>

#include <eddy/es/named_event.hpp>

namespace {
struct pinged {
    static constexpr std::string_view event_name = "pinged";
    int n = 0;
};
using events = std::variant<pinged>;
} // namespace

TEST_CASE("caused_by: correlation and causation propagate from the incoming event",
          "[es][caused_by]") {
    STATIC_REQUIRE(eddy::event_name_v<pinged> == "pinged");
    eddy::event_envelope<events> first;
    first.event_id = *eddy::uuid::parse("01890a5d-ac96-774b-bcce-b302099a8057");
    first.metadata.tenant = "acme";
    first.metadata.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    first.metadata.headers.set("source", "web");

    // No correlation yet: the incoming event starts the conversation.
    eddy::event_metadata md = eddy::caused_by(first);
    REQUIRE(md.correlation_id == "01890a5d-ac96-774b-bcce-b302099a8057");
    REQUIRE(md.causation_id == "01890a5d-ac96-774b-bcce-b302099a8057");
    REQUIRE(md.tenant == "acme");
    REQUIRE(md.traceparent == first.metadata.traceparent);
    REQUIRE(md.headers.empty());

    // The next hop keeps the correlation and points its causation at the event it handles.
    eddy::event_envelope<events> second;
    second.event_id = *eddy::uuid::parse("01890a5d-ac97-7000-8000-000000000002");
    second.metadata = md;
    eddy::event_metadata next = eddy::caused_by(second);
    REQUIRE(next.correlation_id == "01890a5d-ac96-774b-bcce-b302099a8057");
    REQUIRE(next.causation_id == "01890a5d-ac97-7000-8000-000000000002");
    REQUIRE(next.tenant == "acme");
}
