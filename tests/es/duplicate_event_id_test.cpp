// Tests of eddy::duplicate_event_id: an eddy::error naming the id, the stream and the reason.
#include <eddy/es/duplicate_event_id.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("duplicate_event_id: names the id, the stream and why", "[es][duplicate_event_id]") {
    const eddy::uuid id = *eddy::uuid::parse("01890a5d-ac96-7000-8000-000000000001");
    const eddy::duplicate_event_id d(id, "cart-1",
                                     eddy::duplicate_event_id::reason::different_payload,
                                     "already stored with a different payload");
    const eddy::error& as_error = d;
    REQUIRE(std::string(as_error.what()) ==
            "eddy: event id 01890a5d-ac96-7000-8000-000000000001 appended to stream 'cart-1': "
            "already stored with a different payload");
    REQUIRE(d.event_id() == id);
    REQUIRE(d.stream() == "cart-1");
    REQUIRE(d.why() == eddy::duplicate_event_id::reason::different_payload);
}
