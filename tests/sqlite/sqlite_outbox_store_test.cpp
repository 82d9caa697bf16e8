// Tests of the SQLite outbox, inbox and idempotency stores: the outbox_store, inbox_store and
// idempotency_store conformance suites; one unit of work committing events, outbox messages,
// an inbox mark, a checkpoint and the user's own rows together, or none of them; messages,
// marks and keys surviving a reopen; two storages on one file (as two processes would) sharing
// the outbox without handing a message out twice; enqueue notifications; the user's SQL.
#include <eddy/sqlite/sqlite_outbox_store.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/outbox/duplicate_message.hpp>
#include <eddy/sqlite/sqlite_checkpoint_store.hpp>
#include <eddy/sqlite/sqlite_error.hpp>
#include <eddy/sqlite/sqlite_event_store.hpp>
#include <eddy/sqlite/sqlite_idempotency_store.hpp>
#include <eddy/sqlite/sqlite_inbox_store.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>
#include <eddy/stream/to_vector.hpp>

#include <outbox/conformance/idempotency_store_suite.hpp>
#include <outbox/conformance/inbox_store_suite.hpp>
#include <outbox/conformance/outbox_store_suite.hpp>
#include <sqlite/temp_dir.hpp>
#include <support/manual_clock.hpp>
#include <support/outbox_world.hpp>
#include <support/outbox_world_json.hpp>

namespace {

using namespace std::chrono_literals;
using namespace eddy::test::outbox;
using eddy::test::sqlite::temp_dir;
using outbox_type = eddy::sqlite_outbox_store<notice>;
using strings = std::vector<std::string>;

// Every store of the suites on one fresh file, its clock moved by hand.
struct sqlite_fixture {
    explicit sqlite_fixture(eddy::inline_scheduler& s, std::string file = "outbox.db")
        : path(dir.file(file)), storage(path, s) {}
    temp_dir dir;
    std::string path;
    eddy::test::manual_clock clock;
    eddy::sqlite_storage storage;
    eddy::sqlite_event_store<order_events> events{storage};
    outbox_type outbox{storage, {.name = "default", .clock = clock}};
    eddy::sqlite_inbox_store inbox{storage};
    eddy::sqlite_idempotency_store<std::string> keys{storage, "orders", clock};
    std::vector<eddy::outbox_message<notice>> messages() const {
        return eddy::sync_wait(outbox.messages());
    }
};

eddy::inline_scheduler inline_s;

std::unique_ptr<sqlite_fixture> fresh() { return std::make_unique<sqlite_fixture>(inline_s); }

} // namespace

static_assert(eddy::outbox_store<outbox_type>);
static_assert(eddy::inbox_store<eddy::sqlite_inbox_store>);
static_assert(eddy::idempotency_store<eddy::sqlite_idempotency_store<std::string>>);

TEST_CASE("sqlite_outbox_store passes the outbox_store conformance suite",
          "[sqlite][sqlite_outbox_store]") {
    outbox_store_conformance(fresh);
}

TEST_CASE("sqlite_inbox_store passes the inbox_store conformance suite",
          "[sqlite][sqlite_inbox_store]") {
    inbox_store_conformance(fresh);
}

TEST_CASE("sqlite_idempotency_store passes the idempotency_store conformance suite",
          "[sqlite][sqlite_idempotency_store]") {
    idempotency_store_conformance(fresh);
}

