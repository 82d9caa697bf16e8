// Tests of eddy::sqlite_storage (and eddy::sqlite_checkpoint_store on it): the concepts; a unit
// of work committing appends to two streams and a checkpoint together, or nothing when one
// check fails; a unit of another storage; group commit: commits queued behind a busy writer
// go into one transaction, each unit in its own savepoint seeing its own conflict or success
// ([concurrency]); WAL mode and durability settings; clear errors for a foreign file, an
// unwritable path and a newer schema; a forward migration from schema version 1.
#include <eddy/sqlite/sqlite_storage.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <memory>
#include <semaphore>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/unit_checkpoint_store.hpp>
#include <eddy/es/unit_of_work_storage.hpp>
#include <eddy/sqlite/sqlite_checkpoint_store.hpp>
#include <eddy/sqlite/sqlite_error.hpp>
#include <eddy/sqlite/sqlite_event_store.hpp>
#include <eddy/stream/to_vector.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <sqlite/temp_dir.hpp>
#include <support/event_store_suite_json.hpp>

namespace {

using eddy::test::es::added;
using eddy::test::es::conformance_events;
using eddy::test::sqlite::temp_dir;
using store_type = eddy::sqlite_event_store<conformance_events>;

std::string pragma(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW) {
        out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

// A write that holds the writer thread until released, so the test can queue commits behind it.
struct blocking_op final : eddy::detail::sqlite_unit_op {
    std::binary_semaphore* entered;
    std::binary_semaphore* gate;
    blocking_op(std::binary_semaphore* e, std::binary_semaphore* g) : entered(e), gate(g) {}
    void run(eddy::detail::connection&, eddy::detail::sqlite_engine&,
             eddy::commit_result&) override {
        entered->release();
        gate->acquire();
    }
};

// 1: appended; 0: conflict with actual version 1; -1: anything else.
eddy::task<int> append_once(store_type* store, eddy::thread_pool* pool, std::string stream) {
    co_await pool->schedule();
    bool conflict = false;
    try {
        std::vector<eddy::test::es::proposed> batch{added(stream, 1)};
        eddy::append_result r =
            co_await store->append(stream, eddy::expected_version::no_stream(), std::move(batch));
        co_return r.stream_version == 1 ? 1 : -1;
    } catch (const eddy::concurrency_conflict& c) {
        conflict = c.actual() == 1;
    }
    co_return conflict ? 0 : -1;
}

void group_commit_run(bool group) {
    eddy::thread_pool pool(2);
    temp_dir dir;
    eddy::sqlite_options o;
    o.group_commit = group;
    o.synchronous = eddy::sqlite_options::sync::normal;
    eddy::sqlite_storage db(dir.file("g.db"), pool, o);
    store_type store(db);

    std::binary_semaphore entered{0};
    std::binary_semaphore gate{0};
    eddy::sqlite_unit_of_work blocker = db.begin();
    blocker.add(db.engine().get(), std::make_unique<blocking_op>(&entered, &gate), false);
    std::thread holder([&db, &blocker] { eddy::sync_wait(db.commit(std::move(blocker))); });
    entered.acquire(); // the writer is inside the blocker's transaction now

    constexpr std::size_t streams = 20;
    std::vector<eddy::task<int>> appends;
    for (std::size_t i = 0; i < 2 * streams; ++i) {
        appends.push_back(append_once(&store, &pool, "s" + std::to_string(i % streams)));
    }
    // Releases the writer once every append waits in its queue (spins; no sleep).
    std::thread releaser([&db, &gate] {
        while (db.stats().queued < 2 * streams) {
            std::this_thread::yield();
        }
        gate.release();
    });
    std::vector<int> results = eddy::sync_wait(eddy::when_all(std::move(appends)));
    releaser.join();
    holder.join();

    for (std::size_t i = 0; i < streams; ++i) {
        CAPTURE(i);
        // The first in queue order won, the second saw its version: each caller its own result.
        REQUIRE(results[i] + results[i + streams] == 1);
        REQUIRE((results[i] == 1 || results[i + streams] == 1));
    }
    const auto stats = db.stats();
    REQUIRE(stats.commits == 1 + streams);
    // Group: the blocker and all 40 in one transaction (queued while it ran, they join its
    // group; the 20 failed savepoints rolled back inside it). No group: one transaction per
    // successful commit.
    REQUIRE(stats.transactions == (group ? 1U : 1U + streams));
    const auto all = eddy::sync_wait(eddy::to_vector(store.read_all(1)));
    REQUIRE(eddy::test::es::positions(all).size() == streams);
    for (std::size_t i = 0; i < all.size(); ++i) {
        REQUIRE(all[i].global_position == i + 1); // no gap left by the failed units
    }
}

} // namespace

TEST_CASE("sqlite_storage and its stores model the storage concepts", "[sqlite][sqlite_storage]") {
    STATIC_REQUIRE(eddy::unit_of_work_storage<eddy::sqlite_storage>);
    STATIC_REQUIRE(eddy::unit_checkpoint_store<eddy::sqlite_checkpoint_store>);
    STATIC_REQUIRE(eddy::checkpoint_store<eddy::sqlite_checkpoint_store>);
    STATIC_REQUIRE(eddy::event_store<store_type>);
    STATIC_REQUIRE_FALSE(eddy::unit_of_work_storage<store_type>);
    STATIC_REQUIRE_FALSE(eddy::event_store<eddy::sqlite_storage>);
}

TEST_CASE("sqlite_storage: a unit of work commits appends and a checkpoint together, or nothing",
          "[sqlite][sqlite_storage]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    eddy::sqlite_storage db(dir.file("u.db"), s);
    store_type events(db);
    eddy::sqlite_checkpoint_store checkpoints(db);
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("view")) == 0);

    eddy::sqlite_unit_of_work unit = db.begin();
    REQUIRE(events.append(unit, "a", eddy::expected_version::no_stream(),
                          {added("1", 1), added("2", 2)}) == 0);
    checkpoints.save_checkpoint(unit, "view", 7);
    REQUIRE(events.append(unit, "b", eddy::expected_version::no_stream(), {added("3", 3)}) == 1);
    REQUIRE(events.append(unit, "a", eddy::expected_version::exact(2), {added("4", 4)}) == 2);
    REQUIRE(unit.size() == 4);
    const eddy::commit_result r = eddy::sync_wait(db.commit(std::move(unit)));
    REQUIRE(r.appends == std::vector<eddy::append_result>{{2, 1, 2}, {1, 3, 3}, {3, 4, 4}});
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("view")) == 7);

    // A unit whose last check fails writes nothing, not even its checkpoint or first append.
    eddy::sqlite_unit_of_work failing = db.begin();
    events.append(failing, "c", eddy::expected_version::no_stream(), {added("5", 5)});
    checkpoints.save_checkpoint(failing, "view", 99);
    events.append(failing, "a", eddy::expected_version::exact(1), {added("6", 6)});
    try {
        eddy::sync_wait(db.commit(std::move(failing)));
        FAIL("no concurrency_conflict");
    } catch (const eddy::concurrency_conflict& c) {
        REQUIRE(c.stream() == "a");
        REQUIRE(c.actual() == 3);
    }
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("view")) == 7);
    REQUIRE(eddy::sync_wait(eddy::to_vector(events.read_all(1))).size() == 4);
    REQUIRE(eddy::sync_wait(eddy::to_vector(events.read_stream("c", 1))).empty());

    eddy::sync_wait(checkpoints.save_checkpoint("view", 0)); // back to 0 for a replay
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("view")) == 0);
}

