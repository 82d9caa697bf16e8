// tests/es/conformance/unit_of_work_suite.hpp - the conformance suite of a unit-of-work storage
// with its event store and checkpoint store: every storage (memory now; SQLite and PostgreSQL
// later, where a unit is one transaction) runs these checks unchanged, on a fresh fixture from
// the caller's factory.
//
//     TEST_CASE("my storage conforms", "[es][my_storage]") {
//         eddy::test::es::unit_of_work_conformance([] { return std::make_unique<my_fixture>(); });
//     }
// A fixture has members `storage` (an eddy::unit_of_work_storage), `events` (an
// eddy::event_store of conformance_events on that storage, with
// `append(unit&, stream, expected, batch)` returning the result's index) and `checkpoints` (an
// eddy::unit_checkpoint_store on that storage).
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint64_t
#include <optional> // std::optional
#include <string>   // std::string
#include <utility>  // std::move
#include <vector>   // std::vector

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/duplicate_event_id.hpp>
#include <eddy/es/unit_checkpoint_store.hpp>
#include <eddy/es/unit_of_work_storage.hpp>
#include <eddy/stream/stream.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <support/detached.hpp>

namespace eddy::test::es {

// Pulls values of `s` into `*out` until it holds n (a subscription never ends on its own).
inline eddy::task<> collect_n(eddy::stream<envelope> s, std::size_t n, std::vector<envelope>* out) {
    while (out->size() < n) {
        std::optional<envelope> e = co_await s.next();
        if (!e) {
            co_return;
        }
        out->push_back(std::move(*e));
    }
}

/// The single-threaded checks of units of work. `make()` returns a `std::unique_ptr` to a
/// fresh fixture (see the top of this file).
template <class MakeFixture>
void unit_of_work_conformance(MakeFixture make) {
    using fixture_type = typename decltype(make())::element_type;
    using storage_type = decltype(fixture_type::storage);
    STATIC_REQUIRE(eddy::unit_of_work_storage<storage_type>);
    STATIC_REQUIRE(eddy::unit_checkpoint_store<decltype(fixture_type::checkpoints)>);
    STATIC_REQUIRE(eddy::event_store<decltype(fixture_type::events)>);

    SECTION("one conflicting stream: nothing of any stream is written or seen") {
        auto f = make();
        append(f->events, "stock-7", eddy::expected_version::no_stream(), {added("s", 1)});
        std::vector<envelope> seen;
        eddy::test::outcome out;
        eddy::test::start(collect_n(f->events.subscribe_all(2), 1, &seen), &out);

        auto unit = f->storage.begin();
        f->events.append(unit, "order-1", eddy::expected_version::no_stream(),
                         {added("a", 1), added("b", 2)});
        f->events.append(unit, "stock-7", eddy::expected_version::exact(0), {added("c", 3)});
        f->checkpoints.save_checkpoint(unit, "p", 9);
        try {
            eddy::sync_wait(f->storage.commit(std::move(unit)));
            FAIL("no concurrency_conflict");
        } catch (const eddy::concurrency_conflict& c) {
            REQUIRE(c.stream() == "stock-7");
            REQUIRE(c.actual() == 1);
        }
        REQUIRE(read_stream(f->events, "order-1").empty());
        REQUIRE(read_all(f->events).size() == 1);
        REQUIRE(eddy::sync_wait(f->checkpoints.load_checkpoint("p")) == 0);
        REQUIRE(seen.empty());
        REQUIRE_FALSE(out.done);
        // The failed unit used no position.
        REQUIRE(append(f->events, "x", eddy::expected_version::any(), {added("x", 1)}) ==
                eddy::append_result{1, 2, 2});
        REQUIRE(out.done);
        REQUIRE(positions(seen) == std::vector<std::uint64_t>{2});
    }

    SECTION("every check passes: all streams and the checkpoint are written together") {
        auto f = make();
        append(f->events, "stock-7", eddy::expected_version::no_stream(), {added("s", 1)});
        std::vector<envelope> seen;
        eddy::test::outcome out;
        eddy::test::start(collect_n(f->events.subscribe_all(2), 3, &seen), &out);

        auto unit = f->storage.begin();
        const std::size_t first = f->events.append(
            unit, "order-1", eddy::expected_version::no_stream(), {added("a", 1), added("b", 2)});
        const std::size_t second =
            f->events.append(unit, "stock-7", eddy::expected_version::exact(1), {added("c", 3)});
        f->checkpoints.save_checkpoint(unit, "p", 4);
        REQUIRE(first == 0);
        REQUIRE(second == 1);
        REQUIRE(seen.empty()); // nothing before the commit
        eddy::commit_result r = eddy::sync_wait(f->storage.commit(std::move(unit)));
        REQUIRE(r.appends == std::vector<eddy::append_result>{{2, 2, 3}, {2, 4, 4}});
        REQUIRE(out.done);
        REQUIRE(positions(seen) == std::vector<std::uint64_t>{2, 3, 4});
        REQUIRE(seen[2].stream_id == "stock-7");
        REQUIRE(seen[2].stream_version == 2);
        REQUIRE(eddy::sync_wait(f->checkpoints.load_checkpoint("p")) == 4);
    }

    SECTION("appends to one stream in one unit see each other's versions") {
        auto f = make();
        auto unit = f->storage.begin();
        f->events.append(unit, "s", eddy::expected_version::no_stream(), {added("a", 1)});
        f->events.append(unit, "s", eddy::expected_version::exact(1),
                         {added("b", 1), added("c", 1)});
        f->events.append(unit, "s", eddy::expected_version::exact(3), {});
        eddy::commit_result r = eddy::sync_wait(f->storage.commit(std::move(unit)));
        REQUIRE(r.appends == std::vector<eddy::append_result>{{1, 1, 1}, {3, 2, 3}, {3, 4, 3}});

        auto stale = f->storage.begin();
        f->events.append(stale, "s", eddy::expected_version::exact(3), {added("d", 1)});
        f->events.append(stale, "s", eddy::expected_version::exact(3), {added("e", 1)});
        REQUIRE_THROWS_AS(eddy::sync_wait(f->storage.commit(std::move(stale))),
                          eddy::concurrency_conflict);
        REQUIRE(versions(read_stream(f->events, "s")) == std::vector<std::uint64_t>{1, 2, 3});
    }

    SECTION("a dropped unit writes nothing") {
        auto f = make();
        {
            auto dropped = f->storage.begin();
            f->checkpoints.save_checkpoint(dropped, "p", 9);
            f->events.append(dropped, "s", eddy::expected_version::any(), {added("c", 1)});
        }
        REQUIRE(eddy::sync_wait(f->checkpoints.load_checkpoint("p")) == 0);
        REQUIRE(read_all(f->events).empty());
    }

    SECTION("an id twice in a unit is an error; a stored batch in a unit is idempotent") {
        auto f = make();
        auto unit = f->storage.begin();
        f->events.append(unit, "a", eddy::expected_version::any(), {added_with_id(1, "x", 1)});
        f->events.append(unit, "b", eddy::expected_version::any(), {added_with_id(1, "x", 1)});
        require_duplicate([&] { eddy::sync_wait(f->storage.commit(std::move(unit))); }, id_n(1),
                          eddy::duplicate_event_id::reason::repeated);
        REQUIRE(read_all(f->events).empty());

        const eddy::append_result first =
            append(f->events, "a", eddy::expected_version::any(), {added_with_id(1, "x", 1)});
        auto retry = f->storage.begin();
        f->events.append(retry, "b", eddy::expected_version::any(), {added("y", 2)});
        f->events.append(retry, "a", eddy::expected_version::no_stream(),
                         {added_with_id(1, "x", 1)});
        eddy::commit_result r = eddy::sync_wait(f->storage.commit(std::move(retry)));
        REQUIRE(r.appends == std::vector<eddy::append_result>{{1, 2, 2}, first});
        REQUIRE(read_all(f->events).size() == 2);

        auto bad = f->storage.begin();
        f->checkpoints.save_checkpoint(bad, "p", 5);
        f->events.append(bad, "a", eddy::expected_version::any(), {added_with_id(1, "x", 99)});
        require_duplicate([&] { eddy::sync_wait(f->storage.commit(std::move(bad))); }, id_n(1),
                          eddy::duplicate_event_id::reason::different_payload);
        REQUIRE(eddy::sync_wait(f->checkpoints.load_checkpoint("p")) == 0);
    }
}

} // namespace eddy::test::es
