// Tests of the writer's path for plain appends (eddy::sqlite_event_store::append outside a unit
// of work): in a group commit they run without a savepoint each, so these check what the
// savepoints used to guarantee. The writer is held inside a first append (a SQL function called
// by a TEMP trigger blocks it) while the others queue behind it, so all of them share one
// transaction. In it, a conflict, a duplicate event id and an exact re-append each get their own
// result, and an append that fails after its first write (a trigger aborting its second event,
// its stream row, or rolling back the whole transaction) leaves nothing of itself while the
// others commit with contiguous positions ([concurrency]); the same after a unit of work in the
// group; positions read again in each transaction when another storage (as another process)
// appends in between; racing appenders on a thread_pool ([concurrency]); callers continuing on
// the scheduler, never on the writer thread, with the engine's resume function ([concurrency]).
#include <eddy/sqlite/sqlite_event_store.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <semaphore>
#include <stdexcept>
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
#include <eddy/es/duplicate_event_id.hpp>
#include <eddy/sqlite/sqlite_error.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>
#include <eddy/stream/to_vector.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <sqlite/temp_dir.hpp>
#include <support/event_store_suite_json.hpp>

namespace {

using eddy::test::es::added;
using eddy::test::es::added_with_id;
using eddy::test::es::conformance_events;
using eddy::test::es::envelope;
using eddy::test::es::id_n;
using eddy::test::es::proposed;
using eddy::test::sqlite::temp_dir;
using store_type = eddy::sqlite_event_store<conformance_events>;

// What test_gate() uses: the first time (not when the writer executes the gate append again
// after a rollback) it tells the test the writer is inside the append to stream "gate", then
// waits for the test to let it go on.
struct gate_state {
    std::binary_semaphore entered{0};
    std::binary_semaphore open{0};
    std::atomic<bool> used{false};
};

void test_gate(sqlite3_context* ctx, int, sqlite3_value**) {
    auto* g = static_cast<gate_state*>(sqlite3_user_data(ctx));
    if (!g->used.exchange(true)) {
        g->entered.release();
        g->open.acquire();
    }
    sqlite3_result_null(ctx);
}

// Installs on the writer connection (TEMP objects are the connection's own): test_gate(), a
// trigger calling it for stream "gate", and the failures: stream "bad" fails at its second event
// (after writing its first), "bad_row" at its stream row (after writing its events), "doom" makes
// SQLite roll the whole transaction back.
struct setup_op final : eddy::detail::sqlite_unit_op {
    gate_state* gate;
    explicit setup_op(gate_state* g) : gate(g) {}
    void run(eddy::detail::connection& c, eddy::detail::sqlite_engine&,
             eddy::commit_result&) override {
        if (sqlite3_create_function_v2(c.handle(), "test_gate", 0, SQLITE_UTF8, gate, test_gate,
                                       nullptr, nullptr, nullptr) != SQLITE_OK) {
            throw eddy::error("test_gate not created");
        }
        c.exec("CREATE TEMP TRIGGER gate BEFORE INSERT ON eddy_events "
               "WHEN NEW.stream_id = 'gate' BEGIN SELECT test_gate(); END;"
               "CREATE TEMP TRIGGER bad BEFORE INSERT ON eddy_events "
               "WHEN NEW.stream_id = 'bad' AND NEW.stream_version = 2 "
               "BEGIN SELECT RAISE(ABORT, 'injected failure at the second event'); END;"
               "CREATE TEMP TRIGGER bad_row BEFORE INSERT ON eddy_streams "
               "WHEN NEW.stream_id = 'bad_row' "
               "BEGIN SELECT RAISE(ABORT, 'injected failure at the stream row'); END;"
               "CREATE TEMP TRIGGER doom BEFORE INSERT ON eddy_events "
               "WHEN NEW.stream_id = 'doom' "
               "BEGIN SELECT RAISE(ROLLBACK, 'injected rollback of the transaction'); END;",
               "installing the test triggers on");
    }
};

void install(eddy::sqlite_storage& db, gate_state* gate) {
    eddy::sqlite_unit_of_work unit = db.begin();
    unit.add(db.engine().get(), std::make_unique<setup_op>(gate), false);
    eddy::sync_wait(db.commit(std::move(unit)));
}

// An append's own result or error.
struct outcome {
    std::optional<eddy::append_result> result;
    std::exception_ptr error;
};

eddy::task<outcome> attempt(store_type* store, std::string stream, eddy::expected_version expected,
                            std::vector<proposed> batch) {
    outcome o;
    try {
        o.result = co_await store->append(std::move(stream), expected, std::move(batch));
    } catch (...) {
        o.error = std::current_exception();
    }
    co_return o;
}

eddy::task<outcome> attempt_unit(eddy::sqlite_storage db, store_type* store) {
    outcome o;
    try {
        eddy::sqlite_unit_of_work unit = db.begin();
        store->append(unit, "u1", eddy::expected_version::no_stream(), {added("u1", 1)});
        store->append(unit, "u2", eddy::expected_version::no_stream(), {added("u2", 2)});
        eddy::commit_result r = co_await db.commit(std::move(unit));
        o.result = r.appends.at(1);
    } catch (...) {
        o.error = std::current_exception();
    }
    co_return o;
}

// Runs `appends` (started in order on this thread, so they queue in that order) behind an
// append to stream "gate" that holds the writer until all of them are queued: one group. The
// gate append's outcome comes first.
std::vector<outcome> one_group(eddy::sqlite_storage& db, store_type& store, gate_state& gate,
                               std::vector<eddy::task<outcome>> appends) {
    const std::size_t queued = appends.size();
    outcome held;
    std::thread holder([&store, &held] {
        std::vector<proposed> batch{added("gate", 0)};
        held = eddy::sync_wait(
            attempt(&store, "gate", eddy::expected_version::any(), std::move(batch)));
    });
    gate.entered.acquire(); // the writer is inside the gate append now
    std::thread releaser([&db, &gate, queued] {
        while (db.stats().queued < queued) { // spins; no sleep
            std::this_thread::yield();
        }
        gate.open.release();
    });
    std::vector<outcome> out = eddy::sync_wait(eddy::when_all(std::move(appends)));
    releaser.join();
    holder.join();
    out.insert(out.begin(), std::move(held));
    return out;
}

template <class E>
E error_of(const outcome& o) {
    REQUIRE(o.error);
    try {
        std::rethrow_exception(o.error);
    } catch (const E& e) {
        return e;
    } catch (...) {
        FAIL("another error type");
    }
    throw std::logic_error("unreachable");
}

std::vector<std::string> streams_of(const std::vector<envelope>& events) {
    std::vector<std::string> out;
    for (const envelope& e : events) {
        out.push_back(e.stream_id);
    }
    return out;
}

} // namespace