TEST_CASE("sqlite_storage: a unit of work of another storage is an error",
          "[sqlite][sqlite_storage]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    eddy::sqlite_storage one(dir.file("1.db"), s);
    eddy::sqlite_storage two(dir.file("2.db"), s);
    store_type events_two(two);
    eddy::sqlite_unit_of_work unit = one.begin();
    REQUIRE_THROWS_AS(events_two.append(unit, "a", eddy::expected_version::any(), {added("1", 1)}),
                      eddy::error);
    REQUIRE_THROWS_WITH(eddy::sync_wait(two.commit(one.begin())),
                        Catch::Contains("another storage"));
}

TEST_CASE("sqlite_storage: group commit batches queued commits, each with its own result",
          "[sqlite][sqlite_storage][concurrency]") {
    SECTION("group commit on") { group_commit_run(true); }
    SECTION("group commit off") { group_commit_run(false); }
}

TEST_CASE("sqlite_storage: two storages on one file (as two processes) see each other's versions",
          "[sqlite][sqlite_storage]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    const std::string path = dir.file("shared.db");
    store_type one(eddy::sqlite_storage(path, s));
    store_type two(eddy::sqlite_storage(path, s));
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

TEST_CASE("sqlite_storage: WAL mode and the durability setting", "[sqlite][sqlite_storage]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    const std::string path = dir.file("w.db");
    eddy::sqlite_storage db(path, s);
    REQUIRE(pragma(path, "PRAGMA journal_mode") == "wal");
    REQUIRE(pragma(path, "SELECT version FROM eddy_schema_version") ==
            std::to_string(eddy::detail::sqlite_schema_version));
}

TEST_CASE("sqlite_storage: a file of schema version 1 is migrated forward, its data kept",
          "[sqlite][sqlite_storage]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    const std::string path = dir.file("old.db");
    {
        // What eddy's first schema version wrote, by hand.
        sqlite3* db = nullptr;
        sqlite3_open(path.c_str(), &db);
        sqlite3_exec(db, eddy::detail::sqlite_migrations[0], nullptr, nullptr, nullptr);
        sqlite3_exec(db,
                     "CREATE TABLE eddy_schema_version (version INTEGER NOT NULL);"
                     "INSERT INTO eddy_schema_version VALUES (1);"
                     "INSERT INTO eddy_checkpoints VALUES ('view', 41);",
                     nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }
    REQUIRE(pragma(path, "SELECT count(*) FROM sqlite_master WHERE name = 'eddy_snapshots'") ==
            "0");
    eddy::sqlite_storage db(path, s);
    REQUIRE(pragma(path, "SELECT version FROM eddy_schema_version") ==
            std::to_string(eddy::detail::sqlite_schema_version));
    REQUIRE(pragma(path, "SELECT count(*) FROM sqlite_master WHERE name = 'eddy_snapshots'") ==
            "1");
    REQUIRE(eddy::sync_wait(eddy::sqlite_checkpoint_store(db).load_checkpoint("view")) == 41);
}

TEST_CASE("sqlite_storage: bad files and paths are clear errors", "[sqlite][sqlite_storage]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    SECTION("a file that is not a database") {
        const std::string path = dir.file("foreign.db");
        std::ofstream(path) << "this is not a SQLite database, just some text long enough to "
                               "fill the header of one....................................";
        try {
            eddy::sqlite_storage db(path, s);
            FAIL("no sqlite_error");
        } catch (const eddy::sqlite_error& e) {
            REQUIRE(e.code() == SQLITE_NOTADB);
            REQUIRE_THAT(e.what(), Catch::Contains(path));
        }
    }
    SECTION("a directory that does not exist") {
        const std::string path = dir.file("missing/x.db");
        try {
            eddy::sqlite_storage db(path, s);
            FAIL("no sqlite_error");
        } catch (const eddy::sqlite_error& e) {
            REQUIRE(e.code() == SQLITE_CANTOPEN);
            REQUIRE_THAT(e.what(), Catch::Contains(path));
        }
    }
    SECTION("a schema newer than this code knows leaves the file unchanged") {
        const std::string path = dir.file("new.db");
        { eddy::sqlite_storage db(path, s); }
        pragma(path, "UPDATE eddy_schema_version SET version = 99");
        try {
            eddy::sqlite_storage db(path, s);
            FAIL("no sqlite_schema_too_new");
        } catch (const eddy::sqlite_schema_too_new& e) {
            REQUIRE(e.found() == 99);
            REQUIRE(e.known() == eddy::detail::sqlite_schema_version);
            REQUIRE_THAT(e.what(), Catch::Contains("99") && Catch::Contains(path));
        }
        REQUIRE(pragma(path, "SELECT version FROM eddy_schema_version") == "99");
    }
}
