// Tests of eddy::headers: set, get, replace, erase, key order, duplicates in the initializer
// list, equality.
#include <eddy/bus/headers.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

TEST_CASE("headers: set, get, replace, erase", "[bus][headers]") {
    eddy::headers h;
    REQUIRE(h.empty());
    REQUIRE_FALSE(h.get("a").has_value());
    h.set("b", "2");
    h.set("a", "1");
    REQUIRE(h.size() == 2);
    REQUIRE(h.get("a") == std::string_view("1"));
    REQUIRE(h.get("b") == std::string_view("2"));
    REQUIRE_FALSE(h.contains("c"));
    h.set("a", "one");
    REQUIRE(h.size() == 2);
    REQUIRE(h.get("a") == std::string_view("one"));
    REQUIRE(h.erase("a"));
    REQUIRE_FALSE(h.erase("a"));
    REQUIRE_FALSE(h.contains("a"));
    REQUIRE(h.size() == 1);
}

TEST_CASE("headers iterate in key order; a repeated key keeps the later value", "[bus][headers]") {
    eddy::headers h{{"z", "26"}, {"a", "1"}, {"m", "13"}, {"a", "again"}};
    std::vector<std::pair<std::string, std::string>> entries(h.begin(), h.end());
    REQUIRE(entries == std::vector<std::pair<std::string, std::string>>{
                           {"a", "again"}, {"m", "13"}, {"z", "26"}});
}

TEST_CASE("headers compare equal by content, whatever the order of insertion", "[bus][headers]") {
    eddy::headers a{{"x", "1"}, {"y", "2"}};
    eddy::headers b;
    b.set("y", "2");
    b.set("x", "1");
    REQUIRE(a == b);
    b.set("x", "3");
    REQUIRE_FALSE(a == b);
    eddy::headers copy = a;
    copy.set("new", "v");
    REQUIRE(a.size() == 2); // a copy is independent
}