TEST_CASE("sqlite: one unit commits events, outbox, inbox mark, checkpoint and rows, or none",
          "[sqlite][sqlite_outbox_store]") {
    auto f = fresh();
    eddy::sqlite_checkpoint_store checkpoints(f->storage);
    (void)eddy::sync_wait(f->storage.execute(
        "CREATE TABLE order_view (id TEXT PRIMARY KEY, amount INTEGER NOT NULL)"));
    auto handle = [&](const std::string& message_id, const std::string& order, int amount,
                      std::uint64_t position) {
        auto unit = f->storage.begin();
        f->inbox.mark_processed(unit, "orders", message_id);
        f->events.append(unit, order, eddy::expected_version::no_stream(), {order_placed{amount}});
        f->outbox.enqueue(unit, {message(order, 1)});
        checkpoints.save_checkpoint(unit, "order_view", position);
        unit.execute("INSERT INTO order_view (id, amount) VALUES (?, ?)",
                     {order, static_cast<std::int64_t>(amount)});
        return eddy::sync_wait(f->storage.commit(std::move(unit)));
    };
    (void)handle("m1", "a", 10, 1);
    // A redelivery of m1 (about another order, even): nothing of it is written.
    CHECK_THROWS_AS(handle("m1", "b", 20, 2), eddy::duplicate_message);
    // A unit whose SQL fails (the row exists): nothing of it is written either.
    auto unit = f->storage.begin();
    f->inbox.mark_processed(unit, "orders", "m3");
    f->outbox.enqueue(unit, {message("a", 2)});
    unit.execute("INSERT INTO order_view (id, amount) VALUES (?, ?)", {"a", std::int64_t{1}});
    CHECK_THROWS_AS(eddy::sync_wait(f->storage.commit(std::move(unit))), eddy::sqlite_error);

    CHECK(names(f->messages()) == strings{"a#1"});
    CHECK(eddy::sync_wait(eddy::to_vector(f->events.read_all())).size() == 1);
    CHECK(eddy::sync_wait(checkpoints.load_checkpoint("order_view")) == 1);
    CHECK_FALSE(eddy::sync_wait(f->inbox.is_processed("orders", "m3")));
    const auto rows = eddy::sync_wait(f->storage.query("SELECT id, amount FROM order_view"));
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].text(0) == "a");
    CHECK(rows[0].integer(1) == 10);
}

TEST_CASE("sqlite: messages, leases, marks and keys survive closing and reopening the file",
          "[sqlite][sqlite_outbox_store]") {
    temp_dir dir;
    const std::string path = dir.file("reopen.db");
    eddy::test::manual_clock clock;
    eddy::uuid leased;
    {
        eddy::sqlite_storage storage(path, inline_s);
        outbox_type outbox(storage, {.clock = clock});
        eddy::sqlite_inbox_store inbox(storage);
        eddy::sqlite_idempotency_store<std::string> keys(storage, "orders", clock);
        auto unit = storage.begin();
        outbox.enqueue(unit, {message("a", 1), message("b", 1)});
        inbox.mark_processed(unit, "billing", "m1");
        (void)eddy::sync_wait(storage.commit(std::move(unit)));
        leased = eddy::sync_wait(outbox.claim("r1", 1, 10s)).at(0).id;
        CHECK_FALSE(eddy::sync_wait(keys.begin("k1", "fp", 1h)));
        eddy::sync_wait(keys.complete("k1", "receipt"));
    }
    eddy::sqlite_storage storage(path, inline_s);
    outbox_type outbox(storage, {.clock = clock});
    eddy::sqlite_inbox_store inbox(storage);
    eddy::sqlite_idempotency_store<std::string> keys(storage, "orders", clock);
    CHECK(names(eddy::sync_wait(outbox.messages())) == strings{"a#1", "b#1"});
    CHECK(names(eddy::sync_wait(outbox.claim("r2", 10, 10s))) == strings{"b#1"}); // a#1 leased
    clock.advance(10s);                                                           // both leases end
    const auto taken_over = eddy::sync_wait(outbox.claim("r2", 10, 10s));
    CHECK(names(taken_over) == strings{"a#1", "b#1"});
    CHECK(taken_over.at(0).id == leased);
    CHECK(eddy::sync_wait(inbox.is_processed("billing", "m1")));
    CHECK(eddy::sync_wait(keys.begin("k1", "fp", 1h)) == std::optional<std::string>("receipt"));
}

