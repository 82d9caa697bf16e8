// Tests of eddy::postgres_storage (and eddy::postgres_checkpoint_store on it) on a throwaway
// server (scripts/test): the concepts; the unit of work conformance suite; a unit committing
// appends to two streams and a checkpoint together, or nothing; a unit of another storage;
// schema versioning (a newer schema is a clear error, nothing changed); an unreachable server;
// a connection lost in the middle of a unit: the unit fails with postgres_error, nothing of it
// is written, and the pool reconnects.
#include <eddy/postgres/postgres_storage.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/unit_checkpoint_store.hpp>
#include <eddy/es/unit_of_work_storage.hpp>
#include <eddy/postgres/postgres_checkpoint_store.hpp>
#include <eddy/postgres/postgres_error.hpp>
#include <eddy/postgres/postgres_event_store.hpp>
#include <eddy/stream/to_vector.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <es/conformance/unit_of_work_suite.hpp>
#include <postgres/pg_test_schema.hpp>
#include <support/event_store_suite_json.hpp>

namespace {

using eddy::test::es::added;
using eddy::test::es::conformance_events;
using eddy::test::postgres::admin;
using eddy::test::postgres::conninfo;
using eddy::test::postgres::fresh_schema;
using store_type = eddy::postgres_event_store<conformance_events>;

struct pg_fixture {
    explicit pg_fixture(eddy::inline_scheduler& s) : storage(conninfo(), s, schema.options(2)) {}
    fresh_schema schema;
    eddy::postgres_storage storage;
    store_type events{storage};
    eddy::postgres_checkpoint_store checkpoints{storage};
};

// A write that has its connection's backend terminated by another connection (as an operator
// would, with pg_terminate_backend, waiting until it is gone), in the middle of the unit.
struct terminate_backend_op final : eddy::detail::pg_unit_op {
    eddy::task<void> run(eddy::detail::pg_tx* tx) override { return kill(tx); }
    static eddy::task<void> kill(eddy::detail::pg_tx* tx) {
        eddy::detail::pg_query_awaiter pid = tx->lease->query("SELECT pg_backend_pid()");
        const eddy::detail::pg_rows rows = co_await pid;
        admin("SELECT pg_terminate_backend(" + rows.text(0, 0) + ", 10000)");
        eddy::detail::pg_query_awaiter next = tx->lease->query("SELECT 1");
        co_await next; // the connection is gone: throws
    }
};

// Runs after the unit's events took their positions, and fails the unit.
struct fail_after_positions_op final : eddy::detail::pg_unit_op {
    bool after_positions() const override { return true; }
    eddy::task<void> run(eddy::detail::pg_tx*) override { return fail(); }
    static eddy::task<void> fail() {
        throw eddy::error("failing after the positions were taken");
        co_return;
    }
};

} // namespace

TEST_CASE("postgres_storage and its stores model the storage concepts",
          "[postgres][postgres_storage]") {
    STATIC_REQUIRE(eddy::unit_of_work_storage<eddy::postgres_storage>);
    STATIC_REQUIRE(eddy::unit_checkpoint_store<eddy::postgres_checkpoint_store>);
    STATIC_REQUIRE(eddy::checkpoint_store<eddy::postgres_checkpoint_store>);
    STATIC_REQUIRE(eddy::event_store<store_type>);
    STATIC_REQUIRE_FALSE(eddy::unit_of_work_storage<store_type>);
    STATIC_REQUIRE_FALSE(eddy::event_store<eddy::postgres_storage>);
}

TEST_CASE("postgres_storage passes the unit of work conformance suite",
          "[postgres][postgres_storage]") {
    eddy::inline_scheduler s;
    eddy::test::es::unit_of_work_conformance([&] { return std::make_unique<pg_fixture>(s); });
}

