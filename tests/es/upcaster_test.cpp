// Tests of eddy::upcaster: a v1 -> v2 -> v3 chain applied in order, envelopes keep their
// identity and get the current name and schema version, current events pass unchanged, an
// event no chain reaches a current type for is a clear eddy::error, duplicate registration,
// widen, and reading a memory store of old events through upcast(stream).
#include <eddy/es/upcaster.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <eddy/core/sync_wait.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/stream/to_vector.hpp>

namespace {

// v1: the name only. v2: split into first and last name. v3: adds the currency.
struct customer_registered_v1 {
    static constexpr std::string_view event_name = "customer_registered";
    std::string name;
};
struct customer_registered_v2 {
    static constexpr std::string_view event_name = "customer_registered";
    static constexpr std::uint32_t schema_version = 2;
    std::string first;
    std::string last;
};
struct customer_registered {
    static constexpr std::string_view event_name = "customer_registered";
    static constexpr std::uint32_t schema_version = 3;
    std::string first;
    std::string last;
    std::string currency;
    friend bool operator==(const customer_registered&, const customer_registered&) = default;
};
struct customer_renamed {
    static constexpr std::string_view event_name = "customer_renamed";
    std::string first;
    friend bool operator==(const customer_renamed&, const customer_renamed&) = default;
};
struct legacy_ping { // stored long ago; no current form
    static constexpr std::string_view event_name = "legacy_ping";
};

using stored_events = std::variant<customer_registered_v1, customer_registered_v2,
                                   customer_registered, customer_renamed, legacy_ping>;
using current_events = std::variant<customer_registered, customer_renamed>;

std::vector<std::string> steps_taken; // which upcasters ran, in order (single-threaded test)

eddy::upcaster<stored_events, current_events> make_chain() {
    eddy::upcaster<stored_events, current_events> up;
    // Registered newest first: the order of registration does not matter, the chain does.
    up.add<customer_registered_v2, customer_registered>([](customer_registered_v2 e) {
        steps_taken.push_back("v2->v3");
        return customer_registered{e.first, e.last, "EUR"};
    });
    up.add<customer_registered_v1, customer_registered_v2>([](customer_registered_v1 e) {
        steps_taken.push_back("v1->v2");
        auto space = e.name.find(' ');
        return customer_registered_v2{e.name.substr(0, space), e.name.substr(space + 1)};
    });
    return up;
}

eddy::event_envelope<stored_events> stored(stored_events payload, std::uint32_t schema) {
    eddy::event_envelope<stored_events> e{};
    e.event_id = *eddy::uuid::parse("01890a5d-ac96-774b-bcce-b302099a8057");
    e.stream_id = "customer-1";
    e.stream_version = 4;
    e.global_position = 17;
    e.type_name = "customer_registered";
    e.schema_version = schema;
    e.metadata.correlation_id = "corr";
    e.payload = std::move(payload);
    return e;
}

} // namespace

TEST_CASE("upcaster: v1 -> v2 -> v3 in order, the envelope keeps its identity", "[es][upcaster]") {
    steps_taken.clear();
    auto up = make_chain();
    eddy::event_envelope<current_events> e =
        up.upcast(stored(customer_registered_v1{"Ada Lovelace"}, 1));
    REQUIRE(steps_taken == std::vector<std::string>{"v1->v2", "v2->v3"});
    REQUIRE(std::get<customer_registered>(e.payload) ==
            customer_registered{"Ada", "Lovelace", "EUR"});
    REQUIRE(e.type_name == "customer_registered");
    REQUIRE(e.schema_version == 3);
    REQUIRE(e.event_id.to_string() == "01890a5d-ac96-774b-bcce-b302099a8057");
    REQUIRE(e.stream_id == "customer-1");
    REQUIRE(e.stream_version == 4);
    REQUIRE(e.global_position == 17);
    REQUIRE(e.metadata.correlation_id == "corr");

    steps_taken.clear();
    e = up.upcast(stored(customer_registered_v2{"Grace", "Hopper"}, 2));
    REQUIRE(steps_taken == std::vector<std::string>{"v2->v3"});
    REQUIRE(std::get<customer_registered>(e.payload) ==
            customer_registered{"Grace", "Hopper", "EUR"});

    steps_taken.clear();
    e = up.upcast(stored(customer_renamed{"Bob"}, 1));
    REQUIRE(steps_taken.empty());
    REQUIRE(std::get<customer_renamed>(e.payload) == customer_renamed{"Bob"});
    REQUIRE(e.type_name == "customer_renamed");
}

TEST_CASE("upcaster: an event with no way to a current type is a clear error", "[es][upcaster]") {
    auto up = make_chain();
    REQUIRE_THROWS_WITH(up.upcast(stored(legacy_ping{}, 1)),
                        "eddy::upcaster: event 'legacy_ping' schema version 1 (stream "
                        "'customer-1', position 17) has no upcaster to a current event type");
    eddy::upcaster<stored_events, current_events> empty;
    REQUIRE_THROWS_AS(empty.upcast(stored(customer_registered_v1{"A B"}, 1)), eddy::error);
}

TEST_CASE("upcaster: a second step for the same name and version is refused", "[es][upcaster]") {
    auto up = make_chain();
    REQUIRE_THROWS_WITH(
        (up.add<customer_registered_v1, customer_registered>(
            [](customer_registered_v1) { return customer_registered{}; })),
        "eddy::upcaster::add: an upcaster for 'customer_registered' schema version 1 is "
        "already registered");
}

TEST_CASE("upcaster: reading a store of old events yields current events", "[es][upcaster]") {
    steps_taken.clear();
    eddy::memory_event_store<stored_events> store;
    eddy::sync_wait(
        store.append("customer-1", eddy::expected_version::no_stream(),
                     {customer_registered_v1{"Ada Lovelace"}, customer_renamed{"Augusta"}}));
    using up_type = eddy::upcaster<stored_events, current_events>;
    eddy::sync_wait(store.append("customer-2", eddy::expected_version::no_stream(),
                                 {up_type::widen(customer_registered{"Alan", "Turing", "GBP"})}));
    auto all = store.read_all(1);
    auto up = make_chain();
    std::vector<eddy::event_envelope<current_events>> current =
        eddy::sync_wait(eddy::to_vector(up.upcast(std::move(all))));
    REQUIRE(current.size() == 3);
    REQUIRE(std::get<customer_registered>(current[0].payload) ==
            customer_registered{"Ada", "Lovelace", "EUR"});
    REQUIRE(current[0].schema_version == 3);
    REQUIRE(std::get<customer_renamed>(current[1].payload) == customer_renamed{"Augusta"});
    REQUIRE(std::get<customer_registered>(current[2].payload) ==
            customer_registered{"Alan", "Turing", "GBP"});
    REQUIRE(current[2].global_position == 3);
    REQUIRE(steps_taken == std::vector<std::string>{"v1->v2", "v2->v3"});
}
