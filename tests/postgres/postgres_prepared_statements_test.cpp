// Tests of how eddy::postgres_storage sends its own statements (a throwaway server,
// scripts/test): each is prepared once per connection and then executed by name (in a rolled
// back transaction too: a prepared statement outlives it), the user's SQL never is; after the
// user's DEALLOCATE ALL or DISCARD ALL, or a new session (a dropped connection), eddy prepares
// again and nothing fails. pg_prepared_statements is per session: with a pool of one
// connection, the user's query reads the session eddy's statements ran in.
#include <eddy/postgres/postgres_storage.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/es/append_result.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/postgres/postgres_event_store.hpp>
#include <eddy/stream/to_vector.hpp>

#include <postgres/pg_test_schema.hpp>

namespace {

struct noted {
    static constexpr std::string_view event_name = "noted";
    std::string text;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(noted, text)
using note_events = std::variant<noted>;

using eddy::test::postgres::admin;
using eddy::test::postgres::conninfo;
using eddy::test::postgres::fresh_schema;

struct fixture {
    explicit fixture(eddy::inline_scheduler& s) : storage(conninfo(), s, schema.options(1)) {}
    fresh_schema schema;
    eddy::postgres_storage storage;
    eddy::postgres_event_store<note_events> events{storage};

    // The statements prepared in the pool's session (the user's query itself is not).
    std::int64_t prepared() {
        const std::vector<eddy::postgres_row> rows = eddy::sync_wait(
            storage.query("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'eddy%'"));
        return rows.at(0).integer(0);
    }
    eddy::append_result append(std::string stream, eddy::expected_version expected,
                               std::string text) {
        std::vector<eddy::proposed_event<note_events>> batch;
        batch.emplace_back(noted{std::move(text)});
        return eddy::sync_wait(events.append(std::move(stream), expected, std::move(batch)));
    }
    // `n` events to a new stream.
    eddy::append_result append_many(std::string stream, int n) {
        std::vector<eddy::proposed_event<note_events>> batch;
        for (int i = 0; i < n; ++i) {
            batch.emplace_back(noted{std::to_string(i)});
        }
        return eddy::sync_wait(events.append(std::move(stream), eddy::expected_version::no_stream(),
                                             std::move(batch)));
    }
};

} // namespace

TEST_CASE("postgres_storage: eddy's statements are prepared once per connection, then reused",
          "[postgres][postgres_group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    REQUIRE(f.prepared() == 0);
    // An append without event ids: lock the stream's row, set its version, take the positions,
    // insert the event.
    REQUIRE(f.append("a", eddy::expected_version::no_stream(), "1") ==
            eddy::append_result{1, 1, 1});
    REQUIRE(f.prepared() == 4);
    REQUIRE(f.append("b", eddy::expected_version::no_stream(), "2") ==
            eddy::append_result{1, 2, 2});
    REQUIRE(f.prepared() == 4);
    // A conflict rolls its transaction back; the statements it used stay prepared.
    REQUIRE_THROWS_AS(f.append("a", eddy::expected_version::no_stream(), "x"),
                      eddy::concurrency_conflict);
    REQUIRE(f.prepared() == 4);
    REQUIRE(f.append("a", eddy::expected_version::exact(1), "3") == eddy::append_result{2, 3, 3});
    REQUIRE(f.prepared() == 4);
    // Reads are prepared too: read_stream's statement, then read_all's.
    REQUIRE(eddy::sync_wait(eddy::to_vector(f.events.read_stream("a"))).size() == 2);
    REQUIRE(f.prepared() == 5);
    REQUIRE(eddy::sync_wait(eddy::to_vector(f.events.read_all(1))).size() == 3);
    REQUIRE(eddy::sync_wait(eddy::to_vector(f.events.read_all(2))).size() == 2);
    REQUIRE(f.prepared() == 6);
    // An insert of up to 16 rows is prepared (one text per row count), a larger one is not.
    REQUIRE(f.append_many("c", 16) == eddy::append_result{16, 4, 19});
    REQUIRE(f.prepared() == 7);
    REQUIRE(f.append_many("d", 17) == eddy::append_result{17, 20, 36});
    REQUIRE(f.prepared() == 7);
    REQUIRE(eddy::sync_wait(eddy::to_vector(f.events.read_all(1))).size() == 36);
}

TEST_CASE("postgres_storage: after the user's DEALLOCATE ALL or DISCARD ALL eddy prepares again",
          "[postgres][postgres_group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    REQUIRE(f.append("a", eddy::expected_version::no_stream(), "1") ==
            eddy::append_result{1, 1, 1});
    REQUIRE(f.prepared() == 4);
    REQUIRE(eddy::sync_wait(f.storage.execute("DEALLOCATE ALL")) == 0);
    REQUIRE(f.prepared() == 0);
    REQUIRE(f.append("a", eddy::expected_version::exact(1), "2") == eddy::append_result{2, 2, 2});
    REQUIRE(f.prepared() == 4);
    REQUIRE(eddy::sync_wait(f.storage.execute("discard all")) == 0);
    REQUIRE(f.prepared() == 0);
    REQUIRE(f.append("a", eddy::expected_version::exact(2), "3") == eddy::append_result{3, 3, 3});
    REQUIRE(f.prepared() == 4);
    // The session's settings came back with DISCARD ALL: unqualified names are still the
    // schema's.
    REQUIRE(eddy::sync_wait(f.storage.query("SELECT count(*) FROM events")).at(0).integer(0) == 3);
    // One statement dropped (the stream version's update: names are never reused, so the
    // third append's statements are eddy_9 to eddy_12): eddy forgets them all and prepares its
    // statements again under new names (the other three stay in the session).
    REQUIRE(eddy::sync_wait(f.storage.execute("DEALLOCATE eddy_10")) == 0);
    REQUIRE(f.prepared() == 3);
    REQUIRE(f.append("a", eddy::expected_version::exact(3), "4") == eddy::append_result{4, 4, 4});
    REQUIRE(f.prepared() == 7);
    REQUIRE(f.append("a", eddy::expected_version::exact(4), "5") == eddy::append_result{5, 5, 5});
    REQUIRE(f.prepared() == 7);
}

