// Tests of the PostgreSQL outbox, inbox, idempotency and snapshot stores and the saga log on a
// throwaway server (scripts/test): the outbox_store, inbox_store and idempotency_store
// conformance suites; one
// unit committing events, outbox messages, an inbox mark and a checkpoint together, or none;
// outboxes of different names; enqueue listeners woken by this storage's commits and, through
// LISTEN/NOTIFY, by another storage's (never twice by their own); an eddy::outbox_relay
// publishing from it; snapshots (newer wins, kinds
// apart, an undecodable state); the saga log (every field, errors, logs apart, unfinished); a
// schema written by the first release migrating forward with its events.
// (On threads, relays of two storages and sagas on a pool: postgres_outbox_relay_test.cpp.)
#include <eddy/postgres/postgres_outbox_store.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/decode_error.hpp>
#include <eddy/es/snapshot_store.hpp>
#include <eddy/outbox/duplicate_message.hpp>
#include <eddy/outbox/outbox_relay.hpp>
#include <eddy/postgres/detail/schema.hpp>
#include <eddy/postgres/postgres_checkpoint_store.hpp>
#include <eddy/postgres/postgres_event_store.hpp>
#include <eddy/postgres/postgres_idempotency_store.hpp>
#include <eddy/postgres/postgres_inbox_store.hpp>
#include <eddy/postgres/postgres_saga_log.hpp>
#include <eddy/postgres/postgres_snapshot_store.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/saga/saga_log.hpp>
#include <eddy/stream/to_vector.hpp>

#include <outbox/conformance/idempotency_store_suite.hpp>
#include <outbox/conformance/inbox_store_suite.hpp>
#include <outbox/conformance/outbox_store_suite.hpp>
#include <postgres/pg_test_schema.hpp>
#include <support/manual_clock.hpp>
#include <support/outbox_world.hpp>
#include <support/outbox_world_json.hpp>

namespace {

using namespace std::chrono_literals;
using namespace eddy::test::outbox;
using eddy::test::postgres::admin;
using eddy::test::postgres::conninfo;
using eddy::test::postgres::fresh_schema;
using outbox_type = eddy::postgres_outbox_store<notice>;
using strings = std::vector<std::string>;

eddy::inline_scheduler inline_s;

// Every store of the suites on a fresh schema, its clock moved by hand.
struct pg_fixture {
    pg_fixture() : storage(conninfo(), inline_s, schema.options(2)) {}
    fresh_schema schema;
    eddy::test::manual_clock clock;
    eddy::postgres_storage storage;
    eddy::postgres_event_store<order_events> events{storage};
    outbox_type outbox{storage, {.name = "default", .clock = clock}};
    eddy::postgres_inbox_store inbox{storage};
    eddy::postgres_idempotency_store<std::string> keys{storage, "orders", clock};
    std::vector<eddy::outbox_message<notice>> messages() const {
        return eddy::sync_wait(outbox.messages());
    }
};

// A bus that records what it is given.
struct recording_bus {
    strings published; // "<key>#<n>"
    strings message_ids;
    template <class T>
    eddy::task<eddy::publish_result> publish(std::string topic, std::string key, T value,
                                             eddy::headers h) {
        published.push_back(key + "#" + std::to_string(value.n));
        message_ids.push_back(std::string(h.get(eddy::message_id_header).value_or("")));
        (void)topic;
        co_return eddy::publish_result{};
    }
};

// The stores on an existing schema.
struct pg_fixture_on {
    explicit pg_fixture_on(const fresh_schema& schema)
        : storage(conninfo(), inline_s, schema.options(2)) {}
    eddy::postgres_storage storage;
    eddy::postgres_event_store<order_events> events{storage};
    outbox_type outbox{storage};
};

std::unique_ptr<pg_fixture> fresh() { return std::make_unique<pg_fixture>(); }

// Counts calls; waits (for a thread it does not control) until a count is reached.
class counter {
public:
    void operator()() {
        {
            std::lock_guard lock(m_mutex);
            ++m_count;
        }
        m_changed.notify_all();
    }
    [[nodiscard]] int count() {
        std::lock_guard lock(m_mutex);
        return m_count;
    }
    // True when `n` is reached within 30 s (a bound for a failing test, not a delay).
    bool wait_for(int n) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, 30s, [&] { return m_count >= n; });
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    int m_count = 0;
};

