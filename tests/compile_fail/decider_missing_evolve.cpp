// expect: missing_evolve_for_event<[^>]*item_removed>
#include <string_view>
#include <variant>
#include <vector>

#include <eddy/es/decider.hpp>

struct item_added {
    static constexpr std::string_view event_name = "item_added";
};
struct item_removed {
    static constexpr std::string_view event_name = "item_removed";
};
struct add_item {};

struct cart {
    using state_type = int;
    using command_type = add_item;
    using event_type = std::variant<item_added, item_removed>;
    static int initial_state() { return 0; }
    static std::vector<event_type> decide(const add_item&, const int&) { return {item_added{}}; }
    static int evolve(const int& s, const item_added&) { return s + 1; }
#ifndef EDDY_COMPILE_FAIL
    static int evolve(const int& s, const item_removed&) { return s - 1; }
#endif
};

int main() {
    eddy::decider_aggregate<cart> c;
    c.handle(add_item{});
    return c.state() == 1 ? 0 : 1;
}
