// Tests of the eddy::codec and eddy::value_codec concepts: archetypes that model them and ones
// that miss a member or have the wrong signature; the (name, version) uniqueness check; a small
// line-based text codec (a fake, in this file: the es layer has no codec of its own) that passes
// the conformance suite; encode_event refusing a codec that mislabels an event; decode_event
// letting other errors through untouched.
#include <eddy/es/codec.hpp>

#include <catch2/catch.hpp>

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include <eddy/es/detail/codec_alternatives.hpp>

#include "conformance/codec_suite.hpp"

namespace {

namespace suite = eddy::test::es::codec_suite;

// ---- archetypes of the concepts (declarations only: only the types matter)

struct pinged {
    static constexpr std::string_view event_name = "pinged";
};
struct ponged {
    static constexpr std::string_view event_name = "ponged";
    static constexpr std::uint32_t schema_version = 2;
};
struct pinged_v2 {
    static constexpr std::string_view event_name = "pinged";
    static constexpr std::uint32_t schema_version = 2;
};
struct pinged_again { // same name, same (default) version as pinged
    static constexpr std::string_view event_name = "pinged";
};
using events = std::variant<pinged, ponged>;
struct state {
    int n = 0;
};

struct full_codec {
    template <class Events>
    eddy::encoded_event encode(const Events&) const;
    template <class Events>
    Events decode(std::string_view, std::uint32_t, std::string_view) const;
    template <class T>
    std::string encode_value(const T&) const;
    template <class T>
    T decode_value(std::string_view) const;
};
struct events_only_codec { // a codec of exactly one event variant, no values
    eddy::encoded_event encode(const events&) const;
    template <class Events>
    Events decode(std::string_view, std::uint32_t, std::string_view) const;
};
struct no_decode {
    eddy::encoded_event encode(const events&) const;
};
struct no_encode {
    template <class Events>
    Events decode(std::string_view, std::uint32_t, std::string_view) const;
};
struct encode_returns_bytes { // the name and version must come back beside the bytes
    std::string encode(const events&) const;
    template <class Events>
    Events decode(std::string_view, std::uint32_t, std::string_view) const;
};
struct mutable_encode { // a store calls its codec concurrently: members must be const
    eddy::encoded_event encode(const events&);
    template <class Events>
    Events decode(std::string_view, std::uint32_t, std::string_view) const;
};
struct decode_not_a_template {
    eddy::encoded_event encode(const events&) const;
    events decode(std::string_view, std::uint32_t, std::string_view) const;
};
struct value_returns_vector {
    std::vector<char> encode_value(const state&) const;
    template <class T>
    T decode_value(std::string_view) const;
};

// ---- a line-based text codec: one field per line, then "end"

struct line_reader {
    std::string_view rest;

    std::string_view next() {
        const auto nl = rest.find('\n');
        if (nl == std::string_view::npos) {
            throw std::invalid_argument("truncated payload: expected another line");
        }
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl + 1);
        return line;
    }
    void finish() {
        if (std::string_view last = next(); last != "end" || !rest.empty()) {
            throw std::invalid_argument("expected the end of the payload, found '" +
                                        std::string(last) + "'");
        }
    }
};

void put(std::string& out, const std::string& s) { out.append(s).push_back('\n'); }
template <class I>
    requires std::is_integral_v<I>
void put(std::string& out, I v) { put(out, std::to_string(v)); }
void put(std::string& out, const std::vector<std::string>& v) {
    put(out, v.size());
    for (const std::string& s : v) {
        put(out, s);
    }
}

void get(line_reader& in, std::string& s) { s = std::string(in.next()); }
template <class I>
    requires std::is_integral_v<I>
void get(line_reader& in, I& v) {
    std::string_view line = in.next();
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
    if (ec != std::errc{} || end != line.data() + line.size()) {
        throw std::invalid_argument("not an integer of the field's type: '" + std::string(line) +
                                    "'");
    }
}
void get(line_reader& in, std::vector<std::string>& v) {
    std::size_t n = 0;
    get(in, n);
    v.assign(n, {});
    for (std::string& s : v) {
        get(in, s);
    }
}

auto fields(suite::item_added_v1& e) { return std::tie(e.sku); }
auto fields(suite::item_added& e) { return std::tie(e.sku, e.quantity); }
auto fields(suite::cart_cleared&) { return std::tie(); }
auto fields(suite::cart_checked_out& e) { return std::tie(e.total, e.note); }
auto fields(suite::cart_snapshot& s) { return std::tie(s.skus, s.total); }

struct line_codec {
    template <eddy::event_variant Events>
    eddy::encoded_event encode(const Events& e) const {
        return std::visit(
            [this](const auto& x) {
                using E = std::remove_cvref_t<decltype(x)>;
                return eddy::encoded_event{std::string(eddy::event_name_v<E>),
                                           eddy::event_schema_version_v<E>, this->encode_value(x)};
            },
            e);
    }

    template <eddy::event_variant Events>
    Events decode(std::string_view type_name, std::uint32_t schema_version,
                  std::string_view bytes) const {
        return eddy::detail::decode_alternative<Events>(type_name, schema_version, [&](auto type) {
            try {
                return decode_value<typename decltype(type)::type>(bytes);
            } catch (const eddy::decode_error& d) {
                throw eddy::decode_error(std::string(type_name), schema_version, d.reason());
            }
        });
    }

    template <class T>
    std::string encode_value(const T& value) const {
        T copy = value; // fields() ties mutable members
        std::string out;
        std::apply([&out](const auto&... f) { (put(out, f), ...); }, fields(copy));
        put(out, std::string("end"));
        return out;
    }

