// Tests of the eddy::unit_projection concept with positive and negative archetypes.
#include <eddy/es/unit_projection.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <variant>

#include <eddy/es/named_event.hpp>

namespace {
struct pinged {
    static constexpr std::string_view event_name = "pinged";
};
using events = std::variant<pinged>;
using envelope = eddy::event_envelope<events>;
struct unit {};
struct other_unit {};

struct sync_handler {
    std::string_view name() const;
    void handle(const envelope&, unit&);
};
struct task_handler {
    std::string name() const;
    eddy::task<void> handle(const envelope&, unit&);
};
struct without_unit {
    std::string_view name() const;
    void handle(const envelope&);
};
struct other_unit_handler {
    std::string_view name() const;
    void handle(const envelope&, other_unit&);
};
struct int_result {
    std::string_view name() const;
    int handle(const envelope&, unit&);
};
struct no_name {
    void handle(const envelope&, unit&);
};
} // namespace

TEST_CASE("unit_projection: the concept", "[es][unit_projection]") {
    STATIC_REQUIRE(eddy::event_variant<events>);
    STATIC_REQUIRE(eddy::event_name_v<pinged> == "pinged");
    STATIC_REQUIRE(eddy::unit_projection<sync_handler, events, unit>);
    STATIC_REQUIRE(eddy::unit_projection<task_handler, events, unit>);
    STATIC_REQUIRE_FALSE(eddy::unit_projection<without_unit, events, unit>);
    STATIC_REQUIRE_FALSE(eddy::unit_projection<other_unit_handler, events, unit>);
    STATIC_REQUIRE_FALSE(eddy::unit_projection<int_result, events, unit>);
    STATIC_REQUIRE_FALSE(eddy::unit_projection<no_name, events, unit>);
}
