// Tests of the eddy::event_store concept: a full archetype models it; one missing any member,
// with a wrong return type, or with an event_type that is not a variant of named events does
// not; append_result equality.
#include <eddy/es/event_store.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <eddy/core/task.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/stream/stream.hpp>

namespace {
struct pinged {
    static constexpr std::string_view event_name = "pinged";
};
using events = std::variant<pinged>;
using envelope_stream = eddy::stream<eddy::event_envelope<events>>;
using batch = std::vector<eddy::proposed_event<events>>;

struct full_store {
    using event_type = events;
    eddy::task<eddy::append_result> append(std::string, eddy::expected_version, batch);
    envelope_stream read_stream(std::string, std::uint64_t);
    envelope_stream read_all(std::uint64_t);
    envelope_stream subscribe_all(std::uint64_t);
};
struct no_subscribe {
    using event_type = events;
    eddy::task<eddy::append_result> append(std::string, eddy::expected_version, batch);
    envelope_stream read_stream(std::string, std::uint64_t);
    envelope_stream read_all(std::uint64_t);
};
struct sync_append { // append not a task
    using event_type = events;
    eddy::append_result append(std::string, eddy::expected_version, batch);
    envelope_stream read_stream(std::string, std::uint64_t);
    envelope_stream read_all(std::uint64_t);
    envelope_stream subscribe_all(std::uint64_t);
};
struct int_events {
    using event_type = int;
    eddy::task<eddy::append_result> append(std::string, eddy::expected_version,
                                           std::vector<eddy::proposed_event<int>>);
    eddy::stream<eddy::event_envelope<int>> read_stream(std::string, std::uint64_t);
    eddy::stream<eddy::event_envelope<int>> read_all(std::uint64_t);
    eddy::stream<eddy::event_envelope<int>> subscribe_all(std::uint64_t);
};
} // namespace

TEST_CASE("event_store: the concept", "[es][event_store]") {
    STATIC_REQUIRE(eddy::event_store<full_store>);
    STATIC_REQUIRE(eddy::detail::check_event_store<full_store>());
    STATIC_REQUIRE_FALSE(eddy::event_store<no_subscribe>);
    STATIC_REQUIRE_FALSE(eddy::event_store<sync_append>);
    STATIC_REQUIRE_FALSE(eddy::event_store<int_events>);
    STATIC_REQUIRE_FALSE(eddy::event_store<int>);
}