TEST_CASE("sqlite: two storages on one file share the outbox, never handing a message twice",
          "[sqlite][sqlite_outbox_store]") {
    temp_dir dir;
    const std::string path = dir.file("shared.db");
    eddy::sqlite_storage one(path, inline_s);
    eddy::sqlite_storage two(path, inline_s);
    outbox_type first(one);
    outbox_type second(two);
    auto unit = one.begin();
    std::vector<eddy::outbox_message<notice>> batch;
    for (int i = 1; i <= 10; ++i) {
        batch.push_back(message("order-" + std::to_string(i % 3), i));
    }
    first.enqueue(unit, std::move(batch));
    (void)eddy::sync_wait(one.commit(std::move(unit)));
    strings seen;
    for (int round = 0; round < 10; ++round) {
        auto& store = round % 2 == 0 ? first : second;
        for (const auto& m : eddy::sync_wait(store.claim(round % 2 == 0 ? "r1" : "r2", 2, 1min))) {
            seen.push_back(m.payload.order + "#" + std::to_string(m.payload.n));
            eddy::sync_wait(store.mark_published(round % 2 == 0 ? "r1" : "r2", {m.id}));
        }
    }
    std::sort(seen.begin(), seen.end());
    CHECK(seen.size() == 10);
    CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
    CHECK(eddy::sync_wait(second.stats()).published == 10);
}

TEST_CASE("sqlite: outboxes of different names share the file, not their messages",
          "[sqlite][sqlite_outbox_store]") {
    auto f = fresh();
    outbox_type other(f->storage, {.name = "other"});
    auto unit = f->storage.begin();
    f->outbox.enqueue(unit, {message("a", 1)});
    other.enqueue(unit, {message("b", 1)});
    (void)eddy::sync_wait(f->storage.commit(std::move(unit)));
    CHECK(names(f->messages()) == strings{"a#1"});
    CHECK(names(eddy::sync_wait(other.claim("r", 10, 1min))) == strings{"b#1"});
    CHECK_THROWS_WITH(outbox_type(f->storage, {.name = ""}), Catch::Contains("must not be empty"));
}

TEST_CASE("sqlite: enqueue listeners run after commits until destroyed",
          "[sqlite][sqlite_outbox_store]") {
    auto f = fresh();
    int calls = 0;
    {
        auto listener = f->outbox.on_enqueue([&] { ++calls; });
        enqueue_committed(*f, {message("a", 1)});
        CHECK(calls == 1);
        (void)eddy::sync_wait(f->outbox.claim("r", 10, 1min)); // a claim wakes nobody
        CHECK(calls == 1);
    }
    enqueue_committed(*f, {message("a", 2)});
    CHECK(calls == 1);
    CHECK_THROWS_WITH(f->outbox.on_enqueue({}), Catch::Contains("empty function"));
}

TEST_CASE("sqlite: the user's SQL: parameters, rows, typed columns and clear errors",
          "[sqlite][sqlite_storage]") {
    auto f = fresh();
    CHECK(eddy::sync_wait(f->storage.execute("CREATE TABLE t (a INTEGER, b REAL, c TEXT)")) == 0);
    CHECK(eddy::sync_wait(f->storage.execute("INSERT INTO t VALUES (?, ?, ?), (?, ?, ?)",
                                             {std::int64_t{1}, 2.5, "x", nullptr, 0.0, "y"})) == 2);
    const auto rows = eddy::sync_wait(f->storage.query("SELECT a, b, c FROM t ORDER BY c"));
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].integer(0) == 1);
    CHECK(rows[0].real(1) == 2.5);
    CHECK(rows[0].text(2) == "x");
    CHECK(rows[1].is_null(0));
    CHECK_THROWS_WITH(rows[0].text(0), Catch::Contains("column 0 is not TEXT"));
    CHECK_THROWS_WITH(rows[0].integer(3), Catch::Contains("column 3 of a row of 3"));
    CHECK_THROWS_WITH(eddy::sync_wait(f->storage.query("SELECT a FROM t WHERE a = ?")),
                      Catch::Contains("takes 1 parameters, 0 given"));
    CHECK_THROWS_AS(eddy::sync_wait(f->storage.query("SELEC nonsense")), eddy::sqlite_error);
}
