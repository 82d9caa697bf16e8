// Tests of eddy::record_too_large and topic_config::max_record_bytes: how a record is measured
// (key, headers, payload: a string's bytes, sizeof a trivially copyable value, a user's
// record_bytes), that an oversize publish (plain or transactional) throws with a message
// naming the topic and the sizes and appends nothing, and that a limit on a type that cannot
// be measured is refused by create_topic.
#include <eddy/bus/record_too_large.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/bus/transaction.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

using eddy::task;
using bus_t = eddy::event_bus<eddy::virtual_time_scheduler>;

namespace {

struct point {
    std::int32_t x = 0;
    std::int32_t y = 0;
};

namespace shop {
// Measured by its own record_bytes (found by argument-dependent lookup).
struct order {
    std::vector<std::string> lines;
};
inline std::size_t record_bytes(const order& o) {
    std::size_t n = 0;
    for (const std::string& l : o.lines) {
        n += l.size();
    }
    return n;
}
} // namespace shop

// Not measurable: no record_bytes, not trivially copyable, not a range of such.
struct opaque {
    std::map<int, int> m;
};

template <class T>
task<eddy::publish_result> publish(bus_t* bus, std::string topic, std::string key, T value,
                                   eddy::headers h) {
    co_return co_await bus->publish(std::move(topic), std::move(key), std::move(value),
                                    std::move(h));
}

task<void> publish_in_transaction(bus_t* bus, std::string value) {
    auto tx = bus->begin_transaction("p");
    co_await tx.publish("t", "k", std::move(value));
    co_await tx.commit();
}

} // namespace

TEST_CASE("a record is measured by its key, headers and payload bytes", "[bus][record_too_large]") {
    STATIC_REQUIRE(eddy::detail::measurable_payload<std::string>);
    STATIC_REQUIRE(eddy::detail::measurable_payload<point>);
    STATIC_REQUIRE(eddy::detail::measurable_payload<std::vector<std::uint16_t>>);
    STATIC_REQUIRE(eddy::detail::measurable_payload<shop::order>);
    STATIC_REQUIRE_FALSE(eddy::detail::measurable_payload<opaque>);
    STATIC_REQUIRE_FALSE(eddy::detail::measurable_payload<std::vector<std::string>>);
    REQUIRE(eddy::detail::record_size("key", {}, std::string("12345")) == 8);
    REQUIRE(eddy::detail::record_size("", {{"ab", "cde"}}, point{}) == 5 + sizeof(point));
    REQUIRE(eddy::detail::record_size("k", {}, std::vector<std::uint16_t>{1, 2, 3}) == 7);
    REQUIRE(eddy::detail::record_size("k", {}, shop::order{{"ab", "cd", "e"}}) == 6);
}

TEST_CASE("a publish over max_record_bytes throws record_too_large and appends nothing",
          "[bus][record_too_large]") {
    eddy::virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<std::string>("t", {.max_record_bytes = 10});
    // 1 + 9 = 10 bytes: at the limit, accepted.
    REQUIRE(vt.run(publish<std::string>(&bus, "t", "k", "123456789", {})) ==
            eddy::publish_result{0, 0});
    try {
        vt.run(publish<std::string>(&bus, "t", "k", "1234567890", {}));
        FAIL("no record_too_large");
    } catch (const eddy::record_too_large& e) {
        REQUIRE(e.topic() == "t");
        REQUIRE(e.size() == 11);
        REQUIRE(e.limit() == 10);
        REQUIRE_THAT(e.what(), Catch::Contains("11 bytes") && Catch::Contains("topic 't'") &&
                                   Catch::Contains("max_record_bytes 10"));
    }
    // Headers count: 1 + 2 + (1 + 7) = 11.
    REQUIRE_THROWS_AS(vt.run(publish<std::string>(&bus, "t", "k", "12", {{"h", "1234567"}})),
                      eddy::record_too_large);
    REQUIRE(bus.end_offsets("t") == std::vector<std::uint64_t>{1});
    REQUIRE(bus.stats("t").published == 1);
}

TEST_CASE("max_record_bytes holds for transactional publishes, trivially copyable values and "
          "user-measured values",
          "[bus][record_too_large]") {
    eddy::virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<std::string>("t", {.max_record_bytes = 4});
    REQUIRE_THROWS_AS(vt.run(publish_in_transaction(&bus, "too long")), eddy::record_too_large);
    vt.run(publish_in_transaction(&bus, "ok"));
    REQUIRE(bus.end_offsets("t") == std::vector<std::uint64_t>{1});

    bus.create_topic<point>("points", {.max_record_bytes = sizeof(point)});
    REQUIRE(vt.run(publish<point>(&bus, "points", "", point{1, 2}, {})).offset == 0);
    REQUIRE_THROWS_AS(vt.run(publish<point>(&bus, "points", "k", point{1, 2}, {})),
                      eddy::record_too_large);

    bus.create_topic<shop::order>("orders", {.max_record_bytes = 5});
    REQUIRE(
        vt.run(publish<shop::order>(&bus, "orders", "k", shop::order{{"ab", "cd"}}, {})).offset ==
        0);
    REQUIRE_THROWS_AS(
        vt.run(publish<shop::order>(&bus, "orders", "k", shop::order{{"abc", "cd"}}, {})),
        eddy::record_too_large);
}

TEST_CASE("a limit on a type that cannot be measured is refused; no limit, no measure",
          "[bus][record_too_large]") {
    eddy::virtual_time_scheduler vt;
    bus_t bus(vt);
    REQUIRE_THROWS_WITH(bus.create_topic<opaque>("o", {.max_record_bytes = 100}),
                        Catch::Contains("cannot be measured") && Catch::Contains("'o'"));
    REQUIRE_FALSE(bus.has_topic("o"));
    bus.create_topic<opaque>("o");
    REQUIRE(vt.run(publish<opaque>(&bus, "o", "k", opaque{}, {})).offset == 0);
    REQUIRE(eddy::record_too_large("t", 5, 4).size() == 5);
    STATIC_REQUIRE(std::is_base_of_v<eddy::error, eddy::record_too_large>);
}
