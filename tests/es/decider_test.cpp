// Tests of eddy::decider and eddy::decider_aggregate: the concept (positive and negative),
// a decision emitting several events evolves through each in turn, a failing decision records
// nothing, replay, evolve_with.
#include <eddy/es/decider.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

struct item_added {
    static constexpr std::string_view event_name = "item_added";
    std::string sku;
    friend bool operator==(const item_added&, const item_added&) = default;
};
struct discount_unlocked {
    static constexpr std::string_view event_name = "discount_unlocked";
    int at_items = 0;
    friend bool operator==(const discount_unlocked&, const discount_unlocked&) = default;
};
struct add_items {
    std::vector<std::string> skus;
};

struct cart_state {
    int items = 0;
    int discount_at = -1;         // the item count when the discount was unlocked
    std::vector<int> counts_seen; // the item count each event found
};

// Unlocks a discount when the cart reaches 3 items. Every event sees the state the previous
// event produced: `counts_seen` records that.
struct cart {
    using state_type = cart_state;
    using command_type = add_items;
    using event_type = std::variant<item_added, discount_unlocked>;

    static cart_state initial_state() { return {}; }

    static std::vector<event_type> decide(const add_items& c, const cart_state& s) {
        if (c.skus.empty()) {
            throw std::invalid_argument("nothing to add");
        }
        std::vector<event_type> out;
        int items = s.items;
        for (const std::string& sku : c.skus) {
            out.emplace_back(item_added{sku});
            if (++items == 3 && s.discount_at < 0) {
                out.emplace_back(discount_unlocked{items});
            }
        }
        return out;
    }

    static cart_state evolve(const cart_state& s, const item_added&) {
        cart_state next = s;
        next.counts_seen.push_back(s.items);
        ++next.items;
        return next;
    }
    static cart_state evolve(const cart_state& s, const discount_unlocked& e) {
        cart_state next = s;
        next.counts_seen.push_back(s.items);
        next.discount_at = e.at_items;
        return next;
    }
};

struct not_a_decider {
    using state_type = int;
    using event_type = std::variant<item_added>;
    static int initial_state() { return 0; }
};

} // namespace

TEST_CASE("decider: the concept", "[es][decider]") {
    STATIC_REQUIRE(eddy::decider<cart>);
    STATIC_REQUIRE_FALSE(eddy::decider<not_a_decider>);
    STATIC_REQUIRE_FALSE(eddy::decider<int>);
}

TEST_CASE("decider_aggregate: a decision of several events sees the state after each",
          "[es][decider]") {
    eddy::decider_aggregate<cart> c;
    c.set_id("cart-1");
    REQUIRE(c.handle(add_items{{"a", "b"}}) == 2);
    REQUIRE(c.state().items == 2);
    REQUIRE(c.handle(add_items{{"c", "d"}}) == 3); // c, discount at 3, d
    REQUIRE(c.state().items == 4);
    REQUIRE(c.state().discount_at == 3);
    // Each event found the count the previous one left: 0, 1 | 2, 3, 3.
    REQUIRE(c.state().counts_seen == std::vector<int>{0, 1, 2, 3, 3});
    REQUIRE(c.uncommitted() == std::vector<cart::event_type>{item_added{"a"}, item_added{"b"},
                                                             item_added{"c"}, discount_unlocked{3},
                                                             item_added{"d"}});
    REQUIRE(c.version() == 0);
    c.mark_committed();
    REQUIRE(c.version() == 5);
    REQUIRE(c.uncommitted().empty());
}

TEST_CASE("decider_aggregate: a failing decision changes nothing", "[es][decider]") {
    eddy::decider_aggregate<cart> c;
    c.handle(add_items{{"a"}});
    REQUIRE_THROWS_AS(c.handle(add_items{}), std::invalid_argument);
    REQUIRE(c.state().items == 1);
    REQUIRE(c.uncommitted().size() == 1);
}

TEST_CASE("decider_aggregate: replay evolves committed history", "[es][decider]") {
    eddy::decider_aggregate<cart> c;
    c.replay(item_added{"a"});
    c.replay(discount_unlocked{1});
    REQUIRE(c.version() == 2);
    REQUIRE(c.state().items == 1);
    REQUIRE(c.state().discount_at == 1);
    REQUIRE(c.uncommitted().empty());
    cart_state s = eddy::evolve_with<cart>(c.state(), item_added{"z"});
    REQUIRE(s.items == 2);
}
