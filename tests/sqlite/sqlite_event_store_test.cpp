// Tests of eddy::sqlite_event_store: the event_store conformance suites (single-threaded, stream
// metadata, and [concurrency] writers on a thread_pool), on real files in a throwaway directory;
// JSON payloads readable with plain SQL; events surviving a reopen; a subscriber woken by
// another storage's commit (polling); cancellation of a waiting subscriber; decode errors naming
// the row.
#include <eddy/sqlite/sqlite_event_store.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <semaphore>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <eddy/core/error.hpp>
#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/es/decode_error.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>
#include <eddy/stream/to_vector.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <sqlite/temp_dir.hpp>
#include <support/event_store_suite_json.hpp>

namespace {

using eddy::test::es::added;
using eddy::test::es::conformance_events;
using eddy::test::es::envelope;
using eddy::test::sqlite::temp_dir;
using store_type = eddy::sqlite_event_store<conformance_events>;

// A store on a fresh file; keeps its directory alive as long as the store.
struct owned_store : store_type {
    owned_store(std::shared_ptr<temp_dir> d, eddy::sqlite_storage s)
        : store_type(std::move(s)), dir(std::move(d)) {}
    std::shared_ptr<temp_dir> dir;
};

template <class Scheduler>
std::unique_ptr<owned_store> fresh(Scheduler& s) {
    auto dir = std::make_shared<temp_dir>();
    eddy::sqlite_storage storage(dir->file("events.db"), s);
    return std::make_unique<owned_store>(dir, std::move(storage));
}

// One column of a one-row query, through the plain C API (what a user's tool would do).
std::string query_text(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
}

eddy::task<> collect_all(eddy::stream<envelope> s, std::vector<envelope>* out) {
    for (;;) {
        std::optional<envelope> e = co_await s.next();
        if (!e) {
            co_return;
        }
        out->push_back(std::move(*e));
    }
}

struct runner {
    struct promise_type {
        runner get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
};

// Runs `t` detached; records how it ended, then releases `done`.
runner run_detached(eddy::task<> t, std::exception_ptr* error, std::binary_semaphore* done) {
    try {
        co_await std::move(t);
    } catch (...) {
        *error = std::current_exception();
    }
    done->release();
}

} // namespace

TEST_CASE("sqlite_event_store passes the event_store conformance suite",
          "[sqlite][sqlite_event_store]") {
    eddy::inline_scheduler inline_s;
    eddy::test::es::event_store_conformance([&] { return fresh(inline_s); });
}

TEST_CASE("sqlite_event_store passes the stream metadata conformance suite",
          "[sqlite][sqlite_event_store]") {
    eddy::inline_scheduler inline_s;
    eddy::test::es::stream_metadata_conformance([&] { return fresh(inline_s); });
}

TEST_CASE("sqlite_event_store: racing writers on a thread_pool",
          "[sqlite][sqlite_event_store][concurrency]") {
    eddy::thread_pool pool(4);
    eddy::test::es::event_store_concurrency_conformance([&] { return fresh(pool); }, pool);
}

TEST_CASE("sqlite_event_store: the conformance suite resumed on a thread_pool",
          "[sqlite][sqlite_event_store][concurrency]") {
    eddy::thread_pool pool(2);
    eddy::test::es::event_store_conformance([&] { return fresh(pool); });
}

TEST_CASE("sqlite_event_store: payloads are JSON and metadata are columns, readable with SQL",
          "[sqlite][sqlite_event_store]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    const std::string path = dir.file("events.db");
    {
        store_type store(eddy::sqlite_storage(path, s));
        eddy::event_metadata md;
        md.correlation_id = "c-9";
        md.headers.set("k", "v");
        eddy::sync_wait(
            store.append("cart-1", eddy::expected_version::no_stream(),
                         {eddy::test::es::proposed(eddy::test::es::item_added{"pear", 3}, md)}));
    }
    REQUIRE(query_text(path, "SELECT payload FROM eddy_events") ==
            R"({"quantity":3,"sku":"pear"})");
    REQUIRE(query_text(path, "SELECT type_name || '/' || schema_version || '/' || stream_id || "
                             "'/' || stream_version || '/' || correlation_id || '/' || headers "
                             "FROM eddy_events") == R"(item_added/1/cart-1/1/c-9/{"k":"v"})");
    REQUIRE(query_text(path, "SELECT version FROM eddy_schema_version") ==
            std::to_string(eddy::detail::sqlite_schema_version));
}

TEST_CASE("sqlite_event_store: events survive closing and reopening the file",
          "[sqlite][sqlite_event_store]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    const std::string path = dir.file("events.db");
    std::vector<envelope> before;
    {
        store_type store(eddy::sqlite_storage(path, s));
        eddy::sync_wait(
            store.append("a", eddy::expected_version::no_stream(), {added("1", 1), added("2", 2)}));
        eddy::sync_wait(store.append("b", eddy::expected_version::no_stream(), {added("3", 3)}));
        before = eddy::sync_wait(eddy::to_vector(store.read_all(1)));
    }
    store_type reopened(eddy::sqlite_storage(path, s));
    REQUIRE(eddy::sync_wait(eddy::to_vector(reopened.read_all(1))) == before);
    REQUIRE(eddy::sync_wait(reopened.append("a", eddy::expected_version::exact(2),
                                            {added("4", 4)})) == eddy::append_result{3, 4, 4});
}

TEST_CASE("sqlite_event_store: reads page through a stream longer than one query",
          "[sqlite][sqlite_event_store]") {
    eddy::inline_scheduler s;
    auto store = fresh(s);
    std::vector<eddy::test::es::proposed> batch;
    for (int i = 0; i < 600; ++i) {
        batch.push_back(added("x", i));
    }
    eddy::sync_wait(store->append("long", eddy::expected_version::no_stream(), batch));
    std::vector<envelope> events = eddy::sync_wait(eddy::to_vector(store->read_stream("long", 2)));
    REQUIRE(events.size() == 599);
    for (std::size_t i = 0; i < events.size(); ++i) {
        REQUIRE(events[i].stream_version == i + 2);
        REQUIRE(std::get<eddy::test::es::item_added>(events[i].payload).quantity ==
                static_cast<int>(i) + 1);
    }
    REQUIRE(eddy::sync_wait(eddy::to_vector(store->read_all(300))).size() == 301);
}

TEST_CASE("sqlite_event_store: a stream of whole pages ends after its last page",
          "[sqlite][sqlite_event_store]") {
    eddy::inline_scheduler s;
    auto store = fresh(s);
    std::vector<eddy::test::es::proposed> batch;
    for (int i = 0; i < 512; ++i) { // two pages exactly: the prefetched third one is empty
        batch.push_back(added("x", i));
    }
    eddy::sync_wait(store->append("whole", eddy::expected_version::no_stream(), batch));
    const auto events = eddy::sync_wait(eddy::to_vector(store->read_stream("whole", 1)));
    REQUIRE(events.size() == 512);
    REQUIRE(events.back().stream_version == 512);
}

namespace {
// Takes `n` events of `s`, then drops the stream (its next page may be in flight).
eddy::task<std::uint64_t> take_then_drop(eddy::stream<envelope> s, int n) {
    std::uint64_t last = 0;
    for (int i = 0; i < n; ++i) {
        std::optional<envelope> e = co_await s.next();
        last = e->stream_version;
    }
    co_return last;
}
} // namespace

TEST_CASE("sqlite_event_store: a stream dropped while its next page is read is safe",
          "[sqlite][sqlite_event_store]") {
    eddy::thread_pool pool(2);
    auto store = fresh(pool);
    std::vector<eddy::test::es::proposed> batch;
    for (int i = 0; i < 1000; ++i) {
        batch.push_back(added("x", i));
    }
    eddy::sync_wait(store->append("long", eddy::expected_version::no_stream(), batch));
    for (int n : {1, 255, 256, 257, 700}) {
        REQUIRE(eddy::sync_wait(take_then_drop(store->read_stream("long", 1), n)) ==
                static_cast<std::uint64_t>(n));
        REQUIRE(eddy::sync_wait(take_then_drop(store->read_all(1), n)) ==
                static_cast<std::uint64_t>(n));
        REQUIRE(eddy::sync_wait(take_then_drop(store->subscribe_all(1), n)) ==
                static_cast<std::uint64_t>(n));
    }
    REQUIRE(eddy::sync_wait(eddy::to_vector(store->read_all(1))).size() == 1000);
    store.reset(); // the storage's threads end while a dropped stream's read may be queued
}

TEST_CASE("sqlite_event_store: a subscriber sees commits of another storage on the same file",
          "[sqlite][sqlite_event_store][concurrency]") {
    eddy::thread_pool pool(2);
    temp_dir dir;
    const std::string path = dir.file("events.db");
    eddy::sqlite_options fast_poll;
    fast_poll.poll_interval = std::chrono::milliseconds(5);
    store_type watcher(eddy::sqlite_storage(path, pool, fast_poll));
    store_type writer(eddy::sqlite_storage(path, pool)); // another connection pair: as another
                                                         // process would be
    eddy::stream<envelope> sub = watcher.subscribe_all(1);
    eddy::sync_wait(writer.append("w", eddy::expected_version::no_stream(), {added("1", 1)}));
    auto first = eddy::sync_wait(eddy::test::es::take_n(&sub, 1));
    REQUIRE(eddy::test::es::positions(first) == std::vector<std::uint64_t>{1});
    eddy::sync_wait(writer.append("w", eddy::expected_version::exact(1), {added("2", 2)}));
    auto second = eddy::sync_wait(eddy::test::es::take_n(&sub, 1));
    REQUIRE(eddy::test::es::positions(second) == std::vector<std::uint64_t>{2});
}

TEST_CASE("sqlite_event_store: stopping a waiting subscriber ends it with operation_cancelled",
          "[sqlite][sqlite_event_store][concurrency]") {
    eddy::thread_pool pool(2);
    auto store = fresh(pool);
    eddy::sync_wait(store->append("a", eddy::expected_version::any(), {added("1", 1)}));
    std::stop_source stop;
    std::vector<envelope> seen;
    std::exception_ptr error;
    std::binary_semaphore done{0};
    run_detached(
        eddy::with_stop_token(collect_all(store->subscribe_all(1), &seen), stop.get_token()),
        &error, &done);
    // Reads are not cancelled, the wait for new events is: whenever the stop lands, the
    // subscriber yields the stored event, then ends waiting for the next.
    stop.request_stop();
    done.acquire();
    REQUIRE(seen.size() == 1);
    REQUIRE(error);
    REQUIRE_THROWS_AS(std::rethrow_exception(error), eddy::operation_cancelled);
    // The store still works for others.
    REQUIRE(eddy::sync_wait(store->append("a", eddy::expected_version::exact(1),
                                          {added("2", 1)})) == eddy::append_result{2, 2, 2});
}

TEST_CASE("sqlite_event_store: streams outlive the store and storage objects",
          "[sqlite][sqlite_event_store]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    eddy::stream<envelope> later;
    {
        store_type store(eddy::sqlite_storage(dir.file("events.db"), s));
        eddy::sync_wait(store.append("a", eddy::expected_version::any(), {added("1", 1)}));
        later = store.read_stream("a", 1);
    } // the stream keeps the storage (its threads and connections) alive
    auto events = eddy::sync_wait(eddy::to_vector(std::move(later)));
    REQUIRE(events.size() == 1);
    REQUIRE(std::get<eddy::test::es::item_added>(events[0].payload).sku == "1");
}

TEST_CASE("sqlite_event_store: a row the codec cannot decode is an error naming it",
          "[sqlite][sqlite_event_store]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    const std::string path = dir.file("events.db");
    store_type store(eddy::sqlite_storage(path, s));
    eddy::sync_wait(store.append("bad", eddy::expected_version::no_stream(), {added("1", 1)}));
    {
        sqlite3* db = nullptr;
        sqlite3_open(path.c_str(), &db);
        sqlite3_exec(db, "UPDATE eddy_events SET payload = '{\"sku\":1}'", nullptr, nullptr,
                     nullptr);
        sqlite3_close(db);
    }
    try {
        eddy::sync_wait(eddy::to_vector(store.read_stream("bad", 1)));
        FAIL("no decode_error");
    } catch (const eddy::decode_error& e) {
        REQUIRE_THAT(e.what(), Catch::Contains("bad"));
    }
}
