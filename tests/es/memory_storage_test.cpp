// Tests of eddy::memory_storage and its units of work: the unit_of_work_storage concept, the
// unit of work conformance suite (multi-stream atomic appends: a conflict on one stream writes
// nothing of any and subscribers see nothing; appends to one stream in one unit; checkpoints;
// dropped units; ids repeated in a unit), read-model writes (on_commit) committed with the
// checkpoint or not at all, a throwing callback, stores of two event types in one unit, units
// of another storage, and concurrent units on a thread_pool ([concurrency]).
#include <eddy/es/memory_storage.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/duplicate_event_id.hpp>
#include <eddy/es/memory_checkpoint_store.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/es/unit_of_work_storage.hpp>
#include <eddy/stream/to_vector.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <es/conformance/unit_of_work_suite.hpp>
#include <support/detached.hpp>

namespace {

using eddy::test::es::added;
using eddy::test::es::conformance_events;
using eddy::test::es::envelope;
using eddy::test::es::positions;
using store_type = eddy::memory_event_store<conformance_events>;

struct stock_reserved {
    static constexpr std::string_view event_name = "stock_reserved";
    int quantity = 0;
};
using stock_events = std::variant<stock_reserved>;

template <class Store>
std::size_t count_stream(Store& store, std::string id) {
    return eddy::sync_wait(eddy::to_vector(store.read_stream(std::move(id), 1))).size();
}

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

TEST_CASE("memory_storage models unit_of_work_storage", "[es][memory_storage]") {
    STATIC_REQUIRE(eddy::unit_of_work_storage<eddy::memory_storage>);
    STATIC_REQUIRE(std::is_same_v<eddy::memory_storage::unit_type, eddy::memory_unit_of_work>);
    STATIC_REQUIRE(eddy::event_store<store_type>);
}

namespace {
struct memory_fixture {
    eddy::memory_storage storage;
    store_type events{storage};
    eddy::memory_checkpoint_store checkpoints{storage};
};
} // namespace

TEST_CASE("memory_storage passes the unit of work conformance suite", "[es][memory_storage]") {
    eddy::test::es::unit_of_work_conformance([] { return std::make_unique<memory_fixture>(); });
}

TEST_CASE("memory_storage: a checkpoint and a read-model write commit together or not at all",
          "[es][memory_storage]") {
    eddy::memory_storage storage;
    store_type events(storage);
    eddy::memory_checkpoint_store checkpoints(storage);
    int read_model = 0;

    auto unit = storage.begin();
    events.append(unit, "order-1", eddy::expected_version::no_stream(), {added("a", 1)});
    checkpoints.save_checkpoint(unit, "order-summary", 7);
    unit.on_commit([&read_model] { read_model += 10; });
    REQUIRE_FALSE(unit.empty());
    REQUIRE(read_model == 0);
    eddy::sync_wait(storage.commit(std::move(unit)));
    REQUIRE(read_model == 10);
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("order-summary")) == 7);
    REQUIRE(checkpoints.saves() == 1);

    SECTION("a failed check: no checkpoint, the read model untouched, no callback") {
        auto failing = storage.begin();
        checkpoints.save_checkpoint(failing, "order-summary", 8);
        failing.on_commit([&read_model] { read_model += 10; });
        events.append(failing, "order-1", eddy::expected_version::no_stream(), {added("b", 1)});
        REQUIRE_THROWS_AS(eddy::sync_wait(storage.commit(std::move(failing))),
                          eddy::concurrency_conflict);
        REQUIRE(read_model == 10);
        REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("order-summary")) == 7);
        REQUIRE(checkpoints.saves() == 1);
    }

    SECTION("a dropped unit writes nothing") {
        {
            auto dropped = storage.begin();
            checkpoints.save_checkpoint(dropped, "order-summary", 9);
            dropped.on_commit([&read_model] { read_model += 10; });
            events.append(dropped, "order-2", eddy::expected_version::any(), {added("c", 1)});
        }
        REQUIRE(read_model == 10);
        REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("order-summary")) == 7);
        REQUIRE(events.last_position() == 1);
    }

    SECTION("a throwing callback aborts the unit: nothing of the storage is written") {
        auto unit2 = storage.begin();
        checkpoints.save_checkpoint(unit2, "order-summary", 9);
        events.append(unit2, "order-2", eddy::expected_version::any(), {added("c", 1)});
        unit2.on_commit([] { throw eddy::error("read model full"); });
        REQUIRE_THROWS_WITH(eddy::sync_wait(storage.commit(std::move(unit2))), "read model full");
        REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("order-summary")) == 7);
        REQUIRE(events.last_position() == 1);
    }

    SECTION("an empty unit commits nothing but its callbacks") {
        auto only_callback = storage.begin();
        REQUIRE(only_callback.empty());
        only_callback.on_commit([&read_model] { ++read_model; });
        REQUIRE(eddy::sync_wait(storage.commit(std::move(only_callback))).appends.empty());
        REQUIRE(read_model == 11);
    }
}

