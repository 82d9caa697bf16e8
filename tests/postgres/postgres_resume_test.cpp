// Where a postgres_storage's awaiters continue: on the storage's scheduler, never on its I/O
// thread (which resumes them when a statement completes), for plain appends (group commit) and
// units of work, with many coroutines on a thread pool ([concurrency]).
#include <eddy/postgres/postgres_storage.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/postgres/postgres_event_store.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <postgres/pg_test_schema.hpp>
#include <support/event_store_suite_json.hpp>

namespace {

using eddy::test::es::added;
using eddy::test::es::conformance_events;
using eddy::test::postgres::conninfo;
using eddy::test::postgres::fresh_schema;
using store_type = eddy::postgres_event_store<conformance_events>;

// Appends `n` events to `stream` (group commit) and commits `n` units; counts the awaits that
// did not continue on a thread of `pool`.
eddy::task<int> off_pool_continuations(store_type* store, eddy::postgres_storage* db,
                                       eddy::thread_pool* pool, std::string stream, int n) {
    co_await pool->schedule();
    int off = 0;
    for (int i = 0; i < n; ++i) {
        std::vector<eddy::test::es::proposed> batch{added(stream, i)};
        co_await store->append(stream, eddy::expected_version::any(), std::move(batch));
        off += pool->on_pool_thread() ? 0 : 1;
        eddy::postgres_unit_of_work unit = db->begin();
        std::vector<eddy::test::es::proposed> in_unit{added(stream, -i)};
        store->append(unit, stream, eddy::expected_version::any(), std::move(in_unit));
        co_await db->commit(std::move(unit));
        off += pool->on_pool_thread() ? 0 : 1;
    }
    co_return off;
}
} // namespace

TEST_CASE("postgres_storage: awaiters continue on the storage's scheduler, never on its I/O "
          "thread",
          "[postgres][postgres_resume][concurrency]") {
    eddy::thread_pool pool(2);
    fresh_schema schema;
    eddy::postgres_storage db(conninfo(), pool, schema.options(4));
    store_type store(db);
    std::vector<eddy::task<int>> all;
    for (int i = 0; i < 16; ++i) {
        all.push_back(off_pool_continuations(&store, &db, &pool, "s" + std::to_string(i), 10));
    }
    const std::vector<int> off = eddy::sync_wait(eddy::when_all(std::move(all)));
    REQUIRE(off == std::vector<int>(16, 0));
}
