// Tests of the eddy::projection concept: handlers returning void or task<void>, names as
// anything a std::string is made from; no name, a handler for another event type, or a handler
// returning something else do not model it.
#include <eddy/es/projection.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <variant>

#include <eddy/core/task.hpp>
#include <eddy/es/named_event.hpp>

namespace {
struct pinged {
    static constexpr std::string_view event_name = "pinged";
};
struct other {
    static constexpr std::string_view event_name = "other";
};
using events = std::variant<pinged>;
using envelope = eddy::event_envelope<events>;

struct sync_projection {
    std::string_view name() const { return "sync"; }
    void handle(const envelope&) {}
};
struct async_projection {
    std::string name() const { return "async"; }
    eddy::task<> handle(const envelope&);
};
struct no_name {
    void handle(const envelope&) {}
};
struct wrong_events {
    const char* name() const { return "wrong"; }
    void handle(const eddy::event_envelope<std::variant<other>>&) {}
};
struct returns_int {
    const char* name() const { return "int"; }
    int handle(const envelope&) { return 0; }
};
} // namespace

TEST_CASE("projection: the concept", "[es][projection]") {
    STATIC_REQUIRE(eddy::projection<sync_projection, events>);
    STATIC_REQUIRE(eddy::projection<async_projection, events>);
    STATIC_REQUIRE_FALSE(eddy::projection<no_name, events>);
    STATIC_REQUIRE_FALSE(eddy::projection<wrong_events, events>);
    STATIC_REQUIRE_FALSE(eddy::projection<returns_int, events>);
    STATIC_REQUIRE_FALSE(eddy::projection<int, events>);
    STATIC_REQUIRE(eddy::event_name_v<other> == "other");
    STATIC_REQUIRE(eddy::event_name_v<pinged> == "pinged");
}