struct cart {
    int items = 0;
    std::string owner;
    friend bool operator==(const cart&, const cart&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(cart, items, owner)
using snapshots_type = eddy::postgres_snapshot_store<cart>;

eddy::snapshot<cart> snap(std::uint64_t version, int items, std::uint32_t schema = 1) {
    return eddy::snapshot<cart>{version, schema, cart{items, "ann"}};
}

using log_type = eddy::postgres_saga_log<cart>;
using kind = eddy::saga_transition_kind;

eddy::saga_transition<cart> entry(kind k, std::string step = {}, std::size_t attempt = 0,
                                  std::optional<cart> ctx = std::nullopt, std::string error = {}) {
    eddy::saga_transition<cart> t;
    t.kind = k;
    t.step = std::move(step);
    t.attempt = attempt;
    t.at =
        std::chrono::system_clock::time_point(std::chrono::nanoseconds(1'700'000'000'123'456'789));
    t.context = std::move(ctx);
    t.error = std::move(error);
    return t;
}

} // namespace

static_assert(eddy::outbox_store<outbox_type>);
static_assert(eddy::snapshot_store<snapshots_type>);
static_assert(eddy::saga_log<log_type>);
static_assert(eddy::inbox_store<eddy::postgres_inbox_store>);
static_assert(eddy::idempotency_store<eddy::postgres_idempotency_store<std::string>>);

TEST_CASE("postgres_outbox_store passes the outbox_store conformance suite",
          "[postgres][postgres_outbox_store]") {
    outbox_store_conformance(fresh);
}

TEST_CASE("postgres_inbox_store passes the inbox_store conformance suite",
          "[postgres][postgres_inbox_store]") {
    inbox_store_conformance(fresh);
}

TEST_CASE("postgres_idempotency_store passes the idempotency_store conformance suite",
          "[postgres][postgres_idempotency_store]") {
    idempotency_store_conformance(fresh);
}

TEST_CASE("postgres: one unit commits events, outbox, inbox mark and checkpoint, or none",
          "[postgres][postgres_outbox_store]") {
    auto f = fresh();
    eddy::postgres_checkpoint_store checkpoints(f->storage);
    auto handle = [&](const std::string& message_id, const std::string& order, int amount,
                      std::uint64_t position) {
        auto unit = f->storage.begin();
        f->inbox.mark_processed(unit, "orders", message_id);
        f->events.append(unit, order, eddy::expected_version::no_stream(), {order_placed{amount}});
        f->outbox.enqueue(unit, {message(order, 1)});
        checkpoints.save_checkpoint(unit, "order_view", position);
        return eddy::sync_wait(f->storage.commit(std::move(unit)));
    };
    (void)handle("m1", "a", 10, 1);
    // A redelivery of m1 (about another order, even): nothing of it is written.
    CHECK_THROWS_AS(handle("m1", "b", 20, 2), eddy::duplicate_message);
    // A unit whose append fails: nothing of it is written either.
    auto unit = f->storage.begin();
    f->inbox.mark_processed(unit, "orders", "m3");
    f->outbox.enqueue(unit, {message("a", 2)});
    f->events.append(unit, "a", eddy::expected_version::no_stream(), {order_placed{1}});
    CHECK_THROWS_AS(eddy::sync_wait(f->storage.commit(std::move(unit))),
                    eddy::concurrency_conflict);

    CHECK(names(f->messages()) == strings{"a#1"});
    CHECK(eddy::sync_wait(eddy::to_vector(f->events.read_all())).size() == 1);
    CHECK(eddy::sync_wait(checkpoints.load_checkpoint("order_view")) == 1);
    CHECK_FALSE(eddy::sync_wait(f->inbox.is_processed("orders", "m3")));
    CHECK(eddy::sync_wait(f->outbox.stats()).pending == 1);
}

TEST_CASE("postgres: outboxes of different names share the table, not their messages",
          "[postgres][postgres_outbox_store]") {
    auto f = fresh();
    outbox_type other(f->storage, {.name = "other"});
    auto unit = f->storage.begin();
    f->outbox.enqueue(unit, {message("a", 1)});
    other.enqueue(unit, {message("b", 1)});
    (void)eddy::sync_wait(f->storage.commit(std::move(unit)));
    CHECK(names(f->messages()) == strings{"a#1"});
    CHECK(names(eddy::sync_wait(other.claim("r", 10, 1min))) == strings{"b#1"});
    CHECK(eddy::sync_wait(f->outbox.stats()).pending == 1);
    CHECK_THROWS_WITH(outbox_type(f->storage, {.name = ""}), Catch::Contains("must not be empty"));
    CHECK_THROWS_WITH(eddy::sync_wait(f->outbox.claim("", 1, 1min)),
                      Catch::Contains("relay id must not be empty"));
    // An aggregate id and a relay id with quotes, backslashes and commas travel unchanged.
    auto odd = message("a\"b\\c,{d}", 1);
    enqueue_committed(*f, {odd});
    const auto claimed = eddy::sync_wait(f->outbox.claim("relay \"1\", \\x", 10, 1min));
    REQUIRE(claimed.size() == 2);
    CHECK(claimed[1].aggregate_id == "a\"b\\c,{d}");
    CHECK(eddy::sync_wait(f->outbox.release_leases("relay \"1\", \\x")) == 2);
}

TEST_CASE("postgres: enqueue listeners run after commits of this storage and, by NOTIFY, of "
          "others, until destroyed",
          "[postgres][postgres_outbox_store]") {
    fresh_schema schema;
    eddy::postgres_storage one(conninfo(), inline_s, schema.options(2));
    eddy::postgres_storage two(conninfo(), inline_s, schema.options(2));
    outbox_type first(one);
    outbox_type second(two);
    outbox_type first_y(one, {.name = "y"});
    outbox_type second_y(two, {.name = "y"});
    counter on_one, on_two, y_on_one;
    {
        auto l1 = first.on_enqueue([&] { on_one(); });
        auto l2 = second.on_enqueue([&] { on_two(); });
        auto ly = first_y.on_enqueue([&] { y_on_one(); });

        auto unit = one.begin();
        first.enqueue(unit, {message("a", 1)});
        (void)eddy::sync_wait(one.commit(std::move(unit)));
        CHECK(on_one.count() == 1);  // this storage's commit: at once, on the committing task
        REQUIRE(on_two.wait_for(1)); // the other storage: by its LISTEN connection
        (void)eddy::sync_wait(first.claim("r", 10, 1min)); // a claim wakes nobody

        // Another outbox's enqueue by `two`, received by `one` after its own NOTIFY of the
        // first commit (notifications arrive in commit order): `one` ignored its own.
        auto other = two.begin();
        second_y.enqueue(other, {message("b", 1)});
        (void)eddy::sync_wait(two.commit(std::move(other)));
        REQUIRE(y_on_one.wait_for(1));
        CHECK(on_one.count() == 1);
        CHECK(on_two.count() == 1);
    }
    auto unit = one.begin();
    first.enqueue(unit, {message("a", 2)});
    (void)eddy::sync_wait(one.commit(std::move(unit)));
    CHECK(on_one.count() == 1);
    CHECK_THROWS_WITH(first.on_enqueue({}), Catch::Contains("empty function"));
}

TEST_CASE("postgres_snapshot_store: save, load, newer wins, kinds apart, another storage sees it",
          "[postgres][postgres_snapshot_store]") {
    fresh_schema schema;
    eddy::postgres_storage db(conninfo(), inline_s, schema.options(2));
    snapshots_type carts(db, "cart");
    snapshots_type other(db, "other");
    REQUIRE_FALSE(eddy::sync_wait(carts.load_snapshot("c1")));
    eddy::sync_wait(carts.save_snapshot("c1", snap(5, 2, 3)));
    auto loaded = eddy::sync_wait(carts.load_snapshot("c1"));
    REQUIRE(loaded);
    CHECK(loaded->version == 5);
    CHECK(loaded->schema_version == 3);
    CHECK(loaded->state == cart{2, "ann"});
    eddy::sync_wait(carts.save_snapshot("c1", snap(4, 99))); // late and older: dropped
    CHECK(eddy::sync_wait(carts.load_snapshot("c1"))->state.items == 2);
    eddy::sync_wait(carts.save_snapshot("c1", snap(9, 7)));
    CHECK(eddy::sync_wait(carts.load_snapshot("c1"))->version == 9);
    CHECK_FALSE(eddy::sync_wait(other.load_snapshot("c1")));

    eddy::postgres_storage again(conninfo(), inline_s, schema.options(2));
    snapshots_type seen(again, "cart");
    CHECK(eddy::sync_wait(seen.load_snapshot("c1"))->state == cart{7, "ann"});
    admin("UPDATE \"" + schema.name() + "\".snapshots SET state = convert_to('[1,2]', 'UTF8')");
    CHECK_THROWS_AS(eddy::sync_wait(seen.load_snapshot("c1")), eddy::decode_error);
}

TEST_CASE("postgres_saga_log: start, record, load and unfinished, seen by another storage",
          "[postgres][postgres_saga_log]") {
    fresh_schema schema;
    {
        log_type log(eddy::postgres_storage(conninfo(), inline_s, schema.options(2)));
        REQUIRE_FALSE(eddy::sync_wait(log.load("o1")));
        eddy::sync_wait(log.start("o1", "order", entry(kind::saga_started, {}, 0, cart{5, "ann"})));
        eddy::sync_wait(log.start("o2", "order", entry(kind::saga_started, {}, 0, cart{7, "bob"})));
        eddy::sync_wait(log.record("o1", entry(kind::step_started, "charge", 1)));
        eddy::sync_wait(log.record(
            "o1", entry(kind::step_attempt_failed, "charge", 1, std::nullopt, "card declined")));
        eddy::sync_wait(log.record("o1", entry(kind::step_completed, "charge", 2, cart{6, "ann"})));
        eddy::sync_wait(log.record("o2", entry(kind::saga_completed)));
        CHECK(eddy::sync_wait(log.unfinished()) == std::vector<std::string>{"o1"});

        CHECK_THROWS_WITH(
            eddy::sync_wait(log.start("o1", "order", entry(kind::saga_started, {}, 0, cart{}))),
            Catch::Contains("'o1'") && Catch::Contains("already"));
        CHECK_THROWS_WITH(eddy::sync_wait(log.record("nope", entry(kind::step_started, "x", 1))),
                          Catch::Contains("'nope'"));
    }
    log_type log(eddy::postgres_storage(conninfo(), inline_s, schema.options(2)));
    auto h = eddy::sync_wait(log.load("o1"));
    REQUIRE(h);
    CHECK(h->id == "o1");
    CHECK(h->definition == "order");
    REQUIRE(h->transitions.size() == 4);
    CHECK(h->transitions[0].kind == kind::saga_started);
    CHECK(h->transitions[0].context == cart{5, "ann"});
    CHECK(h->transitions[0].at == entry(kind::saga_started).at);
    CHECK(h->transitions[1].kind == kind::step_started);
    CHECK(h->transitions[1].step == "charge");
    CHECK(h->transitions[1].attempt == 1);
    CHECK_FALSE(h->transitions[1].context);
    CHECK(h->transitions[2].kind == kind::step_attempt_failed);
    CHECK(h->transitions[2].error == "card declined");
    CHECK(h->transitions[3].attempt == 2);
    CHECK(h->transitions[3].context == cart{6, "ann"});
    CHECK(eddy::sync_wait(log.unfinished()) == std::vector<std::string>{"o1"});
    eddy::sync_wait(log.record("o1", entry(kind::saga_compensated)));
    CHECK(eddy::sync_wait(log.unfinished()).empty());
    CHECK(eddy::sync_wait(log.load("o1"))->transitions.size() == 5);
}

TEST_CASE("postgres_saga_log: logs of different names in one schema are apart",
          "[postgres][postgres_saga_log]") {
    fresh_schema schema;
    eddy::postgres_storage db(conninfo(), inline_s, schema.options(2));
    log_type a(db, "a");
    log_type b(db, "b");
    eddy::sync_wait(a.start("x", "order", entry(kind::saga_started, {}, 0, cart{1, "a"})));
    eddy::sync_wait(b.start("x", "order", entry(kind::saga_started, {}, 0, cart{2, "b"})));
    CHECK(eddy::sync_wait(a.load("x"))->transitions[0].context == cart{1, "a"});
    CHECK(eddy::sync_wait(b.load("x"))->transitions[0].context == cart{2, "b"});
    CHECK(eddy::sync_wait(a.unfinished()) == std::vector<std::string>{"x"});
    CHECK_FALSE(eddy::sync_wait(a.load("y")));
}

TEST_CASE("postgres: a schema of version 1 migrates forward, its events kept",
          "[postgres][postgres_storage]") {
    fresh_schema schema;
    const std::string s = "\"" + schema.name() + "\"";
    // What the first release wrote: its migration, its version, one event.
    admin("CREATE SCHEMA " + s + "; CREATE TABLE " + s +
          ".schema_version (version integer NOT NULL); INSERT INTO " + s +
          ".schema_version VALUES (1);" +
          eddy::detail::in_schema(eddy::detail::pg_migrations[0], schema.name()));
    admin("INSERT INTO " + s + ".streams (stream_id, version) VALUES ('order-a', 1); INSERT INTO " +
          s +
          ".events (position, stream_id, stream_version, event_id, type_name, schema_version, "
          "correlation_id, causation_id, tenant, traceparent, headers, payload, batch_first, "
          "batch_last) VALUES (1, 'order-a', 1, gen_random_uuid(), 'order_placed', 1, '', '', '', "
          "'', '{}', convert_to('{\"amount\":10}', 'UTF8'), 1, 1); SELECT setval('" +
          s + ".positions', 1)");
    pg_fixture_on f(schema);
    CHECK(admin("SELECT version FROM " + s + ".schema_version") ==
          std::to_string(eddy::detail::pg_schema_version));
    const auto old = eddy::sync_wait(eddy::to_vector(f.events.read_stream("order-a")));
    REQUIRE(old.size() == 1);
    CHECK(std::get<order_placed>(old[0].payload).amount == 10);
    auto unit = f.storage.begin();
    f.events.append(unit, "order-a", eddy::expected_version::exact(1), {order_placed{11}});
    f.outbox.enqueue(unit, {message("order-a", 2)});
    const auto committed = eddy::sync_wait(f.storage.commit(std::move(unit)));
    CHECK(committed.appends.at(0).first_position == 2);
    CHECK(names(eddy::sync_wait(f.outbox.claim("r", 10, 1min))) == strings{"order-a#2"});
}

TEST_CASE("postgres: an outbox_relay publishes from the outbox in order and marks",
          "[postgres][postgres_outbox_store]") {
    auto f = fresh();
    enqueue_committed(*f, {message("a", 1), message("b", 1), message("a", 2)});
    recording_bus bus;
    eddy::outbox_relay relay(f->outbox, bus, inline_s, {.relay_id = "r1"});
    CHECK(eddy::sync_wait(relay.run_once()) == 3);
    CHECK(bus.published == strings{"a#1", "b#1", "a#2"});
    const auto ms = f->messages();
    REQUIRE(ms.size() == 3);
    CHECK(bus.message_ids ==
          strings{ms[0].id.to_string(), ms[1].id.to_string(), ms[2].id.to_string()});
    CHECK(eddy::sync_wait(f->outbox.stats()) ==
          eddy::outbox_stats{0, std::chrono::system_clock::time_point{}, 3});
    CHECK(eddy::sync_wait(relay.run_once()) == 0);
}
