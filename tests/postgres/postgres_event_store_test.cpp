// Tests of eddy::postgres_event_store on a throwaway server (scripts/test): the event_store and
// stream metadata conformance suites, each check on a fresh schema; payloads and metadata
// readable with SQL; events surviving a new storage; paging; streams outliving the store;
// decode errors naming the row; bad schema names.
#include <eddy/postgres/postgres_event_store.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/core/error.hpp>
#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/es/decode_error.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/stream/to_vector.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <postgres/pg_test_schema.hpp>
#include <support/event_store_suite_json.hpp>

namespace {

using eddy::test::es::added;
using eddy::test::es::conformance_events;
using eddy::test::es::envelope;
using eddy::test::postgres::admin;
using eddy::test::postgres::conninfo;
using eddy::test::postgres::fresh_schema;
using store_type = eddy::postgres_event_store<conformance_events>;

// A store in a fresh schema, dropped with the store (idle connections hold no lock on it).
struct owned_store : store_type {
    owned_store(std::shared_ptr<fresh_schema> s, eddy::postgres_storage db)
        : store_type(std::move(db)), schema(std::move(s)) {}
    std::shared_ptr<fresh_schema> schema;
};

std::unique_ptr<owned_store> fresh(eddy::inline_scheduler& s) {
    auto schema = std::make_shared<fresh_schema>();
    eddy::postgres_storage db(conninfo(), s, schema->options(2));
    return std::make_unique<owned_store>(schema, std::move(db));
}

} // namespace

TEST_CASE("postgres_event_store passes the event_store conformance suite",
          "[postgres][postgres_event_store]") {
    eddy::inline_scheduler inline_s;
    eddy::test::es::event_store_conformance([&] { return fresh(inline_s); });
}

TEST_CASE("postgres_event_store passes the stream metadata conformance suite",
          "[postgres][postgres_event_store]") {
    eddy::inline_scheduler inline_s;
    eddy::test::es::stream_metadata_conformance([&] { return fresh(inline_s); });
}

TEST_CASE("postgres_event_store: payloads and metadata are columns, readable with SQL",
          "[postgres][postgres_event_store]") {
    eddy::inline_scheduler s;
    fresh_schema schema;
    store_type store(eddy::postgres_storage(conninfo(), s, schema.options(2)));
    eddy::event_metadata md;
    md.correlation_id = "c-9";
    md.headers.set("k", "v");
    eddy::sync_wait(
        store.append("cart-1", eddy::expected_version::no_stream(),
                     {eddy::test::es::proposed(eddy::test::es::item_added{"pear", 3}, md)}));
    const std::string table = "\"" + schema.name() + "\".events";
    REQUIRE(admin("SELECT convert_from(payload, 'UTF8') FROM " + table) ==
            R"({"quantity":3,"sku":"pear"})");
    REQUIRE(admin("SELECT type_name || '/' || schema_version || '/' || stream_id || '/' || "
                  "stream_version || '/' || position || '/' || correlation_id || '/' || "
                  "headers::text FROM " +
                  table) == R"(item_added/1/cart-1/1/1/c-9/{"k": "v"})");
    // The row keeps the id of the transaction that wrote it.
    REQUIRE(admin("SELECT xid::text::bigint > 0 FROM " + table) == "t");
    REQUIRE(admin("SELECT version FROM \"" + schema.name() + "\".schema_version") ==
            std::to_string(eddy::detail::pg_schema_version));
}

TEST_CASE("postgres_event_store: events survive the storage; a new one continues",
          "[postgres][postgres_event_store]") {
    eddy::inline_scheduler s;
    fresh_schema schema;
    std::vector<envelope> before;
    {
        store_type store(eddy::postgres_storage(conninfo(), s, schema.options(2)));
        eddy::sync_wait(
            store.append("a", eddy::expected_version::no_stream(), {added("1", 1), added("2", 2)}));
        eddy::sync_wait(store.append("b", eddy::expected_version::no_stream(), {added("3", 3)}));
        before = eddy::sync_wait(eddy::to_vector(store.read_all(1)));
    }
    store_type again(eddy::postgres_storage(conninfo(), s, schema.options(2)));
    REQUIRE(eddy::sync_wait(eddy::to_vector(again.read_all(1))) == before);
    REQUIRE(eddy::sync_wait(again.append("a", eddy::expected_version::exact(2), {added("4", 4)})) ==
            eddy::append_result{3, 4, 4});
}

TEST_CASE("postgres_event_store: reads page through a stream longer than one query",
          "[postgres][postgres_event_store]") {
    eddy::inline_scheduler s;
    auto store = fresh(s);
    std::vector<eddy::test::es::proposed> batch;
    batch.reserve(600);
    for (int i = 0; i < 600; ++i) {
        batch.push_back(added("x", i));
    }
    REQUIRE(eddy::sync_wait(store->append("long", eddy::expected_version::no_stream(), batch)) ==
            eddy::append_result{600, 1, 600});
    std::vector<envelope> events = eddy::sync_wait(eddy::to_vector(store->read_stream("long", 2)));
    REQUIRE(events.size() == 599);
    for (std::size_t i = 0; i < events.size(); ++i) {
        REQUIRE(events[i].stream_version == i + 2);
        REQUIRE(std::get<eddy::test::es::item_added>(events[i].payload).quantity ==
                static_cast<int>(i) + 1);
    }
    REQUIRE(eddy::sync_wait(eddy::to_vector(store->read_all(300))).size() == 301);
}

TEST_CASE("postgres_event_store: streams outlive the store and storage objects",
          "[postgres][postgres_event_store]") {
    eddy::inline_scheduler s;
    fresh_schema schema;
    eddy::stream<envelope> later;
    {
        store_type store(eddy::postgres_storage(conninfo(), s, schema.options(2)));
        eddy::sync_wait(store.append("a", eddy::expected_version::any(), {added("1", 1)}));
        later = store.read_stream("a", 1);
    } // the stream keeps the storage (its thread and connections) alive
    auto events = eddy::sync_wait(eddy::to_vector(std::move(later)));
    REQUIRE(events.size() == 1);
    REQUIRE(std::get<eddy::test::es::item_added>(events[0].payload).sku == "1");
}

TEST_CASE("postgres_event_store: a row the codec cannot decode is an error naming it",
          "[postgres][postgres_event_store]") {
    eddy::inline_scheduler s;
    fresh_schema schema;
    store_type store(eddy::postgres_storage(conninfo(), s, schema.options(2)));
    eddy::sync_wait(store.append("bad", eddy::expected_version::no_stream(), {added("1", 1)}));
    admin("UPDATE \"" + schema.name() +
          "\".events SET payload = convert_to('{\"sku\":1}', 'UTF8')");
    try {
        eddy::sync_wait(eddy::to_vector(store.read_stream("bad", 1)));
        FAIL("no decode_error");
    } catch (const eddy::decode_error& e) {
        REQUIRE_THAT(e.what(), Catch::Contains("bad"));
    }
}

TEST_CASE("postgres_event_store: a schema name that is not a plain identifier is an error",
          "[postgres][postgres_event_store]") {
    eddy::inline_scheduler s;
    for (const char* bad : {"", "Orders", "a b", "x\"; DROP TABLE y; --", "1abc",
                            "a-very-long-name-that-goes-well-beyond-the-sixty-three-bytes-limit"}) {
        eddy::postgres_options o;
        o.schema = bad;
        CAPTURE(bad);
        REQUIRE_THROWS_WITH(eddy::postgres_storage(conninfo(), s, o),
                            Catch::Contains("not a plain lower-case identifier"));
    }
}
