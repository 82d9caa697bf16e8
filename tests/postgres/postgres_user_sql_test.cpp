// Tests of the user's own SQL on eddy::postgres_storage (a throwaway server, scripts/test): a
// read model's rows written by a unit of work commit with its events or not at all (a failing
// append rolls them back, a failing statement rolls the events back); values of every kind
// round-trip; unqualified names are the storage's schema's; the parameter count is checked
// (literals, comments and dollar quotes do not count); errors are clear.
#include <eddy/postgres/postgres_storage.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/postgres/postgres_error.hpp>
#include <eddy/postgres/postgres_event_store.hpp>
#include <eddy/postgres/postgres_row.hpp>
#include <eddy/postgres/postgres_value.hpp>
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
    explicit fixture(eddy::inline_scheduler& s) : storage(conninfo(), s, schema.options(2)) {
        eddy::sync_wait(storage.execute("CREATE TABLE notes (id text PRIMARY KEY, n bigint)"));
    }
    fresh_schema schema;
    eddy::postgres_storage storage;
    eddy::postgres_event_store<note_events> events{storage};

    std::vector<eddy::postgres_row> notes() {
        return eddy::sync_wait(storage.query("SELECT id, n FROM notes ORDER BY id"));
    }
    std::size_t event_count() {
        return eddy::sync_wait(eddy::to_vector(events.read_all(1))).size();
    }
};

eddy::proposed_event<note_events> note(std::string text) {
    return eddy::proposed_event<note_events>(noted{std::move(text)});
}

eddy::postgres_row row(std::vector<eddy::postgres_value> v) {
    return eddy::postgres_row(std::move(v));
}

} // namespace

TEST_CASE("postgres_storage: the user's SQL in a unit commits with its events, or nothing",
          "[postgres][postgres_user_sql]") {
    eddy::inline_scheduler s;
    fixture f(s);

    eddy::postgres_unit_of_work unit = f.storage.begin();
    f.events.append(unit, "a", eddy::expected_version::no_stream(), {note("one")});
    unit.execute("INSERT INTO notes VALUES ($1, $2)", {"a", std::int64_t{1}});
    unit.execute("UPDATE notes SET n = n + $1 WHERE id = $2", {std::int64_t{10}, "a"});
    REQUIRE(unit.size() == 3);
    eddy::sync_wait(f.storage.commit(std::move(unit)));
    REQUIRE(f.notes() == std::vector{row({"a", std::int64_t{11}})});
    REQUIRE(f.event_count() == 1);

    // A failing append (the stream exists) rolls back the rows written before and after it.
    eddy::postgres_unit_of_work conflicting = f.storage.begin();
    conflicting.execute("INSERT INTO notes VALUES ($1, $2)", {"b", std::int64_t{2}});
    f.events.append(conflicting, "a", eddy::expected_version::no_stream(), {note("two")});
    conflicting.execute("DELETE FROM notes WHERE id = $1", {"a"});
    REQUIRE_THROWS_AS(eddy::sync_wait(f.storage.commit(std::move(conflicting))),
                      eddy::concurrency_conflict);
    REQUIRE(f.notes() == std::vector{row({"a", std::int64_t{11}})});
    REQUIRE(f.event_count() == 1);

    // A failing statement (a duplicate key) rolls back the unit's events.
    eddy::postgres_unit_of_work duplicate = f.storage.begin();
    f.events.append(duplicate, "b", eddy::expected_version::no_stream(), {note("three")});
    duplicate.execute("INSERT INTO notes VALUES ($1, $2)", {"a", std::int64_t{3}});
    try {
        eddy::sync_wait(f.storage.commit(std::move(duplicate)));
        FAIL("no postgres_error");
    } catch (const eddy::postgres_error& e) {
        REQUIRE(e.sqlstate() == "23505"); // unique_violation
    }
    REQUIRE(f.notes() == std::vector{row({"a", std::int64_t{11}})});
    REQUIRE(f.event_count() == 1);
    REQUIRE(eddy::sync_wait(eddy::to_vector(f.events.read_stream("b", 1))).empty());

    // The storage's connections are fine afterwards.
    eddy::postgres_unit_of_work next = f.storage.begin();
    f.events.append(next, "b", eddy::expected_version::no_stream(), {note("four")});
    next.execute("INSERT INTO notes VALUES ($1, NULL)", {"b"});
    eddy::sync_wait(f.storage.commit(std::move(next)));
    REQUIRE(f.notes() == std::vector{row({"a", std::int64_t{11}}), row({"b", nullptr})});
    REQUIRE(f.event_count() == 2);
}

