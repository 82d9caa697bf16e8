// The whole path a byte store (SQLite, PostgreSQL) and a broker take, on a fake in-memory store
// of rows written only through the codec concepts: events -> (type name, schema version, bytes)
// rows -> events. Rows outlive application versions: events one version of the application
// wrote are read by the next through its stored variant and the upcaster; a row another service
// wrote (unknown type) and a damaged row are clear errors naming the place, and a reader can
// skip unknown types on purpose; snapshots go through the value codec.
#include <eddy/json/json_codec.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/es/codec.hpp>
#include <eddy/es/decode_error.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/es/unknown_event_type.hpp>
#include <eddy/es/upcaster.hpp>

namespace {

// ---- a byte store: what SQLite will keep, one row per event

struct row {
    std::string stream_id;
    std::uint64_t stream_version = 0;
    std::uint64_t global_position = 0;
    std::string type_name;
    std::uint32_t schema_version = 0;
    std::string bytes;
};

template <class Codec>
class byte_store {
public:
    explicit byte_store(Codec codec) : m_codec(std::move(codec)) {}

    template <eddy::event_variant Events>
    void append(const std::string& stream_id, const std::vector<Events>& events) {
        static_assert(eddy::codec<Codec, Events>);
        for (const Events& e : events) {
            eddy::encoded_event encoded = eddy::encode_event(m_codec, e);
            m_rows.push_back(row{stream_id, ++m_versions[stream_id], m_rows.size() + 1,
                                 std::move(encoded.type_name), encoded.schema_version,
                                 std::move(encoded.bytes)});
        }
    }

    template <eddy::event_variant Events>
    std::vector<eddy::event_envelope<Events>> read_all(bool skip_unknown = false) const {
        std::vector<eddy::event_envelope<Events>> out;
        for (const row& r : m_rows) {
            eddy::event_envelope<Events> e{};
            e.stream_id = r.stream_id;
            e.stream_version = r.stream_version;
            e.global_position = r.global_position;
            e.type_name = r.type_name;
            e.schema_version = r.schema_version;
            try {
                e.payload = eddy::decode_event<Events>(m_codec, r.type_name, r.schema_version,
                                                       r.bytes, r.stream_id, r.global_position);
            } catch (const eddy::unknown_event_type&) {
                if (skip_unknown) {
                    continue; // a configured skip; a damaged payload is never skipped
                }
                throw;
            }
            out.push_back(std::move(e));
        }
        return out;
    }

    template <class State>
    void save_snapshot(const std::string& stream_id, const State& s) {
        static_assert(eddy::value_codec<Codec, State>);
        m_snapshots[stream_id] = m_codec.encode_value(s);
    }

    template <class State>
    std::optional<State> load_snapshot(const std::string& stream_id) const {
        auto it = m_snapshots.find(stream_id);
        if (it == m_snapshots.end()) {
            return std::nullopt;
        }
        return m_codec.template decode_value<State>(it->second);
    }