TEST_CASE("postgres_storage: a unit of work commits appends and a checkpoint together, or nothing",
          "[postgres][postgres_storage]") {
    eddy::inline_scheduler s;
    pg_fixture f(s);
    REQUIRE(eddy::sync_wait(f.checkpoints.load_checkpoint("view")) == 0);

    eddy::postgres_unit_of_work unit = f.storage.begin();
    REQUIRE(f.events.append(unit, "a", eddy::expected_version::no_stream(),
                            {added("1", 1), added("2", 2)}) == 0);
    f.checkpoints.save_checkpoint(unit, "view", 7);
    REQUIRE(f.events.append(unit, "b", eddy::expected_version::no_stream(), {added("3", 3)}) == 1);
    REQUIRE(f.events.append(unit, "a", eddy::expected_version::exact(2), {added("4", 4)}) == 2);
    REQUIRE(unit.size() == 4);
    const eddy::commit_result r = eddy::sync_wait(f.storage.commit(std::move(unit)));
    REQUIRE(r.appends == std::vector<eddy::append_result>{{2, 1, 2}, {1, 3, 3}, {3, 4, 4}});
    REQUIRE(eddy::sync_wait(f.checkpoints.load_checkpoint("view")) == 7);

    eddy::postgres_unit_of_work failing = f.storage.begin();
    f.events.append(failing, "c", eddy::expected_version::no_stream(), {added("5", 5)});
    f.checkpoints.save_checkpoint(failing, "view", 99);
    f.events.append(failing, "a", eddy::expected_version::exact(1), {added("6", 6)});
    try {
        eddy::sync_wait(f.storage.commit(std::move(failing)));
        FAIL("no concurrency_conflict");
    } catch (const eddy::concurrency_conflict& c) {
        REQUIRE(c.stream() == "a");
        REQUIRE(c.actual() == 3);
    }
    REQUIRE(eddy::sync_wait(f.checkpoints.load_checkpoint("view")) == 7);
    REQUIRE(eddy::sync_wait(eddy::to_vector(f.events.read_all(1))).size() == 4);
    REQUIRE(eddy::sync_wait(eddy::to_vector(f.events.read_stream("c", 1))).empty());

    eddy::sync_wait(f.checkpoints.save_checkpoint("view", 0)); // back to 0 for a replay
    REQUIRE(eddy::sync_wait(f.checkpoints.load_checkpoint("view")) == 0);
}

TEST_CASE("postgres_storage: a unit of work of another storage is an error",
          "[postgres][postgres_storage]") {
    eddy::inline_scheduler s;
    fresh_schema schema;
    eddy::postgres_storage one(conninfo(), s, schema.options(2));
    eddy::postgres_storage two(conninfo(), s, schema.options(2)); // the same schema, another pool
    store_type events_two(two);
    eddy::postgres_unit_of_work unit = one.begin();
    REQUIRE_THROWS_AS(events_two.append(unit, "a", eddy::expected_version::any(), {added("1", 1)}),
                      eddy::error);
    REQUIRE_THROWS_WITH(eddy::sync_wait(two.commit(one.begin())),
                        Catch::Contains("another storage"));
}

TEST_CASE("postgres_storage: two storages on one schema (as two processes) share its streams",
          "[postgres][postgres_storage]") {
    eddy::inline_scheduler s;
    fresh_schema schema;
    store_type one(eddy::postgres_storage(conninfo(), s, schema.options(2)));
    store_type two(eddy::postgres_storage(conninfo(), s, schema.options(2)));
    REQUIRE(eddy::sync_wait(one.append("x", eddy::expected_version::no_stream(),
                                       {added("1", 1)})) == eddy::append_result{1, 1, 1});
    try {
        eddy::sync_wait(two.append("x", eddy::expected_version::no_stream(), {added("2", 2)}));
        FAIL("no concurrency_conflict");
    } catch (const eddy::concurrency_conflict& c) {
        REQUIRE(c.actual() == 1);
    }
    REQUIRE(eddy::sync_wait(two.append("x", eddy::expected_version::exact(1), {added("3", 3)})) ==
            eddy::append_result{2, 2, 2});
    REQUIRE(eddy::test::es::versions(eddy::sync_wait(eddy::to_vector(one.read_stream("x", 1)))) ==
            std::vector<std::uint64_t>{1, 2});
}

TEST_CASE("postgres_storage: a schema newer than this code knows is an error, left unchanged",
          "[postgres][postgres_storage]") {
    eddy::inline_scheduler s;
    fresh_schema schema;
    { eddy::postgres_storage db(conninfo(), s, schema.options(2)); }
    admin("UPDATE \"" + schema.name() + "\".schema_version SET version = 99");
    try {
        eddy::postgres_storage db(conninfo(), s, schema.options(2));
        FAIL("no postgres_schema_too_new");
    } catch (const eddy::postgres_schema_too_new& e) {
        REQUIRE(e.found() == 99);
        REQUIRE(e.known() == eddy::detail::pg_schema_version);
        REQUIRE_THAT(e.what(), Catch::Contains("99") && Catch::Contains(schema.name()));
    }
    REQUIRE(admin("SELECT version FROM \"" + schema.name() + "\".schema_version") == "99");
}

