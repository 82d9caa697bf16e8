// tests/es/conformance/event_store_suite.hpp - the conformance suite of eddy::event_store: every
// store (memory now; SQLite and PostgreSQL later) runs these checks unchanged, on a store of
// `conformance_events` made fresh for each check by the caller's factory.
//
//     TEST_CASE("my store conforms", "[es][my_store]") {
//         eddy::test::es::event_store_conformance([] { return std::make_unique<my_store>(); });
//     }
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>   // std::sort
#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint64_t
#include <memory>      // std::unique_ptr
#include <mutex>       // std::mutex, std::lock_guard
#include <optional>    // std::optional
#include <string>      // std::string
#include <string_view> // std::string_view
#include <utility>     // std::move
#include <variant>     // std::variant, std::get
#include <vector>      // std::vector

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/duplicate_event_id.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/event_store.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/es/stream_metadata.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/to_vector.hpp>

namespace eddy::test::es {

struct item_added {
    static constexpr std::string_view event_name = "item_added";
    std::string sku;
    int quantity = 0;
    friend bool operator==(const item_added&, const item_added&) = default;
};

struct cart_checked_out {
    static constexpr std::string_view event_name = "cart_checked_out";
    static constexpr std::uint32_t schema_version = 2;
    int total = 0;
    friend bool operator==(const cart_checked_out&, const cart_checked_out&) = default;
};

using conformance_events = std::variant<item_added, cart_checked_out>;
using envelope = eddy::event_envelope<conformance_events>;
using proposed = eddy::proposed_event<conformance_events>;

inline proposed added(std::string sku, int quantity) {
    return proposed(item_added{std::move(sku), quantity});
}

// A fixed event id: 01890a5d-ac96-7000-8000-0000000000<n, two hex digits>.
inline eddy::uuid id_n(int n) {
    const char hex[] = "0123456789abcdef";
    std::string text = "01890a5d-ac96-7000-8000-0000000000";
    text.push_back(hex[(n >> 4) & 0xF]);
    text.push_back(hex[n & 0xF]);
    return *eddy::uuid::parse(text);
}

inline proposed added_with_id(int id, std::string sku, int quantity) {
    return proposed(item_added{std::move(sku), quantity}, {}, id_n(id));
}

// Runs `f` expecting duplicate_event_id for `id` with reason `why`; the message names the id.
template <class F>
void require_duplicate(F f, const eddy::uuid& id, eddy::duplicate_event_id::reason why) {
    try {
        f();
        FAIL("no duplicate_event_id");
    } catch (const eddy::duplicate_event_id& d) {
        REQUIRE(d.event_id() == id);
        REQUIRE(d.why() == why);
        REQUIRE_THAT(d.what(), Catch::Contains(id.to_string()));
    }
}

template <class Store>
std::vector<envelope> read_stream(Store& store, std::string id, std::uint64_t from = 1) {
    return eddy::sync_wait(eddy::to_vector(store.read_stream(std::move(id), from)));
}

template <class Store>
std::vector<envelope> read_all(Store& store, std::uint64_t from = 1) {
    return eddy::sync_wait(eddy::to_vector(store.read_all(from)));
}

template <class Store>
eddy::append_result append(Store& store, std::string id, eddy::expected_version expected,
                           std::vector<proposed> batch) {
    return eddy::sync_wait(store.append(std::move(id), expected, std::move(batch)));
}

// Pulls exactly n values of `s` (an event store subscription never ends on its own).
inline eddy::task<std::vector<envelope>> take_n(eddy::stream<envelope>* s, std::size_t n) {
    std::vector<envelope> out;
    while (out.size() < n) {
        std::optional<envelope> e = co_await s->next();
        if (!e) {
            break;
        }
        out.push_back(std::move(*e));
    }
    co_return out;
}

inline std::vector<std::uint64_t> positions(const std::vector<envelope>& events) {
    std::vector<std::uint64_t> out;
    for (const envelope& e : events) {
        out.push_back(e.global_position);
    }
    return out;
}

inline std::vector<std::uint64_t> versions(const std::vector<envelope>& events) {
    std::vector<std::uint64_t> out;
    for (const envelope& e : events) {
        out.push_back(e.stream_version);
    }
    return out;
}

/// The single-threaded checks. `make()` returns a `std::unique_ptr` to a fresh, empty store
/// whose `event_type` is `conformance_events`.
template <class MakeStore>
void event_store_conformance(MakeStore make) {
    using store_type = typename decltype(make())::element_type;
    STATIC_REQUIRE(eddy::event_store<store_type>);
    STATIC_REQUIRE(std::is_same_v<typename store_type::event_type, conformance_events>);

    SECTION("append to a new stream, then read it back with every field") {
        auto store = make();
        eddy::event_metadata md{.correlation_id = "corr-1",
                                .causation_id = "cause-1",
                                .tenant = "acme",
                                .traceparent =
                                    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                                .headers = {{"source", "web"}}};
        const eddy::uuid given = *eddy::uuid::parse("01890a5d-ac96-774b-bcce-b302099a8057");
        std::vector<proposed> batch{proposed(item_added{"apple", 2}, md, given),
                                    proposed(cart_checked_out{7})};
        eddy::append_result r =
            append(*store, "cart-1", eddy::expected_version::no_stream(), batch);
        REQUIRE(r == eddy::append_result{2, 1, 2});

        std::vector<envelope> events = read_stream(*store, "cart-1");
        REQUIRE(events.size() == 2);
        REQUIRE(events[0].event_id == given);
        REQUIRE(events[0].stream_id == "cart-1");
        REQUIRE(events[0].stream_version == 1);
        REQUIRE(events[0].global_position == 1);
        REQUIRE(events[0].type_name == "item_added");
        REQUIRE(events[0].schema_version == 1);
        REQUIRE(events[0].metadata == md);
        REQUIRE(std::get<item_added>(events[0].payload) == item_added{"apple", 2});
        REQUIRE(events[1].event_id.version() == 7); // assigned by the store
        REQUIRE(events[1].event_id != given);
        REQUIRE(events[1].stream_version == 2);
        REQUIRE(events[1].global_position == 2);
        REQUIRE(events[1].type_name == "cart_checked_out");
        REQUIRE(events[1].schema_version == 2);
        REQUIRE(events[1].metadata == eddy::event_metadata{});
        REQUIRE(std::get<cart_checked_out>(events[1].payload).total == 7);
    }

    SECTION("expected versions: exact, no stream, stream exists, any") {
        auto store = make();
        append(*store, "s", eddy::expected_version::no_stream(), {added("a", 1)});
        REQUIRE(append(*store, "s", eddy::expected_version::exact(1), {added("b", 1)}) ==
                eddy::append_result{2, 2, 2});
        REQUIRE(append(*store, "s", eddy::expected_version::stream_exists(), {added("c", 1)})
                    .stream_version == 3);
        REQUIRE(
            append(*store, "s", eddy::expected_version::any(), {added("d", 1)}).stream_version ==
            4);
        REQUIRE(append(*store, "t", eddy::expected_version::any(), {added("e", 1)}) ==
                eddy::append_result{1, 5, 5});
        REQUIRE(versions(read_stream(*store, "s")) == std::vector<std::uint64_t>{1, 2, 3, 4});
    }

    SECTION("a conflict names stream, expected and actual version and appends nothing") {
        auto store = make();
        append(*store, "s", eddy::expected_version::no_stream(), {added("a", 1), added("b", 1)});
        auto expect_conflict = [&](eddy::expected_version expected, std::string stream,
                                   std::uint64_t actual) {
            try {
                append(*store, stream, expected, {added("x", 1)});
                FAIL("no concurrency_conflict");
            } catch (const eddy::concurrency_conflict& c) {
                REQUIRE(c.stream() == stream);
                REQUIRE(c.expected() == expected);
                REQUIRE(c.actual() == actual);
            }
        };
        expect_conflict(eddy::expected_version::exact(1), "s", 2);
        expect_conflict(eddy::expected_version::exact(3), "s", 2);
        expect_conflict(eddy::expected_version::no_stream(), "s", 2);
        expect_conflict(eddy::expected_version::stream_exists(), "missing", 0);
        expect_conflict(eddy::expected_version::exact(1), "missing", 0);
        REQUIRE(read_all(*store).size() == 2);
        REQUIRE(read_stream(*store, "missing").empty());
        // The failed appends used no position: the next event is position 3.
        REQUIRE(append(*store, "missing", eddy::expected_version::no_stream(), {added("y", 1)}) ==
                eddy::append_result{1, 3, 3});
    }

    SECTION("an empty batch appends nothing but still checks the expectation") {
        auto store = make();
        append(*store, "s", eddy::expected_version::no_stream(), {added("a", 1)});
        REQUIRE(append(*store, "s", eddy::expected_version::exact(1), {}).stream_version == 1);
        REQUIRE_THROWS_AS(append(*store, "s", eddy::expected_version::exact(0), {}),
                          eddy::concurrency_conflict);
        REQUIRE(read_all(*store).size() == 1);
    }

    SECTION("read_stream from a version; read_all from a position, across streams") {
        auto store = make();
        append(*store, "a", eddy::expected_version::no_stream(), {added("a1", 1), added("a2", 1)});
        append(*store, "b", eddy::expected_version::no_stream(), {added("b1", 1)});
        append(*store, "a", eddy::expected_version::exact(2), {added("a3", 1)});

        std::vector<envelope> tail = read_stream(*store, "a", 2);
        REQUIRE(versions(tail) == std::vector<std::uint64_t>{2, 3});
        REQUIRE(positions(tail) == std::vector<std::uint64_t>{2, 4});
        REQUIRE(read_stream(*store, "a", 4).empty());
        REQUIRE(read_stream(*store, "nope").empty());

        std::vector<envelope> all = read_all(*store);
        REQUIRE(positions(all) == std::vector<std::uint64_t>{1, 2, 3, 4});
        std::vector<std::string> skus;
        for (const envelope& e : all) {
            skus.push_back(std::get<item_added>(e.payload).sku);
        }
        REQUIRE(skus == std::vector<std::string>{"a1", "a2", "b1", "a3"});
        REQUIRE(positions(read_all(*store, 3)) == std::vector<std::uint64_t>{3, 4});
        REQUIRE(read_all(*store, 5).empty());
    }

    SECTION("event ids are unique and time-ordered in commit order") {
        auto store = make();
        for (int i = 0; i < 20; ++i) {
            append(*store, "s" + std::to_string(i % 3), eddy::expected_version::any(),
                   {added("x", i)});
        }
        std::vector<envelope> all = read_all(*store);
        REQUIRE(all.size() == 20);
        for (std::size_t i = 1; i < all.size(); ++i) {
            REQUIRE(all[i - 1].event_id < all[i].event_id);
        }
    }

    SECTION("idempotent append: the same batch again returns the original result") {
        auto store = make();
        std::vector<proposed> batch{added_with_id(1, "a", 1), added_with_id(2, "b", 2)};
        const eddy::append_result first =
            append(*store, "s", eddy::expected_version::no_stream(), batch);
        REQUIRE(first == eddy::append_result{2, 1, 2});
        append(*store, "t", eddy::expected_version::no_stream(), {added("c", 3)});
        // The retry's expectation no longer holds; it was checked when the batch committed.
        REQUIRE(append(*store, "s", eddy::expected_version::no_stream(), batch) == first);
        REQUIRE(append(*store, "s", eddy::expected_version::any(), batch) == first);
        REQUIRE(positions(read_all(*store)) == std::vector<std::uint64_t>{1, 2, 3});
        REQUIRE(versions(read_stream(*store, "s")) == std::vector<std::uint64_t>{1, 2});
        // Still the next version is 3.
        REQUIRE(append(*store, "s", eddy::expected_version::exact(2), {added("d", 4)}) ==
                eddy::append_result{3, 4, 4});
    }

    SECTION("idempotent append: a stored id with another payload, stream or type is an error") {
        auto store = make();
        append(*store, "s", eddy::expected_version::no_stream(), {added_with_id(1, "a", 1)});
        using why = eddy::duplicate_event_id::reason;
        require_duplicate(
            [&] {
                append(*store, "s", eddy::expected_version::any(), {added_with_id(1, "a", 99)});
            },
            id_n(1), why::different_payload);
        require_duplicate(
            [&] {
                append(*store, "other", eddy::expected_version::any(), {added_with_id(1, "a", 1)});
            },
            id_n(1), why::different_stream);
        require_duplicate(
            [&] {
                append(*store, "s", eddy::expected_version::any(),
                       {proposed(cart_checked_out{1}, {}, id_n(1))});
            },
            id_n(1), why::different_type);
        REQUIRE(read_all(*store).size() == 1);
        REQUIRE(read_stream(*store, "other").empty());
    }

    SECTION("idempotent append: a partial overlap or another grouping is an error") {
        auto store = make();
        append(*store, "s", eddy::expected_version::no_stream(),
               {added_with_id(1, "a", 1), added_with_id(2, "b", 2)});
        using why = eddy::duplicate_event_id::reason;
        require_duplicate(
            [&] {
                append(*store, "s", eddy::expected_version::any(),
                       {added_with_id(2, "b", 2), added_with_id(3, "c", 3)});
            },
            id_n(2), why::partial_overlap);
        require_duplicate(
            [&] {
                append(*store, "s", eddy::expected_version::any(),
                       {added_with_id(1, "a", 1), added("new", 3)}); // a nil id is new
            },
            id_n(1), why::partial_overlap);
        require_duplicate(
            [&] { append(*store, "s", eddy::expected_version::any(), {added_with_id(1, "a", 1)}); },
            id_n(1), why::different_batch); // a part of the stored batch
        require_duplicate(
            [&] {
                append(*store, "s", eddy::expected_version::any(),
                       {added_with_id(2, "b", 2), added_with_id(1, "a", 1)});
            },
            id_n(2), why::different_batch); // reordered
        require_duplicate(
            [&] {
                append(*store, "s", eddy::expected_version::any(),
                       {added_with_id(5, "x", 1), added_with_id(5, "x", 1)});
            },
            id_n(5), why::repeated);
        REQUIRE(positions(read_all(*store)) == std::vector<std::uint64_t>{1, 2});
        // Nothing of the failed appends was stored: id 3 and id 5 are still free.
        REQUIRE(append(*store, "s", eddy::expected_version::exact(2),
                       {added_with_id(3, "c", 3), added_with_id(5, "x", 1)}) ==
                eddy::append_result{4, 3, 4});
    }

    SECTION("subscribe_all: catch-up, then the events appended later, no gap, no duplicate") {
        auto store = make();
        append(*store, "a", eddy::expected_version::no_stream(), {added("1", 1), added("2", 1)});
        eddy::stream<envelope> sub = store->subscribe_all(2);
        REQUIRE(positions(eddy::sync_wait(take_n(&sub, 1))) == std::vector<std::uint64_t>{2});
        append(*store, "b", eddy::expected_version::no_stream(), {added("3", 1)});
        append(*store, "a", eddy::expected_version::exact(2), {added("4", 1), added("5", 1)});
        REQUIRE(positions(eddy::sync_wait(take_n(&sub, 3))) == std::vector<std::uint64_t>{3, 4, 5});
        eddy::stream<envelope> from_start = store->subscribe_all(1);
        REQUIRE(positions(eddy::sync_wait(take_n(&from_start, 5))) ==
                std::vector<std::uint64_t>{1, 2, 3, 4, 5});
    }
}

/// The stream-metadata checks (truncate-before, max count, soft delete), for stores with
/// `set_stream_metadata`, `get_stream_metadata` and `delete_stream`.
template <class MakeStore>
void stream_metadata_conformance(MakeStore make) {
    auto five = [](auto& store) {
        append(store, "s", eddy::expected_version::no_stream(),
               {added("1", 1), added("2", 2), added("3", 3), added("4", 4), added("5", 5)});
        append(store, "other", eddy::expected_version::no_stream(), {added("o", 1)});
    };

    SECTION("truncate-before hides the older versions of the stream; versions keep counting") {
        auto store = make();
        five(*store);
        REQUIRE(eddy::sync_wait(store->get_stream_metadata("s")) == eddy::stream_metadata{});
        eddy::sync_wait(store->set_stream_metadata("s", {.truncate_before = 3}));
        REQUIRE(eddy::sync_wait(store->get_stream_metadata("s")) ==
                eddy::stream_metadata{.truncate_before = 3});
        REQUIRE(versions(read_stream(*store, "s")) == std::vector<std::uint64_t>{3, 4, 5});
        REQUIRE(versions(read_stream(*store, "s", 4)) == std::vector<std::uint64_t>{4, 5});
        REQUIRE(read_all(*store).size() == 6); // the global log is not truncated
        REQUIRE(append(*store, "s", eddy::expected_version::exact(5), {added("6", 6)}) ==
                eddy::append_result{6, 7, 7});
        REQUIRE(versions(read_stream(*store, "s")) == std::vector<std::uint64_t>{3, 4, 5, 6});
        eddy::sync_wait(store->set_stream_metadata("s", {.truncate_before = 10}));
        REQUIRE(read_stream(*store, "s").empty());
        eddy::sync_wait(store->set_stream_metadata("s", {}));
        REQUIRE(read_stream(*store, "s").size() == 6); // truncation is a read limit
        REQUIRE(read_stream(*store, "other").size() == 1);
    }

    SECTION("max count reads only the latest events") {
        auto store = make();
        five(*store);
        eddy::sync_wait(store->set_stream_metadata("s", {.max_count = 2}));
        REQUIRE(versions(read_stream(*store, "s")) == std::vector<std::uint64_t>{4, 5});
        append(*store, "s", eddy::expected_version::exact(5), {added("6", 6)});
        REQUIRE(versions(read_stream(*store, "s")) == std::vector<std::uint64_t>{5, 6});
        // With truncate-before too, the later start wins.
        eddy::sync_wait(store->set_stream_metadata("s", {.truncate_before = 2, .max_count = 4}));
        REQUIRE(versions(read_stream(*store, "s")) == std::vector<std::uint64_t>{3, 4, 5, 6});
        eddy::sync_wait(store->set_stream_metadata("s", {.truncate_before = 6, .max_count = 4}));
        REQUIRE(versions(read_stream(*store, "s")) == std::vector<std::uint64_t>{6});
    }

    SECTION("soft delete: reads see nothing; no_stream or any recreates, versions continue") {
        auto store = make();
        five(*store);
        REQUIRE_THROWS_AS(
            eddy::sync_wait(store->delete_stream("s", eddy::expected_version::exact(4))),
            eddy::concurrency_conflict);
        REQUIRE(read_stream(*store, "s").size() == 5);
        eddy::sync_wait(store->delete_stream("s", eddy::expected_version::exact(5)));
        REQUIRE(read_stream(*store, "s").empty());
        REQUIRE(read_all(*store).size() == 6);
        auto expect_conflict = [&](eddy::expected_version expected) {
            try {
                append(*store, "s", expected, {added("x", 1)});
                FAIL("no concurrency_conflict");
            } catch (const eddy::concurrency_conflict& c) {
                REQUIRE(c.actual() == 0); // a deleted stream is no stream to expectations
            }
        };
        expect_conflict(eddy::expected_version::exact(5));
        expect_conflict(eddy::expected_version::stream_exists());
        REQUIRE(append(*store, "s", eddy::expected_version::no_stream(), {added("new", 1)}) ==
                eddy::append_result{6, 7, 7});
        std::vector<envelope> recreated = read_stream(*store, "s");
        REQUIRE(versions(recreated) == std::vector<std::uint64_t>{6});
        REQUIRE(std::get<item_added>(recreated[0].payload).sku == "new");
        REQUIRE(append(*store, "s", eddy::expected_version::exact(6), {added("more", 1)})
                    .stream_version == 7);
        eddy::sync_wait(store->delete_stream("s", eddy::expected_version::any()));
        REQUIRE(append(*store, "s", eddy::expected_version::any(), {added("again", 1)})
                    .stream_version == 8);
        REQUIRE(versions(read_stream(*store, "s")) == std::vector<std::uint64_t>{8});
        // A deleted stream's events stay in the global log; truncation metadata is kept apart.
        REQUIRE(read_all(*store).size() == 9);
        REQUIRE(eddy::sync_wait(store->get_stream_metadata("s")) == eddy::stream_metadata{});
    }
}

// 1: won; 0: lost to the other appender with the right actual version; -1: anything else.
// (No REQUIRE here: Catch2 v2 assertions are not thread-safe. g++ 12 rejects these coroutines
// as members of a local class, hence namespace scope.)
template <class Store>
eddy::task<int> race_once(Store* s, eddy::thread_pool* p, std::uint64_t expected, std::string sku) {
    co_await p->schedule();
    bool conflict_as_expected = false;
    try {
        // g++ 12: a string literal as a by-value std::string argument inside co_await in a
        // template is "array used as initializer"; build the arguments first.
        std::vector<proposed> batch{added(std::move(sku), 1)};
        co_await s->append(std::string("race"), eddy::expected_version::exact(expected),
                           std::move(batch));
        co_return 1;
    } catch (const eddy::concurrency_conflict& c) {
        conflict_as_expected = c.actual() == expected + 1;
    }
    co_return conflict_as_expected ? 0 : -1;
}

// Appends `count` events to stream "hot", retrying each with the actual version a conflict
// reports; records the expected version of each successful append.
template <class Store>
eddy::task<> race_writer(Store* s, eddy::thread_pool* p, int id, int count, std::mutex* m,
                         std::vector<std::uint64_t>* wins) {
    co_await p->schedule();
    std::uint64_t expected = 0;
    for (int done = 0; done < count;) {
        std::optional<std::uint64_t> actual;
        try {
            std::vector<proposed> batch{
                added("w" + std::to_string(id) + "-" + std::to_string(done), id)};
            co_await s->append(std::string("hot"), eddy::expected_version::exact(expected),
                               std::move(batch));
        } catch (const eddy::concurrency_conflict& c) {
            actual = c.actual();
        }
        if (actual) {
            expected = *actual;
            continue;
        }
        {
            std::lock_guard lock(*m);
            wins->push_back(expected);
        }
        ++expected;
        ++done;
    }
}

// Appends `count` single events to its own stream with expected version any.
template <class Store>
eddy::task<> steady_writer(Store* s, eddy::thread_pool* p, int id, int count) {
    co_await p->schedule();
    for (int i = 0; i < count; ++i) {
        std::vector<proposed> batch{added("w" + std::to_string(id), i)};
        std::string stream = "writer-" + std::to_string(id);
        co_await s->append(std::move(stream), eddy::expected_version::any(), std::move(batch));
    }
}

// Appends `count` events to stream "flaky-<id>"; every other append expects a version the
// stream does not have, so it fails (a rolled-back append) and is not retried. Returns how
// many appends succeeded.
template <class Store>
eddy::task<int> flaky_writer(Store* s, eddy::thread_pool* p, int id, int count) {
    co_await p->schedule();
    int written = 0;
    for (int i = 0; i < count; ++i) {
        std::vector<proposed> batch{added("f" + std::to_string(id), written)};
        std::string stream = "flaky-" + std::to_string(id);
        const auto expected =
            i % 2 == 0 ? eddy::expected_version::exact(static_cast<std::uint64_t>(written))
                       : eddy::expected_version::exact(1'000'000);
        bool failed = false;
        try {
            (void)co_await s->append(std::move(stream), expected, std::move(batch));
        } catch (const eddy::concurrency_conflict&) {
            failed = true;
        }
        written += failed ? 0 : 1;
    }
    co_return written;
}

// Appends `batch` (fixed ids) to stream "retry" from a thread of `p`.
template <class Store>
eddy::task<eddy::append_result> retry_append(Store* s, eddy::thread_pool* p,
                                             std::vector<proposed> batch) {
    co_await p->schedule();
    std::string stream = "retry";
    co_return co_await s->append(std::move(stream), eddy::expected_version::any(),
                                 std::move(batch));
}

/// Writers racing on one stream from the threads of `pool`. Tag the calling test
/// `[concurrency]`.
template <class MakeStore>
void event_store_concurrency_conformance(MakeStore make, eddy::thread_pool& pool) {
    SECTION("two appenders with the same expected version: exactly one wins, every time") {
        auto store = make();
        constexpr std::uint64_t rounds = 50;
        for (std::uint64_t v = 0; v < rounds; ++v) {
            auto [a, b] = eddy::sync_wait(eddy::when_all(race_once(store.get(), &pool, v, "a"),
                                                         race_once(store.get(), &pool, v, "b")));
            REQUIRE(a + b == 1); // one won (1), the other saw the winner's version (0)
            REQUIRE((a == 1 || b == 1));
        }
        REQUIRE(versions(read_stream(*store, "race")).size() == rounds);
    }

    SECTION("a subscriber sees every event once, in position order, while writers append") {
        auto store = make();
        constexpr int writers = 4;
        constexpr int per_writer = 50;
        eddy::stream<envelope> sub = store->subscribe_all(1);
        auto [seen, w0, w1, w2, w3] = eddy::sync_wait(eddy::when_all(
            take_n(&sub, writers * per_writer), steady_writer(store.get(), &pool, 0, per_writer),
            steady_writer(store.get(), &pool, 1, per_writer),
            steady_writer(store.get(), &pool, 2, per_writer),
            steady_writer(store.get(), &pool, 3, per_writer)));
        REQUIRE(seen.size() == writers * per_writer);
        std::vector<int> next(writers, 0);
        for (std::size_t i = 0; i < seen.size(); ++i) {
            REQUIRE(seen[i].global_position == i + 1); // no gap, no duplicate, in order
            const item_added& e = std::get<item_added>(seen[i].payload);
            const auto writer = static_cast<std::size_t>(e.sku[1] - '0');
            REQUIRE(e.quantity == next[writer]++); // each stream in its own order
            REQUIRE(seen[i].stream_version == static_cast<std::uint64_t>(e.quantity) + 1);
        }
    }

    SECTION("appends that fail (rolled back) leave no gap for a subscriber") {
        auto store = make();
        constexpr int per_writer = 40; // half of them fail
        eddy::stream<envelope> sub = store->subscribe_all(1);
        auto [seen, a, b, c] = eddy::sync_wait(eddy::when_all(
            take_n(&sub, 3 * per_writer / 2), flaky_writer(store.get(), &pool, 0, per_writer),
            flaky_writer(store.get(), &pool, 1, per_writer),
            flaky_writer(store.get(), &pool, 2, per_writer)));
        REQUIRE(a + b + c == 3 * per_writer / 2);
        REQUIRE(seen.size() == 3 * per_writer / 2);
        for (std::size_t i = 0; i < seen.size(); ++i) {
            REQUIRE(seen[i].global_position == i + 1); // no gap where the failures were
        }
        REQUIRE(positions(eddy::sync_wait(eddy::to_vector(store->read_all(1)))).size() ==
                seen.size());
    }

    SECTION("the same batch appended by racing retries is stored once; all see one result") {
        auto store = make();
        for (int round = 0; round < 20; ++round) {
            std::vector<proposed> batch{added_with_id(2 * round, "a", round),
                                        added_with_id(2 * round + 1, "b", round)};
            auto [a, b, c] = eddy::sync_wait(eddy::when_all(
                retry_append(store.get(), &pool, batch), retry_append(store.get(), &pool, batch),
                retry_append(store.get(), &pool, batch)));
            const auto r = static_cast<std::uint64_t>(round);
            REQUIRE(a == eddy::append_result{2 * r + 2, 2 * r + 1, 2 * r + 2});
            REQUIRE(b == a);
            REQUIRE(c == a);
        }
        REQUIRE(positions(read_all(*store)).size() == 40);
    }

    SECTION("8 writers on one stream: each version is won by exactly one append") {
        auto store = make();
        constexpr int writers = 8;
        constexpr int per_writer = 25;
        std::mutex mutex;
        std::vector<std::uint64_t> won; // the expected versions of the successful appends
        std::vector<eddy::task<>> tasks;
        for (int i = 0; i < writers; ++i) {
            tasks.push_back(race_writer(store.get(), &pool, i, per_writer, &mutex, &won));
        }
        eddy::sync_wait(eddy::when_all(std::move(tasks)));

        std::sort(won.begin(), won.end());
        std::vector<std::uint64_t> every(writers * per_writer);
        for (std::size_t i = 0; i < every.size(); ++i) {
            every[i] = i;
        }
        REQUIRE(won == every);
        std::vector<envelope> events = read_stream(*store, "hot");
        REQUIRE(events.size() == every.size());
        // Each writer's events keep its order within the stream.
        std::vector<int> next(writers, 0);
        for (std::size_t i = 0; i < events.size(); ++i) {
            REQUIRE(events[i].stream_version == i + 1);
            REQUIRE(events[i].global_position == i + 1);
            const item_added& e = std::get<item_added>(events[i].payload);
            REQUIRE(e.sku == "w" + std::to_string(e.quantity) + "-" +
                                 std::to_string(next[static_cast<std::size_t>(e.quantity)]++));
        }
    }
}

} // namespace eddy::test::es