TEST_CASE("postgres_storage: values of every kind round-trip through the user's SQL",
          "[postgres][postgres_user_sql]") {
    eddy::inline_scheduler s;
    fixture f(s);
    REQUIRE(eddy::sync_wait(f.storage.execute(
                "CREATE TABLE kinds (k integer PRIMARY KEY, i bigint, d double precision, t text, "
                "b boolean, num numeric, small smallint, r real)")) == 0);
    const std::int64_t low = std::numeric_limits<std::int64_t>::min();
    const std::int64_t high = std::numeric_limits<std::int64_t>::max();
    const std::string odd = "it's a \"quote\", a \\backslash, $1, \xc3\xa9t\xc3\xa9";
    eddy::postgres_unit_of_work unit = f.storage.begin();
    unit.execute("INSERT INTO kinds VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                 {std::int64_t{1}, low, 0.1, odd, std::int64_t{1}, "12345678901234567890.5",
                  std::int64_t{-7}, 0.5});
    unit.execute("INSERT INTO kinds VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                 {std::int64_t{2}, high, -1e300, "", "false", nullptr, nullptr, nullptr});
    unit.execute("INSERT INTO kinds (k) VALUES ($1)", {std::int64_t{3}});
    eddy::sync_wait(f.storage.commit(std::move(unit)));

    const auto rows = eddy::sync_wait(f.storage.query("SELECT * FROM kinds ORDER BY k"));
    REQUIRE(rows.size() == 3);
    REQUIRE(rows[0] == row({std::int64_t{1}, low, 0.1, odd, std::int64_t{1},
                            "12345678901234567890.5", std::int64_t{-7}, 0.5}));
    REQUIRE(rows[1] ==
            row({std::int64_t{2}, high, -1e300, "", std::int64_t{0}, nullptr, nullptr, nullptr}));
    REQUIRE(rows[2] ==
            row({std::int64_t{3}, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}));
    REQUIRE(rows[0].integer(1) == low);
    REQUIRE(rows[0].real(2) == 0.1);
    REQUIRE(rows[0].text(3) == odd);
    REQUIRE(rows[2].is_null(1));
    REQUIRE_FALSE(rows[0].is_null(1));

    // Parameters in queries, computed columns, and the changed-row count of execute.
    const auto sums = eddy::sync_wait(f.storage.query(
        "SELECT count(*), sum(i)::text, $1::float8 * 2, $2::bigint + 1 FROM kinds WHERE k < $3",
        {1.25, std::int64_t{41}, std::int64_t{3}}));
    REQUIRE(sums == std::vector{row({std::int64_t{2}, "-1", 2.5, std::int64_t{42}})});
    REQUIRE(eddy::sync_wait(f.storage.execute("UPDATE kinds SET t = $1 WHERE k >= $2",
                                              {"x", std::int64_t{2}})) == 2);
    REQUIRE(eddy::sync_wait(
                f.storage.execute("DELETE FROM kinds WHERE k = $1", {std::int64_t{9}})) == 0);
}