TEST_CASE("postgres_storage: a server that cannot be reached is a postgres_error",
          "[postgres][postgres_storage]") {
    eddy::inline_scheduler s;
    try {
        // Port 1 on loopback: nobody listens there.
        eddy::postgres_storage db("host=127.0.0.1 port=1 dbname=eddy connect_timeout=5", s);
        FAIL("no postgres_error");
    } catch (const eddy::postgres_error& e) {
        REQUIRE(e.sqlstate() == "08006");
        REQUIRE(e.connection_lost());
        REQUIRE_THAT(e.what(), Catch::Contains("connecting"));
    }
}

TEST_CASE("postgres_storage: a connection lost mid-unit fails it whole; the pool reconnects",
          "[postgres][postgres_storage]") {
    eddy::inline_scheduler s;
    fresh_schema schema;
    eddy::postgres_storage db(conninfo(), s,
                              schema.options(1)); // one connection: it must come back
    store_type events(db);
    eddy::postgres_checkpoint_store checkpoints(db);
    REQUIRE(eddy::sync_wait(events.append("a", eddy::expected_version::no_stream(),
                                          {added("1", 1)})) == eddy::append_result{1, 1, 1});

    eddy::postgres_unit_of_work unit = db.begin();
    events.append(unit, "a", eddy::expected_version::exact(1), {added("2", 2)});
    checkpoints.save_checkpoint(unit, "view", 2);
    unit.add(db.engine().get(), std::make_unique<terminate_backend_op>(), false);
    try {
        eddy::sync_wait(db.commit(std::move(unit)));
        FAIL("no postgres_error");
    } catch (const eddy::postgres_error& e) {
        CAPTURE(e.what());
        REQUIRE(e.connection_lost());
        REQUIRE((e.sqlstate() == "57P01" || e.sqlstate() == "08006"));
        REQUIRE_THAT(e.what(), Catch::Contains(schema.name()));
    }
    // Nothing of the unit was written; the next operations run on a new connection.
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("view")) == 0);
    REQUIRE(eddy::test::es::versions(eddy::sync_wait(eddy::to_vector(events.read_stream("a")))) ==
            std::vector<std::uint64_t>{1});
    REQUIRE(eddy::sync_wait(events.append("a", eddy::expected_version::exact(1),
                                          {added("3", 3)})) == eddy::append_result{2, 2, 2});
}

TEST_CASE("postgres_storage: a unit that fails after taking positions leaves a gap readers pass",
          "[postgres][postgres_storage]") {
    eddy::inline_scheduler s;
    pg_fixture f(s);
    eddy::postgres_unit_of_work unit = f.storage.begin();
    f.events.append(unit, "a", eddy::expected_version::no_stream(), {added("1", 1), added("2", 2)});
    unit.add(f.storage.engine().get(), std::make_unique<fail_after_positions_op>(), false);
    REQUIRE_THROWS_WITH(eddy::sync_wait(f.storage.commit(std::move(unit))),
                        Catch::Contains("failing after the positions"));
    // Positions 1 and 2 were taken and rolled back: the next append has position 3.
    REQUIRE(eddy::sync_wait(f.events.append("a", eddy::expected_version::no_stream(),
                                            {added("3", 3)})) == eddy::append_result{1, 3, 3});
    // A subscriber passes the gap once no transaction that could own it is open (at once
    // here, or at a later poll while other programs' transactions are open).
    eddy::stream<eddy::test::es::envelope> sub = f.events.subscribe_all(1);
    REQUIRE(eddy::test::es::positions(eddy::sync_wait(eddy::test::es::take_n(&sub, 1))) ==
            std::vector<std::uint64_t>{3});
}

TEST_CASE("postgres_storage: connections the server dropped while idle are replaced",
          "[postgres][postgres_storage]") {
    eddy::inline_scheduler s;
    pg_fixture f(s);
    REQUIRE(eddy::sync_wait(f.events.append("a", eddy::expected_version::no_stream(),
                                            {added("1", 1)})) == eddy::append_result{1, 1, 1});
    // Every connection of the storage (its pool and its listener), as an operator would, waiting
    // until each backend is gone.
    REQUIRE(admin("SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
                  "WHERE application_name = 'eddy (" +
                  f.schema.name() + ")'") == "3");
    for (int i = 2; i <= 4; ++i) {
        REQUIRE(eddy::sync_wait(
                    f.events.append("a", eddy::expected_version::exact(i - 1), {added("x", i)})) ==
                eddy::append_result{static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(i),
                                    static_cast<std::uint64_t>(i)});
        REQUIRE(eddy::sync_wait(f.checkpoints.load_checkpoint("view")) == 0);
    }
}