TEST_CASE("memory_storage: stores of two event types and checkpoints share one unit",
          "[es][memory_storage]") {
    eddy::memory_storage storage([] { return std::chrono::system_clock::time_point{}; });
    store_type carts(storage);
    eddy::memory_event_store<stock_events> stock(storage);
    store_type same_carts(storage); // another handle to the same events
    auto unit = storage.begin();
    carts.append(unit, "cart-1", eddy::expected_version::no_stream(), {added("a", 1)});
    stock.append(unit, "stock-7", eddy::expected_version::no_stream(), {stock_reserved{3}});
    eddy::commit_result r = eddy::sync_wait(storage.commit(std::move(unit)));
    // Each event type is its own log: positions count per log.
    REQUIRE(r.appends == std::vector<eddy::append_result>{{1, 1, 1}, {1, 1, 1}});
    REQUIRE(count_stream(same_carts, "cart-1") == 1);
    REQUIRE(count_stream(stock, "stock-7") == 1);

    eddy::memory_storage other;
    auto foreign = other.begin();
    REQUIRE_THROWS_AS(
        carts.append(foreign, "cart-1", eddy::expected_version::any(), {added("b", 1)}),
        eddy::error);
    REQUIRE_THROWS_AS(eddy::sync_wait(storage.commit(other.begin())), eddy::error);
    REQUIRE_THROWS_AS(storage.begin().on_commit({}), eddy::error);
}

namespace {

struct totals {
    int units = 0;    // guarded by the storage's commit lock (on_commit)
    int reserved = 0; // guarded likewise
};

// Moves `count` items from stream "stock" to the worker's order stream, one unit each: an
// exact-version append to "stock" (retried on conflict), an append to the order stream, a
// checkpoint and a read-model write.
eddy::task<> unit_worker(eddy::memory_storage storage, store_type* events,
                         eddy::memory_checkpoint_store* checkpoints, eddy::thread_pool* pool,
                         int id, int count, totals* model) {
    co_await pool->schedule();
    for (int done = 0; done < count;) {
        auto unit = storage.begin();
        const std::uint64_t seen = events->stream_version("stock");
        events->append(unit, "stock", eddy::expected_version::exact(seen),
                       {added("w" + std::to_string(id), done)});
        events->append(unit, "order-" + std::to_string(id),
                       eddy::expected_version::exact(static_cast<std::uint64_t>(done)),
                       {added("o", done)});
        checkpoints->save_checkpoint(unit, "worker-" + std::to_string(id),
                                     static_cast<std::uint64_t>(done + 1));
        unit.on_commit([model] {
            ++model->units;
            model->reserved += 1;
        });
        bool conflict = false;
        try {
            co_await storage.commit(std::move(unit));
        } catch (const eddy::concurrency_conflict&) {
            conflict = true;
        }
        if (!conflict) {
            ++done;
        }
    }
}

} // namespace

TEST_CASE("memory_storage: concurrent units on a thread_pool commit atomically",
          "[es][memory_storage][concurrency]") {
    eddy::thread_pool pool(4);
    eddy::memory_storage storage;
    store_type events(storage);
    eddy::memory_checkpoint_store checkpoints(storage);
    totals model;
    constexpr int workers = 4;
    constexpr int per_worker = 40;
    std::vector<envelope> seen;
    eddy::test::outcome out;
    eddy::test::start(collect(events.subscribe_all(1), 2 * workers * per_worker, &seen), &out);

    std::vector<eddy::task<>> tasks;
    for (int i = 0; i < workers; ++i) {
        tasks.push_back(unit_worker(storage, &events, &checkpoints, &pool, i, per_worker, &model));
    }
    eddy::sync_wait(eddy::when_all(std::move(tasks)));

    REQUIRE(model.units == workers * per_worker);
    REQUIRE(model.reserved == workers * per_worker);
    REQUIRE(count_stream(events, "stock") == workers * per_worker);
    std::vector<envelope> all = eddy::sync_wait(eddy::to_vector(events.read_all(1)));
    REQUIRE(all.size() == 2 * workers * per_worker);
    // Each unit's two events are adjacent: a stock event, then its order event.
    for (std::size_t i = 0; i < all.size(); i += 2) {
        REQUIRE(all[i].stream_id == "stock");
        REQUIRE(all[i + 1].stream_id ==
                "order-" + std::get<eddy::test::es::item_added>(all[i].payload).sku.substr(1));
        REQUIRE(std::get<eddy::test::es::item_added>(all[i].payload).quantity ==
                std::get<eddy::test::es::item_added>(all[i + 1].payload).quantity);
    }
    for (int i = 0; i < workers; ++i) {
        REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("worker-" + std::to_string(i))) ==
                per_worker);
    }
    REQUIRE(out.done);
    REQUIRE(positions(seen) == positions(all));
}
