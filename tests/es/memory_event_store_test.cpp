// Tests of eddy::memory_event_store: the event_store conformance suite (single-threaded and
// [concurrency] writers on a thread_pool), injected clock and random bits (exact ids and times),
// a subscriber waiting for events resumed by the append, cancellation of that wait, streams
// outliving the store.
#include <eddy/es/memory_event_store.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/stream/to_vector.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <support/detached.hpp>

namespace {

using eddy::test::es::added;
using eddy::test::es::conformance_events;
using eddy::test::es::envelope;
using store_type = eddy::memory_event_store<conformance_events>;

eddy::task<> collect(eddy::stream<envelope> s, std::size_t n, std::vector<envelope>* out) {
    while (out->size() < n) {
        std::optional<envelope> e = co_await s.next();
        if (!e) {
            co_return;
        }
        out->push_back(std::move(*e));
    }
}

} // namespace

TEST_CASE("memory_event_store passes the event_store conformance suite",
          "[es][memory_event_store]") {
    eddy::test::es::event_store_conformance([] { return std::make_unique<store_type>(); });
}

TEST_CASE("memory_event_store passes the stream metadata conformance suite",
          "[es][memory_event_store]") {
    eddy::test::es::stream_metadata_conformance([] { return std::make_unique<store_type>(); });
}

TEST_CASE("memory_event_store: metadata changed while a read_stream is being pulled",
          "[es][memory_event_store]") {
    store_type store;
    eddy::sync_wait(store.append("s", eddy::expected_version::any(),
                                 {added("1", 1), added("2", 1), added("3", 1), added("4", 1)}));
    eddy::stream<envelope> reader = store.read_stream("s", 1);
    auto first = eddy::sync_wait(eddy::test::es::take_n(&reader, 1));
    REQUIRE(eddy::test::es::versions(first) == std::vector<std::uint64_t>{1});
    eddy::sync_wait(store.set_stream_metadata("s", {.truncate_before = 3}));
    auto rest = eddy::sync_wait(eddy::to_vector(std::move(reader)));
    REQUIRE(eddy::test::es::versions(rest) == std::vector<std::uint64_t>{3, 4});
    eddy::sync_wait(store.delete_stream("s", eddy::expected_version::exact(4)));
    REQUIRE(store.stream_version("s") == 0);
    REQUIRE(store.last_position() == 4);
}

TEST_CASE("memory_event_store: racing writers on a thread_pool",
          "[es][memory_event_store][concurrency]") {
    eddy::thread_pool pool(4);
    eddy::test::es::event_store_concurrency_conformance(
        [] { return std::make_unique<store_type>(); }, pool);
}

TEST_CASE("memory_event_store: ids and times come from the injected clock and random source",
          "[es][memory_event_store]") {
    using namespace std::chrono;
    const system_clock::time_point t0{milliseconds(1'700'000'000'123)};
    system_clock::time_point now = t0;
    store_type store([&now] { return now; }, [] { return std::uint64_t{0x0123456789abcdefULL}; });
    eddy::sync_wait(
        store.append("s", eddy::expected_version::any(), {added("a", 1), added("b", 1)}));
    now += milliseconds(5);
    eddy::sync_wait(store.append("s", eddy::expected_version::any(), {added("c", 1)}));

    auto all = eddy::sync_wait(eddy::to_vector(store.read_all(1)));
    REQUIRE(all.size() == 3);
    REQUIRE(all[0].recorded_at == t0);
    REQUIRE(all[1].recorded_at == t0);
    REQUIRE(all[2].recorded_at == t0 + milliseconds(5));
    // 1700000000123 = 0x018bcfe5687b; counter 0, 1 in the same millisecond; then 0 again.
    REQUIRE(all[0].event_id.to_string() == "018bcfe5-687b-7000-8123-456789abcdef");
    REQUIRE(all[1].event_id.to_string() == "018bcfe5-687b-7001-8123-456789abcdef");
    REQUIRE(all[2].event_id.to_string() == "018bcfe5-6880-7000-8123-456789abcdef");
    REQUIRE(store.stream_version("s") == 3);
    REQUIRE(store.stream_version("other") == 0);
    REQUIRE(store.last_position() == 3);
}

TEST_CASE("memory_event_store: a subscriber waiting for events is resumed by the append",
          "[es][memory_event_store]") {
    store_type store;
    std::vector<envelope> seen;
    eddy::test::outcome out;
    eddy::test::start(collect(store.subscribe_all(1), 3, &seen), &out);
    REQUIRE_FALSE(out.done); // nothing to read yet: it waits
    eddy::sync_wait(store.append("a", eddy::expected_version::any(), {added("1", 1)}));
    REQUIRE(seen.size() == 1); // resumed inside the append
    REQUIRE_FALSE(out.done);
    eddy::sync_wait(
        store.append("b", eddy::expected_version::any(), {added("2", 1), added("3", 1)}));
    REQUIRE(out.done);
    REQUIRE_FALSE(out.error);
    REQUIRE(eddy::test::es::positions(seen) == std::vector<std::uint64_t>{1, 2, 3});
}

TEST_CASE("memory_event_store: stopping a waiting subscriber ends it with operation_cancelled",
          "[es][memory_event_store]") {
    store_type store;
    std::stop_source stop;
    std::vector<envelope> seen;
    eddy::test::outcome out;
    eddy::test::start(
        eddy::with_stop_token(collect(store.subscribe_all(1), 5, &seen), stop.get_token()), &out);
    eddy::sync_wait(store.append("a", eddy::expected_version::any(), {added("1", 1)}));
    REQUIRE_FALSE(out.done);
    stop.request_stop();
    REQUIRE(out.done);
    REQUIRE(eddy::test::failed_with<eddy::operation_cancelled>(out));
    REQUIRE(seen.size() == 1);
    // The store still works for others.
    eddy::sync_wait(store.append("a", eddy::expected_version::exact(1), {added("2", 1)}));
    REQUIRE(store.last_position() == 2);
}

TEST_CASE("memory_event_store: streams outlive the store object", "[es][memory_event_store]") {
    eddy::stream<envelope> s;
    {
        store_type store;
        eddy::sync_wait(store.append("a", eddy::expected_version::any(), {added("1", 1)}));
        s = store.read_stream("a", 1);
    }
    auto events = eddy::sync_wait(eddy::to_vector(std::move(s)));
    REQUIRE(events.size() == 1);
    REQUIRE(std::get<eddy::test::es::item_added>(events[0].payload).sku == "1");
}
