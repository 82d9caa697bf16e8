// Tests of the eddy::event_sourced concept: aggregates and decider_aggregates model it; types
// missing the bookkeeping, non-default-constructible or non-copyable ones do not.
#include <eddy/es/event_sourced.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <eddy/es/aggregate.hpp>
#include <eddy/es/decider.hpp>

namespace {
struct pinged {
    static constexpr std::string_view event_name = "pinged";
};
using events = std::variant<pinged>;

struct counter : eddy::aggregate<counter, events> {
    int n = 0;
    void apply(const pinged&) { ++n; }
};

struct counter_decider {
    using state_type = int;
    using command_type = int;
    using event_type = events;
    static int initial_state() { return 0; }
    static std::vector<event_type> decide(const int&, const int&) { return {pinged{}}; }
    static int evolve(const int& s, const pinged&) { return s + 1; }
};

struct move_only : eddy::aggregate<move_only, events> {
    std::unique_ptr<int> p;
    void apply(const pinged&) {}
};

struct no_replay {
    using events_type = events;
    const std::string& id() const;
    void set_id(std::string);
    std::uint64_t version() const;
    const std::vector<events>& uncommitted() const;
    void mark_committed();
};
} // namespace

TEST_CASE("event_sourced: the concept", "[es][event_sourced]") {
    STATIC_REQUIRE(eddy::event_sourced<counter>);
    STATIC_REQUIRE(eddy::event_sourced<eddy::decider_aggregate<counter_decider>>);
    STATIC_REQUIRE_FALSE(eddy::event_sourced<move_only>);
    STATIC_REQUIRE_FALSE(eddy::event_sourced<no_replay>);
    STATIC_REQUIRE_FALSE(eddy::event_sourced<int>);
    counter c;
    c.replay(pinged{});
    REQUIRE(c.n == 1);
}
