// Tests of eddy::json_codec: the conformance suite of codecs; every alternative of a multi-type
// event variant round-trips (nested structs, vectors, optionals, uint64 max, int64 min, unicode,
// an event without fields) as readable JSON; old schema versions with an upcaster; unknown type
// names and versions; malformed JSON, missing members and members of the wrong type as
// eddy::decode_error naming type, version, place and nlohmann's reason; values; which types the
// concepts accept.
#include <eddy/json/json_codec.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/es/codec.hpp>
#include <eddy/es/decode_error.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/unknown_event_type.hpp>
#include <eddy/es/upcaster.hpp>

#include "es/conformance/codec_suite.hpp"
// The suite's types described the nlohmann way, and std::optional for nlohmann 3.11.
#include "support/codec_suite_json.hpp"

namespace shop {

struct address {
    std::string street;
    std::string city;
    std::optional<std::string> floor;
    friend bool operator==(const address&, const address&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(address, street, city, floor)

struct line {
    std::string sku;
    std::uint32_t quantity = 0;
    std::int64_t cents = 0;
    friend bool operator==(const line&, const line&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(line, sku, quantity, cents)

// v1 had a single customer string; v2 (current) adds the shipping address and lines.
struct order_placed_v1 {
    static constexpr std::string_view event_name = "order_placed";
    std::string customer;
    friend bool operator==(const order_placed_v1&, const order_placed_v1&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order_placed_v1, customer)

struct order_placed {
    static constexpr std::string_view event_name = "order_placed";
    static constexpr std::uint32_t schema_version = 2;
    std::string customer;
    std::optional<address> ship_to;
    std::vector<line> lines;
    std::vector<std::optional<std::int32_t>> discounts; // per line, when any
    friend bool operator==(const order_placed&, const order_placed&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order_placed, customer, ship_to, lines, discounts)

struct order_paid {
    static constexpr std::string_view event_name = "order_paid";
    std::uint64_t payment_id = 0;
    std::int64_t balance = 0;
    double rate = 0;
    bool captured = false;
    friend bool operator==(const order_paid&, const order_paid&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order_paid, payment_id, balance, rate, captured)

struct order_shipped { // no fields: needs no description
    static constexpr std::string_view event_name = "order_shipped";
    friend bool operator==(const order_shipped&, const order_shipped&) = default;
};

// Described by hand, with a check nlohmann does not make.
struct order_rated {
    static constexpr std::string_view event_name = "order_rated";
    int stars = 0;
    friend bool operator==(const order_rated&, const order_rated&) = default;
};
inline void to_json(nlohmann::json& j, const order_rated& e) { j = {{"stars", e.stars}}; }
inline void from_json(const nlohmann::json& j, order_rated& e) {
    e.stars = j.at("stars").get<int>();
    if (e.stars < 1 || e.stars > 5) {
        throw std::out_of_range("stars must be 1..5, got " + std::to_string(e.stars));
    }
}

struct order_vetoed { // its from_json reports with an eddy::error of its own
    static constexpr std::string_view event_name = "order_vetoed";
    std::string why;
    friend bool operator==(const order_vetoed&, const order_vetoed&) = default;
};
inline void to_json(nlohmann::json& j, const order_vetoed& e) { j = {{"why", e.why}}; }
inline void from_json(const nlohmann::json&, order_vetoed&) { throw eddy::error("vetoed"); }

struct undescribed {
    static constexpr std::string_view event_name = "undescribed";
    int x = 0;
};

struct order_state { // a snapshot
    std::string customer;
    std::map<std::string, std::uint32_t> quantities;
    std::optional<std::uint64_t> paid_with;
    friend bool operator==(const order_state&, const order_state&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order_state, customer, quantities, paid_with)

using stored_events =
    std::variant<order_placed_v1, order_placed, order_paid, order_shipped, order_rated>;
using current_events = std::variant<order_placed, order_paid, order_shipped, order_rated>;

} // namespace shop

namespace {

using eddy::json_codec;

eddy::decode_error decode_failure(std::string_view type, std::uint32_t version,
                                  std::string_view bytes) {
    try {
        (void)eddy::decode_event<shop::stored_events>(json_codec{}, type, version, bytes, "order-1",
                                                      5);
    } catch (const eddy::decode_error& d) {
        return d;
    }
    FAIL("no decode_error for " << bytes);
    return eddy::decode_error("unreachable");
}

shop::order_placed full_order() {
    return shop::order_placed{
        "Zoë Ångström 東京 🚀",
        shop::address{"Rue de l'Église 1", "Genève", "3e"},
        {{"apple", 3, -250}, {"pear", 4294967295U, std::numeric_limits<std::int64_t>::min()}},
        {std::nullopt, 15}};
}

} // namespace

TEST_CASE("json_codec: conforms to the codec suite", "[json][json_codec]") {
    eddy::test::es::codec_suite::codec_conformance(json_codec{});
}

TEST_CASE("json_codec: what the concepts accept", "[json][json_codec]") {
    STATIC_REQUIRE(eddy::codec<json_codec, shop::stored_events>);
    STATIC_REQUIRE(eddy::codec<json_codec, shop::current_events>);
    STATIC_REQUIRE(eddy::value_codec<json_codec, shop::order_state>);
    STATIC_REQUIRE(eddy::value_codec<json_codec, std::vector<std::string>>);
    STATIC_REQUIRE(eddy::value_codec<json_codec, shop::order_shipped>);
    // Only described types: an undescribed alternative makes the whole variant unencodable.
    STATIC_REQUIRE_FALSE(
        eddy::codec<json_codec, std::variant<shop::order_paid, shop::undescribed>>);
    STATIC_REQUIRE_FALSE(eddy::value_codec<json_codec, shop::undescribed>);
}

TEST_CASE("json_codec: every alternative round-trips as readable JSON", "[json][json_codec]") {
    const json_codec c;
    const std::vector<shop::stored_events> events{
        shop::order_placed_v1{"ada"},
        full_order(),
        shop::order_placed{"bob", std::nullopt, {}, {}},
        shop::order_paid{std::numeric_limits<std::uint64_t>::max(),
                         std::numeric_limits<std::int64_t>::min(), 0.125, true},
        shop::order_shipped{},
        shop::order_rated{4}};
    for (const shop::stored_events& e : events) {
        eddy::encoded_event encoded = eddy::encode_event(c, e);
        INFO(encoded.type_name << " " << encoded.bytes);
        REQUIRE(encoded.type_name == eddy::event_name_of(e));
        REQUIRE(encoded.schema_version == eddy::event_schema_version_of(e));
        REQUIRE(eddy::decode_event<shop::stored_events>(c, encoded.type_name,
                                                        encoded.schema_version, encoded.bytes,
                                                        "order-1", 1) == e);
    }

    // The bytes are plain JSON of the payload alone (members in name order), UTF-8 unescaped.
    REQUIRE(c.encode(shop::stored_events(shop::order_placed_v1{"ada"})) ==
            eddy::encoded_event{"order_placed", 1, R"({"customer":"ada"})"});
    REQUIRE(c.encode(shop::stored_events(shop::order_shipped{})).bytes == "{}");
    REQUIRE(c.encode(shop::stored_events(events[3])).bytes ==
            R"({"balance":-9223372036854775808,"captured":true,"payment_id":18446744073709551615,)"
            R"("rate":0.125})");
    REQUIRE(c.encode(shop::stored_events(full_order())).bytes ==
            R"({"customer":"Zoë Ångström 東京 🚀","discounts":[null,15],"lines":[)"
            R"({"cents":-250,"quantity":3,"sku":"apple"},)"
            R"({"cents":-9223372036854775808,"quantity":4294967295,"sku":"pear"}],)"
            R"("ship_to":{"city":"Genève","floor":"3e","street":"Rue de l'Église 1"}})");
    // Written by another tool: whitespace, escapes, members in any order, extra members.
    REQUIRE(c.decode<shop::current_events>(
                "order_placed", 2,
                "{ \"lines\" : [], \"customer\" : \"\\u00c5sa\", \"discounts\": [],\n"
                "  \"ship_to\": null, \"added_later\": {\"x\": 1} }") ==
            shop::current_events(shop::order_placed{"Åsa", std::nullopt, {}, {}}));
}

TEST_CASE("json_codec: an old schema version, read through the upcaster", "[json][json_codec]") {
    eddy::upcaster<shop::stored_events, shop::current_events> up;
    up.add<shop::order_placed_v1, shop::order_placed>([](shop::order_placed_v1 e) {
        return shop::order_placed{e.customer, std::nullopt, {}, {}};
    });
    // What an older version of the application stored.
    const std::string stored_bytes = R"({"customer":"ada"})";
    eddy::event_envelope<shop::stored_events> e{};
    e.stream_id = "order-1";
    e.stream_version = 1;
    e.global_position = 3;
    e.type_name = "order_placed";
    e.schema_version = 1;
    e.payload = eddy::decode_event<shop::stored_events>(
        json_codec{}, e.type_name, e.schema_version, stored_bytes, e.stream_id, e.global_position);
    REQUIRE(std::get<shop::order_placed_v1>(e.payload).customer == "ada");
    eddy::event_envelope<shop::current_events> current = up.upcast(std::move(e));
    REQUIRE(std::get<shop::order_placed>(current.payload) ==
            shop::order_placed{"ada", std::nullopt, {}, {}});
    REQUIRE(current.schema_version == 2);

    // Without the stored variant the old version is unknown, and the message says what is known.
    REQUIRE_THROWS_WITH(eddy::decode_event<shop::current_events>(json_codec{}, "order_placed", 1,
                                                                 stored_bytes, "order-1", 3),
                        "eddy: unknown event type 'order_placed' schema version 1 (stream "
                        "'order-1', position 3): no alternative of the event variant has this "
                        "type name and schema version (known schema versions of 'order_placed': "
                        "2)");
    REQUIRE_THROWS_WITH(
        eddy::decode_event<shop::current_events>(json_codec{}, "order_lost", 1, "{}", "order-1", 4),
        "eddy: unknown event type 'order_lost' schema version 1 (stream "
        "'order-1', position 4): no alternative of the event variant has this "
        "type name and schema version");
}

TEST_CASE("json_codec: malformed JSON is a decode_error with nlohmann's reason",
          "[json][json_codec]") {
    for (std::string_view bytes :
         {std::string_view(""), std::string_view("{\"customer\":"), std::string_view("{customer}"),
          std::string_view("{\"customer\":\"ada\"} trailing"), std::string_view("\xff\xfe"),
          std::string_view("{\"customer\":\"a\0b\"}", 18)}) {
        eddy::decode_error d = decode_failure("order_placed", 1, bytes);
        REQUIRE(d.type_name() == "order_placed");
        REQUIRE(d.schema_version() == 1);
        REQUIRE(d.stream() == "order-1");
        REQUIRE(d.position() == 5);
        REQUIRE_THAT(d.reason(), Catch::Contains("parse_error"));
        REQUIRE_THAT(d.what(), Catch::StartsWith("eddy: cannot decode event 'order_placed' schema "
                                                 "version 1 (stream 'order-1', position 5): "
                                                 "[json.exception.parse_error."));
    }
}

TEST_CASE("json_codec: deeply nested JSON is a decode_error, not a stack overflow",
          "[json][json_codec]") {
    const std::string deep(300000, '[');
    const std::string nested = deep + std::string(300000, ']');
    REQUIRE(decode_failure("order_placed", 1, nested).reason() ==
            "[json.exception.type_error.304] cannot use at() with array");
    REQUIRE(decode_failure("order_placed", 2,
                           R"({"customer":"a","ship_to":null,"lines":)" + nested + "}")
                .reason() == "[json.exception.type_error.304] cannot use at() with array");
    REQUIRE_THAT(decode_failure("order_placed", 1, deep).reason(), Catch::Contains("parse_error"));
}

TEST_CASE("json_codec: missing members and members of the wrong type", "[json][json_codec]") {
    REQUIRE(decode_failure("order_placed", 1, "{}").reason() ==
            "[json.exception.out_of_range.403] key 'customer' not found");
    REQUIRE(decode_failure("order_placed", 1, R"({"customer":42})").reason() ==
            "[json.exception.type_error.302] type must be string, but is number");
    REQUIRE(std::string(decode_failure("order_placed", 1, R"({"customer":42})").what()) ==
            "eddy: cannot decode event 'order_placed' schema version 1 (stream 'order-1', "
            "position 5): [json.exception.type_error.302] type must be string, but is number");
    REQUIRE(decode_failure("order_placed", 1, "[]").reason() ==
            "[json.exception.type_error.304] cannot use at() with array");
    REQUIRE(decode_failure("order_placed", 1, "null").reason() ==
            "[json.exception.type_error.304] cannot use at() with null");
    // Deep inside: a line's quantity is a string, a vector is an object.
    REQUIRE(decode_failure("order_placed", 2,
                           R"({"customer":"a","ship_to":null,"discounts":[],)"
                           R"("lines":[{"sku":"x","quantity":"3","cents":1}]})")
                .reason() == "[json.exception.type_error.302] type must be number, but is string");
    REQUIRE(decode_failure("order_placed", 2,
                           R"({"customer":"a","ship_to":null,"discounts":[],"lines":{}})")
                .reason() == "[json.exception.type_error.302] type must be array, but is object");
    REQUIRE(decode_failure("order_paid", 1,
                           R"({"payment_id":1,"balance":2,"rate":0.5,"captured":"yes"})")
                .reason() == "[json.exception.type_error.302] type must be boolean, but is string");
    // An event without fields is any object, and only an object.
    REQUIRE(json_codec{}.decode<shop::stored_events>("order_shipped", 1, R"({"note":"x"})") ==
            shop::stored_events(shop::order_shipped{}));
    REQUIRE(decode_failure("order_shipped", 1, "[]").reason() ==
            "[json.exception.type_error.302] type must be object, but is array");
    REQUIRE_THAT(decode_failure("order_shipped", 1, "").reason(), Catch::Contains("parse_error"));
}

TEST_CASE("json_codec: a user's from_json errors", "[json][json_codec]") {
    // A std exception of a hand-written from_json becomes a decode_error with its message.
    REQUIRE(decode_failure("order_rated", 1, R"({"stars":9})").reason() ==
            "stars must be 1..5, got 9");
    // An eddy::error passes through unchanged.
    using vetoable = std::variant<shop::order_vetoed>;
    REQUIRE(json_codec{}.encode(vetoable(shop::order_vetoed{"no"})).bytes == R"({"why":"no"})");
    REQUIRE_THROWS_WITH(json_codec{}.decode<vetoable>("order_vetoed", 1, R"({"why":"no"})"),
                        "vetoed");
}

TEST_CASE("json_codec: a string that is not UTF-8 cannot be encoded", "[json][json_codec]") {
    REQUIRE_THROWS_WITH(json_codec{}.encode(shop::stored_events(shop::order_placed_v1{"a\xff"})),
                        "eddy::json_codec: cannot encode event 'order_placed' schema version 1: "
                        "[json.exception.type_error.316] invalid UTF-8 byte at index 1: 0xFF");
    REQUIRE_THROWS_AS(json_codec{}.encode_value(std::string("\xc3")), eddy::error);
}

TEST_CASE("json_codec: values (snapshots, contexts, payloads)", "[json][json_codec]") {
    const json_codec c;
    const shop::order_state s{
        "Zoë", {{"apple", 3}, {"pear", 4294967295U}}, std::numeric_limits<std::uint64_t>::max()};
    const std::string bytes = c.encode_value(s);
    REQUIRE(bytes == R"({"customer":"Zoë","paid_with":18446744073709551615,)"
                     R"("quantities":{"apple":3,"pear":4294967295}})");
    REQUIRE(c.decode_value<shop::order_state>(bytes) == s);
    REQUIRE(c.decode_value<shop::order_state>(c.encode_value(shop::order_state{})) ==
            shop::order_state{});
    REQUIRE(c.decode_value<std::vector<std::string>>(R"(["a","b"])") ==
            std::vector<std::string>{"a", "b"});
    REQUIRE_THROWS_WITH(c.decode_value<shop::order_state>(R"({"customer":"x","quantities":[]})"),
                        "eddy: cannot decode a value: [json.exception.type_error.302] type must "
                        "be object, but is array");
    REQUIRE_THROWS_AS(c.decode_value<shop::order_state>("{"), eddy::decode_error);
}
