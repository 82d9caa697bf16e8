// expect: missing_apply_for_event<[^>]*order_shipped>
#include <string_view>
#include <variant>

#include <eddy/es/aggregate.hpp>

struct order_placed {
    static constexpr std::string_view event_name = "order_placed";
};
struct order_shipped {
    static constexpr std::string_view event_name = "order_shipped";
};

struct order : eddy::aggregate<order, std::variant<order_placed, order_shipped>> {
    int placed = 0;
    void place() { raise(order_placed{}); }
    void apply(const order_placed&) { ++placed; }
#ifndef EDDY_COMPILE_FAIL
    void apply(const order_shipped&) {}
#endif
};

int main() {
    order o;
    o.place();
    return o.placed == 1 ? 0 : 1;
}