    template <class T>
    T decode_value(std::string_view bytes) const {
        T value{};
        line_reader in{bytes};
        try {
            std::apply([&in](auto&... f) { (get(in, f), ...); }, fields(value));
            in.finish();
        } catch (const std::invalid_argument& e) {
            throw eddy::decode_error(e.what());
        }
        return value;
    }
};

// Labels every event "pinged" version 1, whatever it is.
struct mislabelling_codec : line_codec {
    template <eddy::event_variant Events>
    eddy::encoded_event encode(const Events&) const {
        return {"pinged", 1, "end\n"};
    }
};

// Fails with an error that is neither unknown type nor undecodable payload.
struct failing_codec : line_codec {
    template <eddy::event_variant Events>
    Events decode(std::string_view, std::uint32_t, std::string_view) const {
        throw eddy::error("disk on fire");
    }
};

} // namespace

TEST_CASE("codec: the concepts", "[es][codec]") {
    STATIC_REQUIRE(eddy::codec<full_codec, events>);
    STATIC_REQUIRE(eddy::value_codec<full_codec, state>);
    STATIC_REQUIRE(eddy::detail::check_codec<full_codec, events>());
    STATIC_REQUIRE(eddy::detail::check_value_codec<full_codec, state>());
    STATIC_REQUIRE(eddy::codec<events_only_codec, events>);
    STATIC_REQUIRE_FALSE(eddy::codec<events_only_codec, std::variant<pinged>>);
    STATIC_REQUIRE_FALSE(eddy::value_codec<events_only_codec, state>);
    STATIC_REQUIRE_FALSE(eddy::codec<no_decode, events>);
    STATIC_REQUIRE_FALSE(eddy::codec<no_encode, events>);
    STATIC_REQUIRE_FALSE(eddy::codec<encode_returns_bytes, events>);
    STATIC_REQUIRE_FALSE(eddy::codec<mutable_encode, events>);
    STATIC_REQUIRE_FALSE(eddy::codec<decode_not_a_template, events>);
    STATIC_REQUIRE_FALSE(eddy::value_codec<value_returns_vector, state>);
    // The events must be a variant of named events.
    STATIC_REQUIRE_FALSE(eddy::codec<full_codec, pinged>);
    STATIC_REQUIRE_FALSE(eddy::codec<full_codec, std::variant<pinged, state>>);
    STATIC_REQUIRE(eddy::codec<line_codec, suite::stored_events>);
    STATIC_REQUIRE(eddy::value_codec<line_codec, suite::cart_snapshot>);
}

TEST_CASE("codec: alternatives are found by unique (type name, schema version)", "[es][codec]") {
    STATIC_REQUIRE(eddy::detail::has_unique_event_keys<std::variant<pinged, pinged_v2, ponged>>());
    STATIC_REQUIRE_FALSE(eddy::detail::has_unique_event_keys<std::variant<pinged, pinged_again>>());

    using both = std::variant<pinged, pinged_v2, ponged>;
    std::vector<std::size_t> made;
    auto make = [&made](auto type) {
        using E = typename decltype(type)::type;
        made.push_back(both(E{}).index());
        return E{};
    };
    REQUIRE(eddy::detail::decode_alternative<both>("pinged", 2, make).index() == 1);
    REQUIRE(eddy::detail::decode_alternative<both>("pinged", 1, make).index() == 0);
    REQUIRE(eddy::detail::decode_alternative<both>("ponged", 2, make).index() == 2);
    REQUIRE(made == std::vector<std::size_t>{1, 0, 2}); // exactly one alternative made each time
    REQUIRE_THROWS_WITH(eddy::detail::decode_alternative<both>("pinged", 3, make),
                        "eddy: unknown event type 'pinged' schema version 3: no alternative of "
                        "the event variant has this type name and schema version (known schema "
                        "versions of 'pinged': 1, 2)");
    REQUIRE_THROWS_WITH(eddy::detail::decode_alternative<both>("Pinged", 1, make),
                        "eddy: unknown event type 'Pinged' schema version 1: no alternative of "
                        "the event variant has this type name and schema version");
    REQUIRE(made.size() == 3);
}

TEST_CASE("codec: a line-based fake codec passes the conformance suite", "[es][codec]") {
    suite::codec_conformance(line_codec{});
}

TEST_CASE("codec: the fake codec's bytes are what it says", "[es][codec]") {
    eddy::encoded_event e =
        eddy::encode_event(line_codec{}, suite::stored_events(suite::item_added{"pear", 2}));
    REQUIRE(e == eddy::encoded_event{"item_added", 2, "pear\n2\nend\n"});
    REQUIRE_THROWS_WITH(
        line_codec{}.decode<suite::stored_events>("item_added", 2, "pear\nx\nend\n"),
        "eddy: cannot decode event 'item_added' schema version 2: not an integer "
        "of the field's type: 'x'");
}

TEST_CASE("codec: encode_event refuses an event labelled with another name or version",
          "[es][codec]") {
    const mislabelling_codec c;
    REQUIRE(eddy::encode_event(c, events(pinged{})).type_name == "pinged");
    REQUIRE_THROWS_WITH(eddy::encode_event(c, events(ponged{})),
                        "eddy::encode_event: the codec encoded an event 'ponged' schema version 2 "
                        "as 'pinged' schema version 1");
}

TEST_CASE("codec: decode_event passes other errors through unchanged", "[es][codec]") {
    const failing_codec c;
    REQUIRE_THROWS_WITH(eddy::decode_event<events>(c, "pinged", 1, "end\n", "s", 1),
                        "disk on fire");
}