TEST_CASE("postgres_storage: the user's unqualified names are the storage's schema's",
          "[postgres][postgres_user_sql]") {
    eddy::inline_scheduler s;
    fixture f(s);
    REQUIRE(admin("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" +
                  f.schema.name() + "' AND table_name = 'notes'") == "1");
    // Another storage (schema) has a table of that name of its own.
    fresh_schema other_schema;
    eddy::postgres_storage other(conninfo(), s, other_schema.options(2));
    eddy::sync_wait(other.execute("CREATE TABLE notes (id text PRIMARY KEY, n bigint)"));
    eddy::sync_wait(other.execute("INSERT INTO notes VALUES ($1, $2)", {"z", std::int64_t{26}}));
    REQUIRE(f.notes().empty());
    REQUIRE(eddy::sync_wait(other.query("SELECT id, n FROM notes")) ==
            std::vector{row({"z", std::int64_t{26}})});
    // eddy's own tables are reachable by the user's SQL too.
    REQUIRE(eddy::sync_wait(f.storage.query("SELECT count(*) FROM events")) ==
            std::vector{row({std::int64_t{0}})});
}

TEST_CASE("postgres_storage: a wrong parameter count, bad SQL and wrong reads are clear errors",
          "[postgres][postgres_user_sql]") {
    eddy::inline_scheduler s;
    fixture f(s);

    // $n in literals, quoted names, comments and dollar quotes is not a parameter.
    REQUIRE(eddy::sync_wait(f.storage.query(
                "SELECT '$2 it''s', $1::bigint AS \"$3\", E'\\' $4', $$ $5 $$, $q$ $6 $q$ -- $7\n"
                "/* $8 /* $9 */ */",
                {std::int64_t{5}})) ==
            std::vector{row({"$2 it's", std::int64_t{5}, "' $4", " $5 ", " $6 "})});

    REQUIRE_THROWS_WITH(
        eddy::sync_wait(f.storage.query("SELECT id FROM notes WHERE id = $1 AND n = $2", {"a"})),
        "eddy::postgres: \"SELECT id FROM notes WHERE id = $1 AND n = $2\" takes 2 parameters "
        "($1..$n), 1 given");
    REQUIRE_THROWS_WITH(eddy::sync_wait(f.storage.execute("DELETE FROM notes", {"a"})),
                        Catch::Contains("takes 0 parameters ($1..$n), 1 given"));

    eddy::postgres_unit_of_work unit = f.storage.begin();
    f.events.append(unit, "a", eddy::expected_version::no_stream(), {note("one")});
    unit.execute("INSERT INTO notes VALUES ($1, $2)", {"a"});
    REQUIRE_THROWS_WITH(eddy::sync_wait(f.storage.commit(std::move(unit))),
                        Catch::Contains("takes 2 parameters ($1..$n), 1 given"));
    REQUIRE(f.event_count() == 0);

    try {
        eddy::sync_wait(f.storage.query("SELEC 1"));
        FAIL("no postgres_error");
    } catch (const eddy::postgres_error& e) {
        REQUIRE(e.sqlstate() == "42601"); // syntax_error
    }
    try {
        eddy::sync_wait(f.storage.execute("INSERT INTO missing VALUES (1)"));
        FAIL("no postgres_error");
    } catch (const eddy::postgres_error& e) {
        REQUIRE(e.sqlstate() == "42P01"); // undefined_table
    }

    const eddy::postgres_row r = row({std::int64_t{1}, "x", nullptr});
    REQUIRE(r.size() == 3);
    REQUIRE_THROWS_AS(r.real(0), eddy::error);
    REQUIRE_THROWS_WITH(r.text(0), "eddy::postgres_row: column 0 is not text");
    REQUIRE_THROWS_WITH(r.integer(1), "eddy::postgres_row: column 1 is not an integer");
    REQUIRE_THROWS_WITH(r.integer(2),
                        "eddy::postgres_row: column 2 is not an integer (it is NULL)");
    REQUIRE_THROWS_WITH(r[3], "eddy::postgres_row: no column 3 in a row of 3");
    REQUIRE_THROWS_WITH(r.is_null(4), "eddy::postgres_row: no column 4 in a row of 3");
}
