// Tests of eddy::uuid_v7_generator: v7 layout from an injected clock and random source (exact
// bytes), monotonic within a millisecond, when the clock steps back and past a counter
// overflow; the default generator; bad input.
#include <eddy/es/uuid_v7_generator.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>

#include <eddy/core/error.hpp>

namespace {
std::chrono::system_clock::time_point at_ms(std::int64_t ms) {
    return std::chrono::system_clock::time_point{std::chrono::milliseconds(ms)};
}
} // namespace

TEST_CASE("uuid_v7_generator: exact layout from the injected clock and random bits",
          "[es][uuid_v7_generator]") {
    std::int64_t now = 0x0123456789ab;
    eddy::uuid_v7_generator ids([&now] { return at_ms(now); },
                                [] { return std::uint64_t{0xffffffffffffffffULL}; });
    eddy::uuid a = ids.next();
    REQUIRE(a.to_string() == "01234567-89ab-7000-bfff-ffffffffffff");
    REQUIRE(a.version() == 7);
    REQUIRE((a.bytes[8] & 0xC0) == 0x80); // RFC 9562 variant
    eddy::uuid b = ids.next();            // same millisecond: the counter counts
    REQUIRE(b.to_string() == "01234567-89ab-7001-bfff-ffffffffffff");
    now -= 1000; // the clock steps back: keep the last millisecond, keep counting
    eddy::uuid c = ids.next();
    REQUIRE(c.to_string() == "01234567-89ab-7002-bfff-ffffffffffff");
    now += 2000;
    eddy::uuid d = ids.next();
    REQUIRE(d.unix_ms() == 0x0123456789abULL + 1000);
    REQUIRE(d.to_string().substr(14, 4) == "7000");
    REQUIRE(a < b);
    REQUIRE(b < c);
    REQUIRE(c < d);
}

TEST_CASE("uuid_v7_generator: 5000 ids in one millisecond stay unique and increasing",
          "[es][uuid_v7_generator]") {
    eddy::uuid_v7_generator ids([] { return at_ms(1000); }, [] { return std::uint64_t{7}; });
    eddy::uuid last = ids.next();
    std::set<eddy::uuid> seen{last};
    for (int i = 0; i < 5000; ++i) {
        eddy::uuid next = ids.next();
        REQUIRE(last < next);
        seen.insert(next);
        last = next;
    }
    REQUIRE(seen.size() == 5001);
    REQUIRE(last.unix_ms() == 1001); // 4096 per millisecond, then the next one is borrowed
}

TEST_CASE("uuid_v7_generator: the default generator and bad input", "[es][uuid_v7_generator]") {
    eddy::uuid_v7_generator ids;
    eddy::uuid a = ids.next();
    eddy::uuid b = ids.next();
    REQUIRE(a.version() == 7);
    REQUIRE(a < b);
    REQUIRE_THROWS_AS(eddy::uuid_v7_generator({}, [] { return std::uint64_t{1}; }), eddy::error);
    REQUIRE_THROWS_AS(eddy::uuid_v7_generator([] { return at_ms(0); }, {}), eddy::error);
}