TEST_CASE("postgres_storage: a new session (the server dropped the connection) prepares again",
          "[postgres][postgres_group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    REQUIRE(f.append("a", eddy::expected_version::no_stream(), "1") ==
            eddy::append_result{1, 1, 1});
    // The pool's connection and the listener, as an operator would, waiting until both are gone.
    REQUIRE(admin("SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
                  "WHERE application_name = 'eddy (" +
                  f.schema.name() + ")'") == "2");
    REQUIRE(f.append("a", eddy::expected_version::exact(1), "2") == eddy::append_result{2, 2, 2});
    REQUIRE(f.prepared() == 4);
    REQUIRE(f.append("b", eddy::expected_version::no_stream(), "3") ==
            eddy::append_result{1, 3, 3});
    REQUIRE(f.prepared() == 4);
}

TEST_CASE("postgres_storage: a statement that fails to prepare fails its unit with the server's "
          "error",
          "[postgres][postgres_group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    REQUIRE(f.append("a", eddy::expected_version::no_stream(), "1") ==
            eddy::append_result{1, 1, 1});
    // read_stream's statement is not prepared yet; its table is gone.
    admin("ALTER TABLE \"" + f.schema.name() + "\".streams RENAME TO streams_away");
    try {
        (void)eddy::sync_wait(eddy::to_vector(f.events.read_stream("a")));
        FAIL("read_stream did not throw");
    } catch (const eddy::postgres_error& e) {
        REQUIRE(e.sqlstate() == "42P01"); // undefined_table
    }
    REQUIRE(f.prepared() == 4);
    admin("ALTER TABLE \"" + f.schema.name() + "\".streams_away RENAME TO streams");
    REQUIRE(eddy::sync_wait(eddy::to_vector(f.events.read_stream("a"))).size() == 1);
    REQUIRE(f.prepared() == 5);
    REQUIRE(f.append("a", eddy::expected_version::exact(1), "2") == eddy::append_result{2, 2, 2});
}
