// Tests of eddy::postgres_event_store across threads and connections ([concurrency]): the
// event_store concurrency conformance suite on a thread_pool; the gap problem: writers on
// several connections whose transactions take positions, then wait a random (seeded) time
// and commit or (about one in ten) roll back, while a subscriber reads: it sees every
// committed event exactly once, in position order, none rolled back; a subscriber woken by
// another storage's commit through LISTEN/NOTIFY alone (no polling); cancellation of a waiting
// subscriber.
#include <eddy/postgres/postgres_event_store.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <semaphore>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <libpq-fe.h>
#include <unistd.h>

#include <eddy/core/error.hpp>
#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/es/uuid_v7_generator.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/stream/to_vector.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <postgres/pg_test_schema.hpp>
#include <support/event_store_suite_json.hpp>

namespace {

using eddy::test::es::added;
using eddy::test::es::conformance_events;
using eddy::test::es::envelope;
using eddy::test::postgres::conninfo;
using eddy::test::postgres::fresh_schema;
using store_type = eddy::postgres_event_store<conformance_events>;

struct owned_store : store_type {
    owned_store(std::shared_ptr<fresh_schema> s, eddy::postgres_storage db)
        : store_type(std::move(db)), schema(std::move(s)) {}
    std::shared_ptr<fresh_schema> schema;
};

template <class Scheduler>
std::unique_ptr<owned_store> fresh(Scheduler& s, std::size_t pool = 4) {
    auto schema = std::make_shared<fresh_schema>();
    eddy::postgres_options o;
    o.schema = schema->name();
    o.pool_size = pool;
    o.poll_interval = std::chrono::milliseconds(20);
    eddy::postgres_storage db(conninfo(), s, o);
    return std::make_unique<owned_store>(schema, std::move(db));
}

// Runs in the unit's transaction after its events took their positions: holds the transaction
// open for `delay` (on the server), then fails the unit when `roll_back`.
struct hold_op final : eddy::detail::pg_unit_op {
    hold_op(int ms, bool r) : delay_ms(ms), roll_back(r) {}
    bool after_positions() const override { return true; }
    eddy::task<void> run(eddy::detail::pg_tx* tx) override { return hold(this, tx); }
    static eddy::task<void> hold(hold_op* op, eddy::detail::pg_tx* tx) {
        eddy::detail::pg_params p;
        p.text(std::to_string(op->delay_ms / 1000.0));
        eddy::detail::pg_query_awaiter sleep =
            tx->lease->query("SELECT pg_sleep($1::double precision)", std::move(p));
        co_await sleep;
        if (op->roll_back) {
            throw eddy::error("rolled back by the test");
        }
    }
    int delay_ms;
    bool roll_back;
};

struct planned_unit {
    eddy::uuid id;
    int delay_ms;
    bool roll_back;
};

// One writer: its units, in order, each one event to its own stream; returns nothing (what
// commits is known from the plan: a unit fails only when planned to).
eddy::task<int> gap_writer(store_type* store, eddy::thread_pool* pool, int writer,
                           std::vector<planned_unit> plan) {
    co_await pool->schedule();
    int unexpected = 0;
    for (const planned_unit& u : plan) {
        eddy::postgres_unit_of_work unit = store->storage().begin();
        std::vector<eddy::test::es::proposed> batch{eddy::test::es::proposed(
            eddy::test::es::item_added{"w" + std::to_string(writer), 1}, {}, u.id)};
        store->append(unit, "writer-" + std::to_string(writer), eddy::expected_version::any(),
                      std::move(batch));
        unit.add(store->storage().engine().get(),
                 std::make_unique<hold_op>(u.delay_ms, u.roll_back), false);
        bool failed = false;
        try {
            co_await store->storage().commit(std::move(unit));
        } catch (const eddy::error&) {
            failed = true;
        }
        unexpected += failed == u.roll_back ? 0 : 1;
    }
    co_return unexpected;
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

eddy::task<> collect_some(eddy::stream<envelope> s, std::size_t n, std::vector<envelope>* out) {
    while (out->size() < n) {
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

runner run_detached(eddy::task<> t, std::exception_ptr* error, std::binary_semaphore* done) {
    try {
        co_await std::move(t);
    } catch (...) {
        *error = std::current_exception();
    }
    done->release();
}

// Runs after the unit's events took their positions: waits (on the server) until the test
// releases the advisory lock `key`, then fails the unit when `roll_back`.
struct gate_op final : eddy::detail::pg_unit_op {
    gate_op(long k, bool r) : key(k), roll_back(r) {}
    bool after_positions() const override { return true; }
    eddy::task<void> run(eddy::detail::pg_tx* tx) override { return pass(this, tx); }
    static eddy::task<void> pass(gate_op* op, eddy::detail::pg_tx* tx) {
        eddy::detail::pg_params p;
        p.integer(op->key);
        eddy::detail::pg_query_awaiter wait = tx->lease->query(
            "SELECT pg_advisory_lock($1::bigint), pg_advisory_unlock($1::bigint)", std::move(p));
        co_await wait;
        if (op->roll_back) {
            throw eddy::error("rolled back by the test");
        }
    }
    long key;
    bool roll_back;
};

// A connection of the test's own holding an advisory lock until released.
class held_lock {
public:
    explicit held_lock(long key) : m_key(key), m_conn(PQconnectdb(conninfo().c_str())) {
        run("SELECT pg_advisory_lock(" + std::to_string(m_key) + ")");
    }
    held_lock(const held_lock&) = delete;
    held_lock& operator=(const held_lock&) = delete;
    ~held_lock() { PQfinish(m_conn); }
    void release() { run("SELECT pg_advisory_unlock(" + std::to_string(m_key) + ")"); }

private:
    void run(const std::string& sql) {
        PGresult* r = PQexec(m_conn, sql.c_str());
        const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
        if (!ok) {
            throw std::runtime_error(sql + ": " + PQerrorMessage(m_conn));
        }
    }
    long m_key;
    PGconn* m_conn;
};

// A transaction of the test's own connection, holding a transaction id (as a process's
// transaction elsewhere in the cluster would) until committed.
class open_transaction {
public:
    open_transaction() : m_conn(PQconnectdb(conninfo().c_str())) {
        run("BEGIN", PGRES_COMMAND_OK);
        run("SELECT pg_current_xact_id()", PGRES_TUPLES_OK);
    }
    open_transaction(const open_transaction&) = delete;
    open_transaction& operator=(const open_transaction&) = delete;
    ~open_transaction() { PQfinish(m_conn); }
    void commit() { run("COMMIT", PGRES_COMMAND_OK); }

private:
    void run(const std::string& sql, ExecStatusType expected) {
        PGresult* r = PQexec(m_conn, sql.c_str());
        const bool ok = PQresultStatus(r) == expected;
        PQclear(r);
        if (!ok) {
            throw std::runtime_error(sql + ": " + PQerrorMessage(m_conn));
        }
    }
    PGconn* m_conn;
};

// Reads of the schema's events table so far (the server's statistics: sequential plus index
// scans; a reading backend reports them within a second or so).
long event_scans(const std::string& schema) {
    const std::string n = eddy::test::postgres::admin(
        "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE "
        "schemaname = '" +
        schema + "' AND relname = 'events'");
    return n.empty() ? 0 : std::stol(n);
}

eddy::task<> commit_unit(eddy::postgres_storage db, eddy::postgres_unit_of_work unit) {
    co_await db.commit(std::move(unit));
}

} // namespace

TEST_CASE("postgres_event_store: racing writers on a thread_pool",
          "[postgres][postgres_event_store][concurrency]") {
    eddy::thread_pool pool(4);
    eddy::test::es::event_store_concurrency_conformance([&] { return fresh(pool, 8); }, pool);
}

TEST_CASE("postgres_event_store: the conformance suite resumed on a thread_pool",
          "[postgres][postgres_event_store][concurrency]") {
    eddy::thread_pool pool(2);
    eddy::test::es::event_store_conformance([&] { return fresh(pool); });
}

TEST_CASE("postgres_event_store: out-of-order commits and rollbacks after taking positions: a "
          "subscriber sees every committed event once, in position order",
          "[postgres][postgres_event_store][concurrency]") {
    eddy::thread_pool pool(4);
    auto store = fresh(pool, 6);
    constexpr int writers = 6;
    constexpr int units = 25;
    std::mt19937 random(20261127); // seeded: the same interleaving pressure every run
    std::uniform_int_distribution<int> delay(0, 8);
    std::uniform_int_distribution<int> percent(0, 99);
    eddy::uuid_v7_generator ids;
    std::vector<std::vector<planned_unit>> plans(writers);
    std::set<std::string> committed;
    std::set<std::string> rolled_back;
    for (auto& plan : plans) {
        for (int i = 0; i < units; ++i) {
            planned_unit u{ids.next(), delay(random), percent(random) < 10};
            (u.roll_back ? rolled_back : committed).insert(u.id.to_string());
            plan.push_back(u);
        }
    }
    REQUIRE(!rolled_back.empty());

    eddy::stream<envelope> sub = store->subscribe_all(1);
    std::vector<eddy::task<int>> tasks;
    tasks.reserve(writers);
    for (int w = 0; w < writers; ++w) {
        tasks.push_back(gap_writer(store.get(), &pool, w, plans[static_cast<std::size_t>(w)]));
    }
    auto [seen, unexpected] = eddy::sync_wait(eddy::when_all(
        eddy::test::es::take_n(&sub, committed.size()), eddy::when_all(std::move(tasks))));
    for (int u : unexpected) {
        REQUIRE(u == 0); // every unit committed or failed as planned
    }
    REQUIRE(seen.size() == committed.size());
    std::set<std::string> seen_ids;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        if (i > 0) {
            REQUIRE(seen[i - 1].global_position < seen[i].global_position); // in order
        }
        seen_ids.insert(seen[i].event_id.to_string());
    }
    REQUIRE(seen_ids == committed); // each once (a set of the right size), none rolled back
    // Every unit took its position (rolled-back ones before failing: those are the gaps).
    const auto taken = static_cast<std::uint64_t>(writers) * units;
    REQUIRE(eddy::test::postgres::admin("SELECT last_value FROM \"" + store->schema->name() +
                                        "\".positions") == std::to_string(taken));
    REQUIRE(seen.back().global_position <= taken);
    // A subscriber starting afterwards sees the same, and so does read_all (it waits at the
    // rolled-back positions while a transaction in the cluster that might own them is open,
    // e.g. another test's, then passes them).
    eddy::stream<envelope> again = store->subscribe_all(1);
    REQUIRE(eddy::test::es::positions(eddy::sync_wait(eddy::test::es::take_n(
                &again, committed.size()))) == eddy::test::es::positions(seen));
    REQUIRE(eddy::test::es::positions(eddy::sync_wait(eddy::to_vector(store->read_all(1)))) ==
            eddy::test::es::positions(seen));
}

TEST_CASE("postgres_event_store: another storage's commit wakes a subscriber by NOTIFY",
          "[postgres][postgres_event_store][concurrency]") {
    eddy::thread_pool pool(2);
    fresh_schema schema;
    eddy::postgres_options no_polling;
    no_polling.schema = schema.name();
    no_polling.poll_interval = std::chrono::hours(1); // only a notification can wake it in time
    store_type watcher(eddy::postgres_storage(conninfo(), pool, no_polling));
    store_type writer(eddy::postgres_storage(conninfo(), pool, no_polling)); // as another process
    eddy::stream<envelope> sub = watcher.subscribe_all(1);
    eddy::sync_wait(writer.append("w", eddy::expected_version::no_stream(), {added("1", 1)}));
    auto first = eddy::sync_wait(eddy::test::es::take_n(&sub, 1));
    REQUIRE(eddy::test::es::positions(first) == std::vector<std::uint64_t>{1});
    eddy::sync_wait(writer.append("w", eddy::expected_version::exact(1), {added("2", 2)}));
    auto second = eddy::sync_wait(eddy::test::es::take_n(&sub, 1));
    REQUIRE(eddy::test::es::positions(second) == std::vector<std::uint64_t>{2});
}

TEST_CASE("postgres_event_store: stopping a waiting subscriber ends it with operation_cancelled",
          "[postgres][postgres_event_store][concurrency]") {
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
    stop.request_stop();
    done.acquire();
    REQUIRE(seen.size() == 1);
    REQUIRE(error);
    REQUIRE_THROWS_AS(std::rethrow_exception(error), eddy::operation_cancelled);
    REQUIRE(eddy::sync_wait(store->append("a", eddy::expected_version::exact(1),
                                          {added("2", 1)})) == eddy::append_result{2, 2, 2});
}

TEST_CASE("postgres_event_store: a reader stops before a position whose transaction is open, "
          "and passes it once that transaction commits or rolls back",
          "[postgres][postgres_event_store][concurrency]") {
    const bool roll_back = GENERATE(false, true);
    CAPTURE(roll_back);
    eddy::inline_scheduler s;
    auto store = fresh(s, 3);
    const long key = 700000 + static_cast<long>(::getpid());
    held_lock gate(key);

    // A takes position 1, then waits for the gate inside its transaction.
    eddy::postgres_unit_of_work unit = store->storage().begin();
    store->append(unit, "a", eddy::expected_version::no_stream(), {added("a", 1)});
    unit.add(store->storage().engine().get(), std::make_unique<gate_op>(key, roll_back), false);
    std::exception_ptr a_error;
    std::binary_semaphore a_done{0};
    run_detached(commit_unit(store->storage(), std::move(unit)), &a_error, &a_done);
    const std::string waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                                "NOT granted AND objid = " +
                                std::to_string(key);
    while (eddy::test::postgres::admin(waiting) != "1") {
        // A's statement reaches the lock within a few round trips (no sleep: a query each turn)
    }

    // B commits position 2 behind the open position 1.
    REQUIRE(eddy::sync_wait(store->append("b", eddy::expected_version::no_stream(),
                                          {added("b", 1)})) == eddy::append_result{1, 2, 2});
    // Both readers start while position 1 is open: neither yields 2 before 1, and read_all
    // waits too (ending before the gap would drop 2, a committed event).
    std::vector<envelope> seen;
    std::exception_ptr sub_error;
    std::binary_semaphore sub_done{0};
    run_detached(collect_some(store->subscribe_all(1), roll_back ? 1U : 2U, &seen), &sub_error,
                 &sub_done);
    std::vector<envelope> read;
    std::exception_ptr read_error;
    std::binary_semaphore read_done{0};
    run_detached(collect_all(store->read_all(1), &read), &read_error, &read_done);

    gate.release();
    a_done.acquire();
    REQUIRE(static_cast<bool>(a_error) == roll_back);
    const auto expected =
        roll_back ? std::vector<std::uint64_t>{2} : std::vector<std::uint64_t>{1, 2};
    sub_done.acquire();
    REQUIRE_FALSE(sub_error);
    REQUIRE(eddy::test::es::positions(seen) == expected);
    read_done.acquire();
    REQUIRE_FALSE(read_error);
    REQUIRE(eddy::test::es::positions(read) == expected);
}

TEST_CASE("postgres_event_store: read_all waits at a rolled-back position while a transaction "
          "that might own it is open, then returns every committed event",
          "[postgres][postgres_event_store][concurrency]") {
    // What a process killed mid-commit leaves: a position taken and rolled back, events
    // committed behind it, and (on a shared server) other transactions running.
    eddy::inline_scheduler s;
    auto store = fresh(s, 3);
    eddy::postgres_unit_of_work unit = store->storage().begin();
    store->append(unit, "a", eddy::expected_version::no_stream(), {added("a", 1)});
    unit.add(store->storage().engine().get(), std::make_unique<hold_op>(0, true), false);
    REQUIRE_THROWS_AS(eddy::sync_wait(commit_unit(store->storage(), std::move(unit))),
                      eddy::error); // position 1 taken, rolled back
    open_transaction other;         // any transaction open in the cluster
    REQUIRE(eddy::sync_wait(store->append("b", eddy::expected_version::no_stream(),
                                          {added("b", 1)})) == eddy::append_result{1, 2, 2});

    const long before = event_scans(store->schema->name());
    std::vector<envelope> read;
    std::exception_ptr read_error;
    std::binary_semaphore read_done{0};
    run_detached(collect_all(store->read_all(1), &read), &read_error, &read_done);
    // The reader found the gap and read again after taking its horizon (two reads): ending
    // there would return nothing.
    while (event_scans(store->schema->name()) < before + 2) {
        // a query each turn, no sleep: the reader's statistics arrive within a second or so
    }
    other.commit();
    read_done.acquire();
    REQUIRE_FALSE(read_error);
    REQUIRE(eddy::test::es::positions(read) == std::vector<std::uint64_t>{2});
}

TEST_CASE("postgres_storage: storages created at once on a new schema migrate it once",
          "[postgres][postgres_storage][concurrency]") {
    eddy::inline_scheduler s;
    fresh_schema schema;
    eddy::postgres_options o;
    o.schema = schema.name();
    o.pool_size = 1;
    std::vector<std::thread> threads;
    threads.reserve(4);
    std::atomic<int> opened{0};
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            eddy::postgres_storage db(conninfo(), s, o);
            opened.fetch_add(1);
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    REQUIRE(opened.load() == 4);
    REQUIRE(eddy::test::postgres::admin("SELECT count(*) || '/' || max(version) FROM \"" +
                                        schema.name() + "\".schema_version") ==
            "1/" + std::to_string(eddy::detail::pg_schema_version));
}

TEST_CASE("postgres_event_store: a lost LISTEN connection is replaced; notifications resume",
          "[postgres][postgres_event_store][concurrency]") {
    eddy::thread_pool pool(2);
    fresh_schema schema;
    eddy::postgres_options no_polling;
    no_polling.schema = schema.name();
    no_polling.pool_size = 1;
    no_polling.poll_interval = std::chrono::hours(1); // only a notification can wake it in time
    store_type watcher(eddy::postgres_storage(conninfo(), pool, no_polling));
    const std::string listen = "query = 'LISTEN \"" + schema.name() + "\"'";
    REQUIRE(eddy::test::postgres::admin("SELECT count(pg_terminate_backend(pid, 10000)) FROM "
                                        "pg_stat_activity WHERE " +
                                        listen) == "1");
    const std::string listening =
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle' AND " + listen;
    while (eddy::test::postgres::admin(listening) != "1") {
        // the I/O thread connects again and LISTENs (no sleep: a query each turn)
    }
    store_type writer(eddy::postgres_storage(conninfo(), pool, no_polling)); // another process

    std::vector<envelope> seen;
    std::exception_ptr error;
    std::binary_semaphore done{0};
    // The subscriber reads (nothing), then waits.
    run_detached(collect_some(watcher.subscribe_all(1), 1, &seen), &error, &done);
    const std::string read_done = "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle' "
                                  "AND query LIKE 'SELECT e.position%' AND query LIKE '%\"" +
                                  schema.name() + "\".events%'";
    while (eddy::test::postgres::admin(read_done) != "1") {
    }
    eddy::sync_wait(writer.append("w", eddy::expected_version::no_stream(), {added("1", 1)}));
    done.acquire();
    REQUIRE_FALSE(error);
    REQUIRE(eddy::test::es::positions(seen) == std::vector<std::uint64_t>{1});
}