TEST_CASE("sqlite plain appends: one group's conflicts, duplicates and a failure after a write "
          "each stay their own",
          "[sqlite][sqlite_append_path][concurrency]") {
    const std::string failing = GENERATE(as<std::string>{}, "bad", "bad_row", "doom");
    CAPTURE(failing);
    eddy::inline_scheduler s;
    temp_dir dir;
    gate_state gate;
    eddy::sqlite_storage db(dir.file("group.db"), s);
    store_type store(db);
    install(db, &gate);
    const auto before = db.stats();

    std::vector<eddy::task<outcome>> appends;
    appends.push_back(attempt(&store, "a", eddy::expected_version::no_stream(), {added("a", 1)}));
    appends.push_back(
        attempt(&store, "b", eddy::expected_version::no_stream(), {added_with_id(1, "b", 1)}));
    appends.push_back( // "a" exists since the first append of the group
        attempt(&store, "a", eddy::expected_version::no_stream(), {added("a", 2)}));
    appends.push_back( // id 1 is stored in "b" by the second
        attempt(&store, "c", eddy::expected_version::any(), {added_with_id(1, "b", 1)}));
    appends.push_back( // the second append again, exactly
        attempt(&store, "b", eddy::expected_version::no_stream(), {added_with_id(1, "b", 1)}));
    appends.push_back(attempt(&store, "d", eddy::expected_version::any(),
                              {added_with_id(2, "d", 1), added_with_id(2, "d", 2)}));
    appends.push_back(attempt(&store, failing, eddy::expected_version::any(),
                              {added(failing, 1), added(failing, 2)}));
    appends.push_back(attempt(&store, "e", eddy::expected_version::no_stream(), {added("e", 1)}));
    appends.push_back(attempt(&store, "a", eddy::expected_version::exact(1), {added("a", 3)}));
    const std::vector<outcome> out = one_group(db, store, gate, std::move(appends));

    REQUIRE(out[0].result == eddy::append_result{1, 1, 1}); // gate
    REQUIRE(out[1].result == eddy::append_result{1, 2, 2}); // a
    REQUIRE(out[2].result == eddy::append_result{1, 3, 3}); // b
    const auto conflict = error_of<eddy::concurrency_conflict>(out[3]);
    REQUIRE(conflict.stream() == "a");
    REQUIRE(conflict.actual() == 1);
    const auto elsewhere = error_of<eddy::duplicate_event_id>(out[4]);
    REQUIRE(elsewhere.event_id() == id_n(1));
    REQUIRE(elsewhere.why() == eddy::duplicate_event_id::reason::different_stream);
    REQUIRE(out[5].result == eddy::append_result{1, 3, 3}); // the original result
    REQUIRE(error_of<eddy::duplicate_event_id>(out[6]).why() ==
            eddy::duplicate_event_id::reason::repeated);
    REQUIRE_THAT(error_of<eddy::sqlite_error>(out[7]).what(), Catch::Contains("injected"));
    REQUIRE(out[8].result == eddy::append_result{1, 4, 4}); // e
    REQUIRE(out[9].result == eddy::append_result{2, 5, 5}); // a again

    // One transaction held them all; nothing of the failed append, no gap.
    const auto after = db.stats();
    REQUIRE(after.transactions == before.transactions + 1);
    REQUIRE(after.commits == before.commits + 6);
    const auto all = eddy::sync_wait(eddy::to_vector(store.read_all(1)));
    REQUIRE(eddy::test::es::positions(all) == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
    REQUIRE(streams_of(all) == std::vector<std::string>{"gate", "a", "b", "e", "a"});
    REQUIRE(eddy::test::es::versions(all) == std::vector<std::uint64_t>{1, 1, 1, 1, 2});
    REQUIRE(eddy::sync_wait(eddy::to_vector(store.read_stream(failing, 1))).empty());
    // No stream row either: "no stream" is still what it expects (one event passes "bad").
    const std::string ok = failing == "bad" ? failing : "fine";
    REQUIRE(eddy::sync_wait(store.append(ok, eddy::expected_version::no_stream(),
                                         {added(ok, 1)})) == eddy::append_result{1, 6, 6});
}

TEST_CASE("sqlite plain appends: after a unit of work in the group, a failure after a write "
          "still leaves nothing",
          "[sqlite][sqlite_append_path][concurrency]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    gate_state gate;
    eddy::sqlite_storage db(dir.file("mixed.db"), s);
    store_type store(db);
    install(db, &gate);
    const auto before = db.stats();

    std::vector<eddy::task<outcome>> appends;
    appends.push_back(attempt(&store, "a", eddy::expected_version::no_stream(), {added("a", 1)}));
    appends.push_back(attempt_unit(db, &store));
    appends.push_back(
        attempt(&store, "bad", eddy::expected_version::any(), {added("bad", 1), added("bad", 2)}));
    appends.push_back(attempt(&store, "a", eddy::expected_version::no_stream(), {added("a", 2)}));
    appends.push_back(attempt(&store, "b", eddy::expected_version::no_stream(), {added("b", 1)}));
    const std::vector<outcome> out = one_group(db, store, gate, std::move(appends));

    REQUIRE(out[0].result == eddy::append_result{1, 1, 1}); // gate
    REQUIRE(out[1].result == eddy::append_result{1, 2, 2}); // a
    REQUIRE(out[2].result == eddy::append_result{1, 4, 4}); // the unit's second append
    REQUIRE_THAT(error_of<eddy::sqlite_error>(out[3]).what(), Catch::Contains("injected"));
    REQUIRE(error_of<eddy::concurrency_conflict>(out[4]).actual() == 1);
    REQUIRE(out[5].result == eddy::append_result{1, 5, 5}); // b

    const auto after = db.stats();
    REQUIRE(after.transactions == before.transactions + 1);
    REQUIRE(after.commits == before.commits + 4);
    const auto all = eddy::sync_wait(eddy::to_vector(store.read_all(1)));
    REQUIRE(eddy::test::es::positions(all) == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
    REQUIRE(streams_of(all) == std::vector<std::string>{"gate", "a", "u1", "u2", "b"});
    REQUIRE(eddy::sync_wait(eddy::to_vector(store.read_stream("bad", 1))).empty());
}

TEST_CASE("sqlite plain appends: each transaction reads the last position again",
          "[sqlite][sqlite_append_path]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    const std::string path = dir.file("shared.db");
    store_type one(eddy::sqlite_storage(path, s));
    store_type two(eddy::sqlite_storage(path, s)); // as another process would
    REQUIRE(eddy::sync_wait(one.append("x", eddy::expected_version::any(), {added("1", 1)})) ==
            eddy::append_result{1, 1, 1});
    REQUIRE(eddy::sync_wait(
                two.append("y", eddy::expected_version::any(), {added("2", 2), added("3", 3)})) ==
            eddy::append_result{2, 2, 3});
    REQUIRE(eddy::sync_wait(one.append("x", eddy::expected_version::any(), {added("4", 4)})) ==
            eddy::append_result{2, 4, 4});
    REQUIRE(eddy::test::es::positions(eddy::sync_wait(eddy::to_vector(two.read_all(1)))) ==
            std::vector<std::uint64_t>{1, 2, 3, 4});
}

namespace {
// Appends `count` times to `stream`, each expecting the version it last saw: a conflict (another
// writer got there first) reads the stream's version again. Records every success.
eddy::task<void> contender(store_type* store, eddy::thread_pool* pool, std::string stream,
                           int count, std::vector<eddy::append_result>* won) {
    co_await pool->schedule();
    std::uint64_t seen = 0;
    for (int i = 0; i < count; ++i) {
        std::uint64_t actual = 0;
        bool conflict = false;
        try {
            std::vector<proposed> batch{added(stream, i)};
            eddy::append_result r = co_await store->append(
                stream, eddy::expected_version::exact(seen), std::move(batch));
            won->push_back(r);
            seen = r.stream_version;
        } catch (const eddy::concurrency_conflict& c) {
            conflict = true;
            actual = c.actual();
        }
        if (conflict) {
            seen = actual;
        }
    }
}
} // namespace

TEST_CASE("sqlite plain appends: racing appenders on a thread_pool get exact versions and "
          "contiguous positions",
          "[sqlite][sqlite_append_path][concurrency]") {
    eddy::thread_pool pool(2);
    temp_dir dir;
    store_type store(eddy::sqlite_storage(dir.file("race.db"), pool));
    constexpr int writers = 12;
    constexpr int each = 30;
    std::vector<std::vector<eddy::append_result>> won(writers);
    std::vector<eddy::task<void>> all;
    for (int i = 0; i < writers; ++i) {
        all.push_back(contender(&store, &pool, "s" + std::to_string(i % 3), each,
                                &won[static_cast<std::size_t>(i)]));
    }
    eddy::sync_wait(eddy::when_all(std::move(all)));

    const auto events = eddy::sync_wait(eddy::to_vector(store.read_all(1)));
    std::map<std::uint64_t, const envelope*> by_position;
    std::map<std::string, std::uint64_t> last_version;
    for (std::size_t i = 0; i < events.size(); ++i) {
        REQUIRE(events[i].global_position == i + 1);
        REQUIRE(events[i].stream_version == ++last_version[events[i].stream_id]);
        by_position[events[i].global_position] = &events[i];
    }
    std::size_t successes = 0;
    for (std::size_t w = 0; w < won.size(); ++w) {
        for (const eddy::append_result& r : won[w]) {
            ++successes;
            REQUIRE(r.first_position == r.last_position);
            const envelope* e = by_position.at(r.last_position);
            REQUIRE(e->stream_id == "s" + std::to_string(w % 3));
            REQUIRE(e->stream_version == r.stream_version);
        }
    }
    REQUIRE(successes == events.size());
    REQUIRE_FALSE(events.empty());
}

namespace {
// Writes on the engine's writer thread (recording it), then checks where it continues.
eddy::task<int> write_then_where(std::shared_ptr<eddy::detail::sqlite_engine> e,
                                 eddy::thread_pool* pool, int count) {
    co_await pool->schedule();
    int on_writer = 0;
    for (int i = 0; i < count; ++i) {
        auto writer = std::make_shared<std::thread::id>();
        std::function<bool(eddy::detail::connection&)> fn = [writer](eddy::detail::connection&) {
            *writer = std::this_thread::get_id();
            return true;
        };
        co_await eddy::detail::sqlite_engine::write<bool>(e, std::move(fn), false);
        on_writer += std::this_thread::get_id() == *writer ? 1 : 0;
    }
    co_return on_writer;
}
} // namespace

TEST_CASE("sqlite storage: callers continue on the scheduler, never on the writer thread",
          "[sqlite][sqlite_append_path][concurrency]") {
    eddy::thread_pool pool(2);
    temp_dir dir;
    eddy::sqlite_options o;
    o.synchronous = eddy::sqlite_options::sync::normal;
    eddy::sqlite_storage db(dir.file("hop.db"), pool, o);
    const std::shared_ptr<eddy::detail::sqlite_engine>& engine = db.engine();
    std::vector<eddy::task<int>> all;
    for (int i = 0; i < 32; ++i) {
        all.push_back(write_then_where(engine, &pool, 20));
    }
    const std::vector<int> on_writer = eddy::sync_wait(eddy::when_all(std::move(all)));
    REQUIRE(on_writer == std::vector<int>(32, 0));
}
