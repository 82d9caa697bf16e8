// tests/es/conformance/codec_suite.hpp - the conformance suite of eddy::codec and
// eddy::value_codec: every codec (the fake codec of tests/es/codec_test.cpp, eddy::json_codec;
// later ones) runs these checks unchanged on the suite's event and value types, which the
// codec's test file describes in the codec's own way (for json_codec: to_json/from_json).
//
//     TEST_CASE("my codec conforms", "[es][my_codec]") {
//         eddy::test::es::codec_suite::codec_conformance(my_codec{});
//     }
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint32_t, std::uint64_t
#include <limits>      // std::numeric_limits
#include <string>      // std::string
#include <string_view> // std::string_view
#include <utility>     // std::move
#include <variant>     // std::variant, std::get, std::holds_alternative
#include <vector>      // std::vector

#include <eddy/es/codec.hpp>
#include <eddy/es/decode_error.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/es/unknown_event_type.hpp>
#include <eddy/es/upcaster.hpp>

namespace eddy::test::es::codec_suite {

// v1 of item_added had no quantity; v2 is the current one.
struct item_added_v1 {
    static constexpr std::string_view event_name = "item_added";
    std::string sku;
    friend bool operator==(const item_added_v1&, const item_added_v1&) = default;
};
struct item_added {
    static constexpr std::string_view event_name = "item_added";
    static constexpr std::uint32_t schema_version = 2;
    std::string sku;
    int quantity = 0;
    friend bool operator==(const item_added&, const item_added&) = default;
};
struct cart_cleared { // no fields at all
    static constexpr std::string_view event_name = "cart_cleared";
    friend bool operator==(const cart_cleared&, const cart_cleared&) = default;
};
struct cart_checked_out {
    static constexpr std::string_view event_name = "cart_checked_out";
    static constexpr std::uint32_t schema_version = 3;
    std::uint64_t total = 0;
    std::string note;
    friend bool operator==(const cart_checked_out&, const cart_checked_out&) = default;
};

/// What a store holds (old versions included) and what the application handles.
using stored_events = std::variant<item_added_v1, item_added, cart_cleared, cart_checked_out>;
using current_events = std::variant<item_added, cart_cleared, cart_checked_out>;

/// A value that is not an event (a snapshot of a cart).
struct cart_snapshot {
    std::vector<std::string> skus;
    std::uint64_t total = 0;
    friend bool operator==(const cart_snapshot&, const cart_snapshot&) = default;
};

/// One event of each alternative, with the edges: an empty struct, uint64 max, a non-ASCII note.
inline std::vector<stored_events> samples() {
    return {item_added_v1{"apple"}, item_added{"pear", -3}, cart_cleared{},
            cart_checked_out{std::numeric_limits<std::uint64_t>::max(), "Grüße, 東京 🚚"}};
}

inline eddy::upcaster<stored_events, current_events> upcaster() {
    eddy::upcaster<stored_events, current_events> up;
    up.add<item_added_v1, item_added>([](item_added_v1 e) { return item_added{e.sku, 1}; });
    return up;
}

/// The checks. `c` encodes and decodes the suite's types (it is a codec of both variants and a
/// value codec of cart_snapshot).
template <class Codec>
void codec_conformance(const Codec& c) {
    STATIC_REQUIRE(eddy::codec<Codec, stored_events>);
    STATIC_REQUIRE(eddy::codec<Codec, current_events>);
    STATIC_REQUIRE(eddy::value_codec<Codec, cart_snapshot>);

    SECTION("every alternative round-trips, under its own type name and schema version") {
        const std::vector<std::uint32_t> versions{1, 2, 1, 3};
        const std::vector<std::string> names{"item_added", "item_added", "cart_cleared",
                                             "cart_checked_out"};
        std::vector<stored_events> events = samples();
        for (std::size_t i = 0; i < events.size(); ++i) {
            INFO("alternative " << i);
            eddy::encoded_event encoded = eddy::encode_event(c, events[i]);
            REQUIRE(encoded.type_name == names[i]);
            REQUIRE(encoded.schema_version == versions[i]);
            stored_events back = eddy::decode_event<stored_events>(
                c, encoded.type_name, encoded.schema_version, encoded.bytes, "cart-1", i + 1);
            REQUIRE(back.index() == i);
            REQUIRE(back == events[i]);
        }
    }

    SECTION("encoding is deterministic") {
        for (const stored_events& e : samples()) {
            REQUIRE(eddy::encode_event(c, e) == eddy::encode_event(c, e));
        }
    }

    SECTION("an old schema version decodes to its own alternative; the upcaster makes it current") {
        eddy::encoded_event old = eddy::encode_event(c, stored_events(item_added_v1{"fig"}));
        eddy::event_envelope<stored_events> e{};
        e.stream_id = "cart-9";
        e.stream_version = 1;
        e.global_position = 12;
        e.type_name = old.type_name;
        e.schema_version = old.schema_version;
        e.payload = eddy::decode_event<stored_events>(c, old.type_name, old.schema_version,
                                                      old.bytes, e.stream_id, e.global_position);
        REQUIRE(std::get<item_added_v1>(e.payload) == item_added_v1{"fig"});
        eddy::event_envelope<current_events> current = upcaster().upcast(std::move(e));
        REQUIRE(std::get<item_added>(current.payload) == item_added{"fig", 1});
        REQUIRE(current.type_name == "item_added");
        REQUIRE(current.schema_version == 2);
        REQUIRE(current.global_position == 12);
    }

    SECTION("an unknown type name is an unknown_event_type naming it, its version and place") {
        try {
            (void)eddy::decode_event<stored_events>(c, "coupon_applied", 4, "{}", "cart-7", 42);
            FAIL("no exception");
        } catch (const eddy::unknown_event_type& u) {
            REQUIRE(u.type_name() == "coupon_applied");
            REQUIRE(u.schema_version() == 4);
            REQUIRE(u.stream() == "cart-7");
            REQUIRE(u.position() == 42);
            REQUIRE_THAT(u.what(), Catch::StartsWith("eddy: unknown event type 'coupon_applied' "
                                                     "schema version 4 (stream 'cart-7', "
                                                     "position 42)"));
        }
        // Straight from the codec: the same error without a place.
        try {
            (void)c.template decode<current_events>("coupon_applied", 1, "");
            FAIL("no exception");
        } catch (const eddy::unknown_event_type& u) {
            REQUIRE(u.type_name() == "coupon_applied");
            REQUIRE_FALSE(u.position().has_value());
        }
    }

    SECTION("a known name with an unknown schema version is an unknown_event_type too") {
        eddy::encoded_event old = eddy::encode_event(c, stored_events(item_added_v1{"fig"}));
        // The current variant no longer has v1 (read without the upcaster's stored variant).
        REQUIRE_THROWS_MATCHES(
            eddy::decode_event<current_events>(c, old.type_name, 1, old.bytes, "cart-1", 3),
            eddy::unknown_event_type,
            Catch::Matchers::Predicate<eddy::unknown_event_type>(
                [](const eddy::unknown_event_type& u) {
                    return u.type_name() == "item_added" && u.schema_version() == 1 &&
                           u.position() == 3;
                }));
        REQUIRE_THROWS_AS(eddy::decode_event<stored_events>(c, "item_added", 7, old.bytes, "c", 1),
                          eddy::unknown_event_type);
    }

    SECTION("a truncated payload is a decode_error naming type, version, place and reason") {
        eddy::encoded_event good = eddy::encode_event(
            c, stored_events(cart_checked_out{17, "a note long enough to cut in half"}));
        const std::string half = good.bytes.substr(0, good.bytes.size() / 2);
        try {
            (void)eddy::decode_event<stored_events>(c, good.type_name, good.schema_version, half,
                                                    "cart-3", 99);
            FAIL("no exception");
        } catch (const eddy::decode_error& d) {
            REQUIRE(d.type_name() == "cart_checked_out");
            REQUIRE(d.schema_version() == 3);
            REQUIRE(d.stream() == "cart-3");
            REQUIRE(d.position() == 99);
            REQUIRE_FALSE(d.reason().empty());
            REQUIRE_THAT(d.what(), Catch::StartsWith("eddy: cannot decode event "
                                                     "'cart_checked_out' schema version 3 "
                                                     "(stream 'cart-3', position 99): "));
        }
    }

    SECTION("an empty payload for an event with fields is a decode_error") {
        REQUIRE_THROWS_AS(eddy::decode_event<stored_events>(c, "item_added", 2, "", "cart-1", 1),
                          eddy::decode_error);
        REQUIRE_THROWS_AS(c.template decode<current_events>("cart_checked_out", 3, ""),
                          eddy::decode_error);
    }

    SECTION("another event's payload under a name is a decode_error, not a wrong value") {
        eddy::encoded_event cleared = eddy::encode_event(c, stored_events(cart_cleared{}));
        REQUIRE_THROWS_AS(
            eddy::decode_event<stored_events>(c, "cart_checked_out", 3, cleared.bytes, "cart-1", 1),
            eddy::decode_error);
    }

    SECTION("values round-trip; a broken value is a decode_error without a type name") {
        const cart_snapshot s{{"apple", "pear", "Ærø"}, std::numeric_limits<std::uint64_t>::max()};
        const std::string bytes = c.encode_value(s);
        REQUIRE(c.template decode_value<cart_snapshot>(bytes) == s);
        REQUIRE(c.template decode_value<cart_snapshot>(c.encode_value(cart_snapshot{})) ==
                cart_snapshot{});
        try {
            (void)c.template decode_value<cart_snapshot>(bytes.substr(0, bytes.size() / 2));
            FAIL("no exception");
        } catch (const eddy::decode_error& d) {
            REQUIRE(d.type_name().empty());
            REQUIRE_FALSE(d.reason().empty());
            REQUIRE_THAT(d.what(), Catch::StartsWith("eddy: cannot decode a value: "));
        }
    }
}

} // namespace eddy::test::es::codec_suite