    std::vector<row>& rows() { return m_rows; } // what an ordinary SQL tool sees

private:
    Codec m_codec;
    std::vector<row> m_rows;
    std::map<std::string, std::uint64_t> m_versions;
    std::map<std::string, std::string> m_snapshots;
};

// ---- the application's events, over two versions of it

struct account_opened_v1 {
    static constexpr std::string_view event_name = "account_opened";
    std::string owner;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(account_opened_v1, owner)

struct account_opened {
    static constexpr std::string_view event_name = "account_opened";
    static constexpr std::uint32_t schema_version = 2;
    std::string owner;
    std::string currency;
    friend bool operator==(const account_opened&, const account_opened&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(account_opened, owner, currency)

struct deposited {
    static constexpr std::string_view event_name = "deposited";
    std::uint64_t cents = 0;
    friend bool operator==(const deposited&, const deposited&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(deposited, cents)

struct account_closed {
    static constexpr std::string_view event_name = "account_closed";
    friend bool operator==(const account_closed&, const account_closed&) = default;
};

struct balance {
    std::string owner;
    std::uint64_t cents = 0;
    friend bool operator==(const balance&, const balance&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(balance, owner, cents)

// Version 1 of the application knew only these.
using app_v1_events = std::variant<account_opened_v1, deposited>;
// Version 2 reads everything ever stored, and handles the current types.
using stored_events = std::variant<account_opened_v1, account_opened, deposited, account_closed>;
using current_events = std::variant<account_opened, deposited, account_closed>;

eddy::upcaster<stored_events, current_events> upcaster() {
    eddy::upcaster<stored_events, current_events> up;
    up.add<account_opened_v1, account_opened>([](account_opened_v1 e) {
        return account_opened{e.owner, "EUR"};
    });
    return up;
}

std::vector<current_events> current(const std::vector<eddy::event_envelope<stored_events>>& in) {
    auto up = upcaster();
    std::vector<current_events> out;
    for (const auto& e : in) {
        out.push_back(up.upcast(e).payload);
    }
    return out;
}

} // namespace

TEST_CASE("byte store: events -> rows of bytes -> events, across application versions",
          "[json][byte_store]") {
    byte_store<eddy::json_codec> store{eddy::json_codec{}};
    store.append<app_v1_events>("acc-1", {account_opened_v1{"Ada"}, deposited{500}});
    store.append<current_events>("acc-2", {account_opened{"Grace", "USD"}, deposited{7}});
    store.append<current_events>("acc-1", {deposited{18446744073709551615ULL}, account_closed{}});

    // The rows hold plain JSON beside the name and version columns.
    const std::vector<row>& rows = store.rows();
    REQUIRE(rows.size() == 6);
    REQUIRE(rows[0].type_name == "account_opened");
    REQUIRE(rows[0].schema_version == 1);
    REQUIRE(rows[0].bytes == R"({"owner":"Ada"})");
    REQUIRE(rows[2].schema_version == 2);
    REQUIRE(rows[2].bytes == R"({"currency":"USD","owner":"Grace"})");
    REQUIRE(rows[4].bytes == R"({"cents":18446744073709551615})");
    REQUIRE(rows[5].type_name == "account_closed");
    REQUIRE(rows[5].bytes == "{}");

    std::vector<eddy::event_envelope<stored_events>> read = store.read_all<stored_events>();
    REQUIRE(read.size() == 6);
    REQUIRE(read[4].stream_id == "acc-1");
    REQUIRE(read[4].stream_version == 3);
    REQUIRE(read[4].global_position == 5);
    REQUIRE(std::holds_alternative<account_opened_v1>(read[0].payload));
    REQUIRE(current(read) ==
            std::vector<current_events>{account_opened{"Ada", "EUR"}, deposited{500},
                                        account_opened{"Grace", "USD"}, deposited{7},
                                        deposited{18446744073709551615ULL}, account_closed{}});

    // The old application still reads what it knows... and stops, loudly, at what it does not.
    byte_store<eddy::json_codec> old_store{eddy::json_codec{}};
    old_store.append<app_v1_events>("acc-1", {account_opened_v1{"Ada"}});
    REQUIRE(old_store.read_all<app_v1_events>().size() == 1);
    REQUIRE_THROWS_WITH(store.read_all<app_v1_events>(),
                        "eddy: unknown event type 'account_opened' schema version 2 (stream "
                        "'acc-2', position 3): no alternative of the event variant has this type "
                        "name and schema version (known schema versions of 'account_opened': 1)");
}

TEST_CASE("byte store: a foreign row and a damaged row", "[json][byte_store]") {
    byte_store<eddy::json_codec> store{eddy::json_codec{}};
    store.append<current_events>("acc-1", {account_opened{"Ada", "EUR"}, deposited{1}});
    // Another service wrote into the same table.
    store.rows().push_back(row{"acc-9", 1, 3, "loyalty_points_granted", 1, R"({"points":3})"});
    REQUIRE_THROWS_MATCHES(
        store.read_all<stored_events>(), eddy::unknown_event_type,
        Catch::Matchers::Predicate<eddy::unknown_event_type>([](const eddy::unknown_event_type& u) {
            return u.type_name() == "loyalty_points_granted" && u.schema_version() == 1 &&
                   u.stream() == "acc-9" && u.position() == 3;
        }));
    REQUIRE(store.read_all<stored_events>(/*skip_unknown=*/true).size() == 2);

    // Somebody edited a row by hand.
    store.rows()[1].bytes = R"({"cents":"1"})";
    REQUIRE_THROWS_WITH(store.read_all<stored_events>(true),
                        "eddy: cannot decode event 'deposited' schema version 1 (stream 'acc-1', "
                        "position 2): [json.exception.type_error.302] type must be number, but "
                        "is string");
    store.rows()[1].bytes = R"({"cents":)";
    REQUIRE_THROWS_AS(store.read_all<stored_events>(true), eddy::decode_error);
}

TEST_CASE("byte store: snapshots through the value codec", "[json][byte_store]") {
    byte_store<eddy::json_codec> store{eddy::json_codec{}};
    REQUIRE(store.load_snapshot<balance>("acc-1") == std::nullopt);
    store.save_snapshot("acc-1", balance{"Ada", 18446744073709551615ULL});
    REQUIRE(store.load_snapshot<balance>("acc-1") == balance{"Ada", 18446744073709551615ULL});
}
