// Tests of the group commit of postgres_event_store's plain appends on a thread_pool
// ([concurrency]; the deterministic ones are in postgres_group_commit_test.cpp): 64 concurrent
// appenders, each appending one event at a time to its own stream with the version it expects,
// get exact versions and contiguous unique positions; a subscriber reading meanwhile sees every
// event once, in position order.
#include <eddy/postgres/postgres_event_store.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/stream/to_vector.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <postgres/pg_test_schema.hpp>
#include <support/event_store_suite_json.hpp>

namespace {

using eddy::test::es::added;
using eddy::test::es::conformance_events;
using eddy::test::es::envelope;
using eddy::test::es::proposed;
using eddy::test::postgres::admin;
using eddy::test::postgres::conninfo;
using eddy::test::postgres::fresh_schema;
using store_type = eddy::postgres_event_store<conformance_events>;

} // namespace

namespace {

// One appender: `count` appends of one event to its own stream, each expecting the version
// the previous one left; returns how many results were not the expected ones.
eddy::task<int> appender(store_type* store, eddy::thread_pool* pool, int n, int count) {
    co_await pool->schedule();
    int wrong = 0;
    const std::string stream = "c-" + std::to_string(n);
    for (int i = 0; i < count; ++i) {
        std::vector<proposed> batch{added(stream, i)};
        eddy::task<eddy::append_result> append =
            store->append(stream,
                          i == 0 ? eddy::expected_version::no_stream()
                                 : eddy::expected_version::exact(static_cast<std::uint64_t>(i)),
                          std::move(batch));
        const eddy::append_result r = co_await std::move(append);
        wrong += r.stream_version == static_cast<std::uint64_t>(i) + 1 &&
                         r.first_position == r.last_position
                     ? 0
                     : 1;
    }
    co_return wrong;
}

constexpr int appenders = 64;
constexpr int appends_each = 8;

std::vector<eddy::task<int>> all_appenders(store_type* store, eddy::thread_pool* pool) {
    std::vector<eddy::task<int>> all;
    for (int n = 0; n < appenders; ++n) {
        all.push_back(appender(store, pool, n, appends_each));
    }
    return all;
}

// Every stream at its last version, positions 1..total once each, each stream's events in
// version order.
void require_complete(const std::vector<envelope>& events) {
    REQUIRE(events.size() == static_cast<std::size_t>(appenders * appends_each));
    std::map<std::string, std::uint64_t> last;
    for (std::size_t i = 0; i < events.size(); ++i) {
        REQUIRE(events[i].global_position == i + 1);
        REQUIRE(events[i].stream_version == ++last[events[i].stream_id]);
    }
    REQUIRE(last.size() == static_cast<std::size_t>(appenders));
    for (const auto& [stream, version] : last) {
        REQUIRE(version == static_cast<std::uint64_t>(appends_each));
    }
}

} // namespace

TEST_CASE("postgres group commit: 64 concurrent appenders on a thread_pool get exact versions, "
          "contiguous unique positions",
          "[postgres][postgres_event_store][group_commit][concurrency]") {
    eddy::thread_pool pool(2);
    fresh_schema schema;
    store_type store(eddy::postgres_storage(conninfo(), pool, schema.options(4)));
    const std::vector<int> wrong = eddy::sync_wait(eddy::when_all(all_appenders(&store, &pool)));
    REQUIRE(wrong == std::vector<int>(appenders, 0));
    require_complete(eddy::test::es::read_all(store));
    REQUIRE(admin("SELECT count(DISTINCT event_id) FROM \"" + schema.name() + "\".events") ==
            std::to_string(appenders * appends_each));
}

TEST_CASE("postgres group commit: a subscriber sees every event of concurrent batched appends "
          "once, in position order",
          "[postgres][postgres_event_store][group_commit][concurrency]") {
    eddy::thread_pool pool(2);
    fresh_schema schema;
    eddy::postgres_options o = schema.options(4);
    o.poll_interval = std::chrono::milliseconds(20);
    store_type store(eddy::postgres_storage(conninfo(), pool, o));
    eddy::stream<envelope> sub = store.subscribe_all(1);
    auto [seen, wrong] =
        eddy::sync_wait(eddy::when_all(eddy::test::es::take_n(&sub, appenders * appends_each),
                                       eddy::when_all(all_appenders(&store, &pool))));
    REQUIRE(wrong == std::vector<int>(appenders, 0));
    require_complete(seen);
    REQUIRE(seen == eddy::test::es::read_all(store));
}
