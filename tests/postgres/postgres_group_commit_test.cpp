// Tests of the group commit of postgres_event_store's plain appends: appends queued while a
// commit runs are committed together, in one transaction (one xid for all their rows), each with
// its own result or error. A "gate" (a transaction of the test's own holding the row of a
// stream) keeps a first batch from finishing while the test queues appends behind it, so each
// test knows exactly which appends share a batch (the tests fail without batching: they count
// the transactions by the rows' xid): a batch stops at its bound; conflicts, duplicate ids and a
// failing statement in a batch fail only their own append; appends to one stream in one batch
// behave as if run one after the other; soft deletion and stream metadata hold; a deadlock with
// a unit locking in another order costs no append; a connection lost mid-batch fails that
// batch's appends whole. (On a thread_pool, with 64 appenders:
// postgres_group_commit_concurrency_test.cpp.)
#include <eddy/postgres/postgres_event_store.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <libpq-fe.h>

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/duplicate_event_id.hpp>
#include <eddy/postgres/postgres_error.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/stream/to_vector.hpp>

#include <es/conformance/event_store_suite.hpp>
#include <postgres/pg_test_schema.hpp>
#include <support/event_store_suite_json.hpp>

namespace {

using eddy::test::es::added;
using eddy::test::es::added_with_id;
using eddy::test::es::conformance_events;
using eddy::test::es::envelope;
using eddy::test::es::id_n;
using eddy::test::es::proposed;
using eddy::test::postgres::admin;
using eddy::test::postgres::conninfo;
using eddy::test::postgres::fresh_schema;
using store_type = eddy::postgres_event_store<conformance_events>;

// A blocking connection of the test's own, in a transaction holding the row of a stream.
class gate {
public:
    gate(const std::string& schema, const std::string& stream)
        : m_conn(PQconnectdb(conninfo().c_str())) {
        if (PQstatus(m_conn) != CONNECTION_OK) {
            throw std::runtime_error(std::string("gate: ") + PQerrorMessage(m_conn));
        }
        exec("BEGIN");
        exec("SELECT 1 FROM \"" + schema + "\".streams WHERE stream_id = '" + stream +
             "' FOR UPDATE");
        m_pid = PQbackendPID(m_conn);
    }
    gate(const gate&) = delete;
    gate& operator=(const gate&) = delete;
    ~gate() { PQfinish(m_conn); }

    void open() { exec("ROLLBACK"); }
    // Waits for the row of `stream` too; false when the server chose this transaction as a
    // deadlock's victim.
    bool lock(const std::string& schema, const std::string& stream) {
        try {
            exec("SELECT 1 FROM \"" + schema + "\".streams WHERE stream_id = '" + stream +
                 "' FOR UPDATE");
            return true;
        } catch (const std::runtime_error& e) {
            if (std::string(e.what()).find("deadlock") == std::string::npos) {
                throw;
            }
            return false;
        }
    }
    [[nodiscard]] int pid() const noexcept { return m_pid; }

private:
    void exec(const std::string& sql) {
        PGresult* r = PQexec(m_conn, sql.c_str());
        const ExecStatusType st = PQresultStatus(r);
        std::string m = PQresultErrorMessage(r);
        PQclear(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            throw std::runtime_error("gate: " + sql + ": " + m);
        }
    }
    PGconn* m_conn;
    int m_pid = 0;
};

// What one append got: its result, or the kind of its error.
struct outcome {
    std::optional<eddy::append_result> result;
    std::string error; // "conflict", "duplicate", "postgres <SQLSTATE>", "other"
    std::string message;
};

struct request {
    std::string stream;
    eddy::expected_version expected;
    std::vector<proposed> batch;
};

eddy::task<outcome> attempt(store_type* store, request r) {
    outcome o;
    try {
        eddy::task<eddy::append_result> append =
            store->append(r.stream, r.expected, std::move(r.batch));
        o.result = co_await std::move(append);
    } catch (const eddy::concurrency_conflict& e) {
        o.error = "conflict";
        o.message = e.what();
    } catch (const eddy::duplicate_event_id& e) {
        o.error = "duplicate";
        o.message = e.what();
    } catch (const eddy::postgres_error& e) {
        o.error = "postgres " + e.sqlstate();
        o.message = e.what();
    } catch (const std::exception& e) {
        o.error = "other";
        o.message = e.what();
    }
    co_return o;
}

eddy::task<void> open_gate(gate* g) {
    g->open();
    co_return;
}

eddy::task<void> nothing() { co_return; }

// Appends `first` (held at its stream's lock by `g`), then `queued` (they queue behind it, so
// they form the next batch), then opens the gate; returns the outcomes of `queued`.
std::vector<outcome> behind_gate(store_type& store, gate& g, request first,
                                 std::vector<request> queued,
                                 eddy::task<void> after_open = nothing()) {
    std::vector<eddy::task<outcome>> all;
    all.push_back(attempt(&store, std::move(first)));
    for (request& r : queued) {
        all.push_back(attempt(&store, std::move(r)));
    }
    auto [out, opened, after] = eddy::sync_wait(
        eddy::when_all(eddy::when_all(std::move(all)), open_gate(&g), std::move(after_open)));
    REQUIRE(out.front().result.has_value());
    out.erase(out.begin());
    return out;
}

// A store (2 connections) whose stream "gate" exists (its event at position 1).
struct fixture {
    explicit fixture(eddy::inline_scheduler& s)
        : store(eddy::postgres_storage(conninfo(), s, schema.options(2))) {
        REQUIRE(eddy::test::es::append(store, "gate", eddy::expected_version::no_stream(),
                                       {added("g", 0)}) == eddy::append_result{1, 1, 1});
    }
    [[nodiscard]] std::string table(const std::string& name) const {
        return "\"" + schema.name() + "\"." + name;
    }
    // The number of transactions that wrote the events of streams matching `like`.
    [[nodiscard]] std::string transactions(const std::string& like) const {
        return admin("SELECT count(DISTINCT xid) FROM " + table("events") +
                     " WHERE stream_id LIKE '" + like + "'");
    }
    fresh_schema schema;
    store_type store;
};

request gate_append() { return request{"gate", eddy::expected_version::any(), {added("g", 1)}}; }

std::vector<std::uint64_t> quantities(const std::vector<envelope>& events) {
    std::vector<std::uint64_t> out;
    for (const envelope& e : events) {
        out.push_back(
            static_cast<std::uint64_t>(std::get<eddy::test::es::item_added>(e.payload).quantity));
    }
    return out;
}

} // namespace

TEST_CASE("postgres group commit: appends queued behind a commit are committed in one "
          "transaction, each with its own result",
          "[postgres][postgres_event_store][group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    gate g(f.schema.name(), "gate");
    std::vector<request> queued;
    for (int i = 0; i < 20; ++i) {
        queued.push_back(request{"q-" + std::to_string(i),
                                 eddy::expected_version::no_stream(),
                                 {added("q", i), added("q", i + 100)}});
    }
    std::vector<outcome> got = behind_gate(f.store, g, gate_append(), std::move(queued));
    REQUIRE(got.size() == 20);
    for (std::size_t i = 0; i < got.size(); ++i) {
        CAPTURE(i, got[i].message);
        // Positions in queue order, after the gate's (1 and 2).
        REQUIRE(got[i].result == eddy::append_result{2, 3 + 2 * i, 4 + 2 * i});
    }
    // One transaction wrote the 40 events of the 20 appends (without batching: 20).
    REQUIRE(f.transactions("q-%") == "1");
    REQUIRE(admin("SELECT count(*) FROM " + f.table("events")) == "42");
    REQUIRE(eddy::test::es::positions(eddy::test::es::read_all(f.store)) == [] {
        std::vector<std::uint64_t> p;
        for (std::uint64_t i = 1; i <= 42; ++i) {
            p.push_back(i);
        }
        return p;
    }());
    // Each append is one batch of its own (batch_first, batch_last).
    REQUIRE(admin("SELECT string_agg(batch_first || '-' || batch_last, ',' ORDER BY position) "
                  "FROM " +
                  f.table("events") + " WHERE stream_id IN ('q-0', 'q-1')") == "3-4,3-4,5-6,5-6");
}

TEST_CASE("postgres group commit: the event stores of one storage share its queue: their "
          "appends queued behind a commit share one transaction",
          "[postgres][postgres_event_store][group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    store_type other(f.store.storage()); // another store object, not a copy
    gate g(f.schema.name(), "gate");
    std::vector<eddy::task<outcome>> all;
    all.push_back(attempt(&f.store, gate_append()));
    for (int i = 0; i < 6; ++i) {
        request r{"t-" + std::to_string(i), eddy::expected_version::no_stream(), {added("t", i)}};
        all.push_back(attempt(i % 2 == 0 ? &other : &f.store, std::move(r)));
    }
    auto [got, opened] =
        eddy::sync_wait(eddy::when_all(eddy::when_all(std::move(all)), open_gate(&g)));
    REQUIRE(got[0].result == eddy::append_result{2, 2, 2});
    for (std::size_t i = 1; i < got.size(); ++i) {
        CAPTURE(i, got[i].message);
        REQUIRE(got[i].result == eddy::append_result{1, 2 + i, 2 + i});
    }
    // One transaction for the six appends of the two stores (a queue per store object: 2).
    REQUIRE(f.transactions("t-%") == "1");
}

TEST_CASE("postgres group commit: a batch keeps every byte of its stream ids, metadata and "
          "payloads (quotes, backslashes, braces, commas, NULL, non-ASCII, empty strings)",
          "[postgres][postgres_event_store][group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    const std::vector<std::string> odd{
        "q\"uote", "back\\slash", "{brace,comma}", "NULL", "\xc3\xbcn\xc3\xaf \xe2\x9c\x93",
        " spaced "};
    auto proposal = [&odd](std::size_t i) {
        eddy::event_metadata md;
        md.correlation_id = odd[i];
        md.causation_id = odd[(i + 1) % odd.size()];
        md.tenant = i % 2 == 0 ? "" : odd[(i + 2) % odd.size()];
        md.traceparent = odd[(i + 3) % odd.size()];
        md.headers.set(odd[(i + 4) % odd.size()], odd[(i + 5) % odd.size()]);
        return proposed(eddy::test::es::item_added{odd[i] + "\\\"{}", static_cast<int>(i)}, md);
    };
    gate g(f.schema.name(), "gate");
    std::vector<request> queued;
    for (std::size_t i = 0; i < odd.size(); ++i) {
        queued.push_back({odd[i], eddy::expected_version::no_stream(), {proposal(i)}});
    }
    std::vector<outcome> got = behind_gate(f.store, g, gate_append(), std::move(queued));
    for (std::size_t i = 0; i < odd.size(); ++i) {
        CAPTURE(i, got[i].message);
        REQUIRE(got[i].result == eddy::append_result{1, 3 + i, 3 + i});
        const std::vector<envelope> read = eddy::test::es::read_stream(f.store, odd[i]);
        REQUIRE(read.size() == 1);
        const proposed want = proposal(i);
        REQUIRE(read[0].stream_id == odd[i]);
        REQUIRE(read[0].metadata == want.metadata);
        REQUIRE(read[0].payload == want.payload);
    }
    REQUIRE(f.transactions("%") == "3"); // the fixture's append, the gate's, the batch
}

TEST_CASE("postgres group commit: a batch stops at 256 events; an append over it goes alone",
          "[postgres][postgres_event_store][group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    gate g(f.schema.name(), "gate");
    auto events = [](int n) {
        std::vector<proposed> batch;
        for (int i = 0; i < n; ++i) {
            batch.push_back(added("b", i));
        }
        return batch;
    };
    std::vector<request> queued;
    queued.push_back({"b-1", eddy::expected_version::no_stream(), events(200)});
    queued.push_back({"b-2", eddy::expected_version::no_stream(), events(56)});
    queued.push_back({"b-3", eddy::expected_version::no_stream(), events(1)});
    queued.push_back({"b-4", eddy::expected_version::no_stream(), events(300)});
    queued.push_back({"b-5", eddy::expected_version::no_stream(), events(2)});
    std::vector<outcome> got = behind_gate(f.store, g, gate_append(), std::move(queued));
    // The gate's append took position 2.
    REQUIRE(got[0].result == eddy::append_result{200, 3, 202});
    REQUIRE(got[1].result == eddy::append_result{56, 203, 258});
    REQUIRE(got[2].result == eddy::append_result{1, 259, 259});
    REQUIRE(got[3].result == eddy::append_result{300, 260, 559});
    REQUIRE(got[4].result == eddy::append_result{2, 560, 561});
    // b-1 and b-2 (256 events), then b-3 alone (b-4 does not fit beside it), b-4 alone, b-5.
    REQUIRE(admin("SELECT string_agg(n::text, ',' ORDER BY first) FROM (SELECT min(position) "
                  "AS first, count(DISTINCT stream_id) AS n FROM " +
                  f.table("events") + " WHERE stream_id LIKE 'b-%' GROUP BY xid) t") == "2,1,1,1");
}

TEST_CASE("postgres group commit: a failing expectation in a batch fails only its append; "
          "appends to one stream run as if one after the other, in queue order",
          "[postgres][postgres_event_store][group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    REQUIRE(eddy::test::es::append(f.store, "old", eddy::expected_version::no_stream(),
                                   {added("o", 1)}) == eddy::append_result{1, 2, 2});
    gate g(f.schema.name(), "gate");
    std::vector<request> queued;
    queued.push_back({"s-1", eddy::expected_version::no_stream(), {added("a", 1), added("a", 2)}});
    queued.push_back({"s-1", eddy::expected_version::no_stream(), {added("b", 3)}}); // now at 2
    queued.push_back({"s-2", eddy::expected_version::exact(5), {added("c", 4)}});    // new: 0
    queued.push_back({"s-1", eddy::expected_version::exact(2), {added("d", 5)}});
    queued.push_back({"s-1", eddy::expected_version::stream_exists(), {}});
    queued.push_back({"s-1", eddy::expected_version::any(), {added("e", 6)}});
    queued.push_back({"old", eddy::expected_version::exact(1), {added("f", 7)}});
    queued.push_back({"old", eddy::expected_version::exact(1), {added("g", 8)}}); // now at 2
    queued.push_back({"s-3", eddy::expected_version::any(), {added("h", 9)}});
    std::vector<outcome> got = behind_gate(f.store, g, gate_append(), std::move(queued));
    // Positions: gate 1, old 2, the gate's append 3; then the batch's events in queue order.
    REQUIRE(got[0].result == eddy::append_result{2, 4, 5});
    REQUIRE(got[1].error == "conflict");
    REQUIRE_THAT(got[1].message, Catch::Contains("s-1"));
    REQUIRE(got[2].error == "conflict");
    REQUIRE_THAT(got[2].message, Catch::Contains("s-2"));
    REQUIRE(got[3].result == eddy::append_result{3, 6, 6});
    REQUIRE(got[4].result == eddy::append_result{3, 7, 6}); // empty: the version it found
    REQUIRE(got[5].result == eddy::append_result{4, 7, 7});
    REQUIRE(got[6].result == eddy::append_result{2, 8, 8});
    REQUIRE(got[7].error == "conflict");
    REQUIRE(got[8].result == eddy::append_result{1, 9, 9});
    const std::vector<envelope> s1 = eddy::test::es::read_stream(f.store, "s-1");
    REQUIRE(eddy::test::es::versions(s1) == std::vector<std::uint64_t>{1, 2, 3, 4});
    REQUIRE(quantities(s1) == std::vector<std::uint64_t>{1, 2, 5, 6});
    REQUIRE(quantities(eddy::test::es::read_stream(f.store, "old")) ==
            std::vector<std::uint64_t>{1, 7});
    // The stream only a failed append named is left as it was: absent.
    REQUIRE(admin("SELECT count(*) FROM " + f.table("streams") + " WHERE stream_id = 's-2'") ==
            "0");
    REQUIRE(eddy::test::es::read_stream(f.store, "s-2").empty());
    REQUIRE(admin("SELECT count(DISTINCT xid) FROM " + f.table("events") +
                  " WHERE position >= 4") == "1");
    // The store goes on with the versions the batch left.
    REQUIRE(eddy::test::es::append(f.store, "s-1", eddy::expected_version::exact(4),
                                   {added("i", 10)}) == eddy::append_result{5, 10, 10});
    REQUIRE(eddy::test::es::append(f.store, "s-2", eddy::expected_version::no_stream(),
                                   {added("j", 11)}) == eddy::append_result{1, 11, 11});
}

TEST_CASE("postgres group commit: a duplicate event id in a batch fails only its append; an "
          "exact re-append returns the original result; an id queued twice sees the first",
          "[postgres][postgres_event_store][group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    REQUIRE(eddy::test::es::append(f.store, "old", eddy::expected_version::no_stream(),
                                   {added_with_id(1, "o", 1), added_with_id(2, "o", 2)}) ==
            eddy::append_result{2, 2, 3});
    REQUIRE(eddy::test::es::append(f.store, "other", eddy::expected_version::no_stream(),
                                   {added_with_id(9, "p", 9)}) == eddy::append_result{1, 4, 4});
    gate g(f.schema.name(), "gate");
    std::vector<request> queued;
    queued.push_back({"n-1", eddy::expected_version::no_stream(), {added("a", 1)}});
    queued.push_back({"n-2", eddy::expected_version::no_stream(), {added_with_id(9, "p", 9)}});
    queued.push_back({"old",
                      eddy::expected_version::exact(7),
                      {added_with_id(1, "o", 1), added_with_id(2, "o", 2)}}); // exact re-append
    queued.push_back({"n-3", eddy::expected_version::no_stream(), {added_with_id(3, "c", 3)}});
    queued.push_back({"n-4", eddy::expected_version::no_stream(), {added_with_id(3, "c", 3)}});
    queued.push_back({"n-5", eddy::expected_version::no_stream(), {added("e", 5)}});
    std::vector<outcome> got = behind_gate(f.store, g, gate_append(), std::move(queued));
    // The gate's append took position 5.
    REQUIRE(got[0].result == eddy::append_result{1, 6, 6});
    REQUIRE(got[1].error == "duplicate");
    REQUIRE_THAT(got[1].message, Catch::Contains(id_n(9).to_string()));
    REQUIRE_THAT(got[1].message, Catch::Contains("another stream"));
    REQUIRE(got[2].result == eddy::append_result{2, 2, 3});
    REQUIRE(got[3].result == eddy::append_result{1, 7, 7});
    // n-4 re-uses n-3's id: it waits for the next batch, and finds it stored in another stream.
    REQUIRE(got[4].error == "duplicate");
    REQUIRE_THAT(got[4].message, Catch::Contains(id_n(3).to_string()));
    REQUIRE_THAT(got[4].message, Catch::Contains("another stream"));
    REQUIRE(got[5].result == eddy::append_result{1, 8, 8});
    REQUIRE(admin("SELECT count(*) FROM " + f.table("streams") +
                  " WHERE stream_id IN ('n-2', 'n-4')") == "0");
    // n-1 and n-3 in one transaction, n-5 in the next.
    REQUIRE(f.transactions("n-%") == "2");
    REQUIRE(admin("SELECT count(*) FROM " + f.table("events")) == "8");
}

TEST_CASE("postgres group commit: soft deletion and stream metadata hold for batched appends",
          "[postgres][postgres_event_store][group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    REQUIRE(eddy::test::es::append(f.store, "del", eddy::expected_version::no_stream(),
                                   {added("a", 1), added("a", 2)}) == eddy::append_result{2, 2, 3});
    eddy::sync_wait(f.store.delete_stream("del", eddy::expected_version::exact(2)));
    eddy::sync_wait(f.store.set_stream_metadata("capped", eddy::stream_metadata{0, 2}));
    eddy::sync_wait(f.store.set_stream_metadata("described", eddy::stream_metadata{4, 0}));
    gate g(f.schema.name(), "gate");
    std::vector<request> queued;
    queued.push_back({"del", eddy::expected_version::exact(2), {added("b", 3)}}); // deleted: 0
    queued.push_back({"del", eddy::expected_version::no_stream(), {added("c", 4)}});
    queued.push_back({"del", eddy::expected_version::exact(3), {added("d", 5)}});
    queued.push_back(
        {"capped", eddy::expected_version::no_stream(), {added("e", 6), added("e", 7)}});
    queued.push_back({"capped", eddy::expected_version::exact(2), {added("f", 8)}});
    queued.push_back({"described", eddy::expected_version::exact(9), {added("g", 9)}});
    std::vector<outcome> got = behind_gate(f.store, g, gate_append(), std::move(queued));
    // The gate's append took position 4.
    REQUIRE(got[0].error == "conflict");
    REQUIRE(got[1].result == eddy::append_result{3, 5, 5}); // the versions go on after 2
    REQUIRE(got[2].result == eddy::append_result{4, 6, 6});
    REQUIRE(got[3].result == eddy::append_result{2, 7, 8});
    REQUIRE(got[4].result == eddy::append_result{3, 9, 9});
    REQUIRE(got[5].error == "conflict");
    REQUIRE(eddy::test::es::versions(eddy::test::es::read_stream(f.store, "del")) ==
            std::vector<std::uint64_t>{3, 4});
    REQUIRE(quantities(eddy::test::es::read_stream(f.store, "capped")) ==
            std::vector<std::uint64_t>{7, 8});
    // A stream that has only metadata keeps them when its only append failed.
    REQUIRE(eddy::sync_wait(f.store.get_stream_metadata("described")) ==
            eddy::stream_metadata{4, 0});
    REQUIRE(eddy::sync_wait(f.store.get_stream_metadata("capped")) == eddy::stream_metadata{0, 2});
}

namespace {

// Once a backend waits for `g`'s lock (the batch, holding the rows before it), has `g` wait
// for `stream`, which the batch holds: a deadlock (a unit locking its streams in another
// order); then opens `g`.
struct deadlock_with {
    gate* g;
    std::string schema;
    std::string stream;
    bool* batch_aborted; // set: whether the server chose the batch as the deadlock's victim
    static eddy::task<void> run(deadlock_with d) {
        const std::string blocked = "SELECT pid FROM pg_stat_activity WHERE " +
                                    std::to_string(d.g->pid()) + " = ANY(pg_blocking_pids(pid))";
        std::string pid;
        while (pid.empty()) { // the batch reaches the lock on its own; nothing to wait for here
            pid = admin(blocked);
        }
        *d.batch_aborted = d.g->lock(d.schema, d.stream);
        d.g->open();
        co_return;
    }
};

} // namespace

TEST_CASE("postgres group commit: a batch in a deadlock with a unit locking in another order: "
          "its appends are committed one by one",
          "[postgres][postgres_event_store][group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    REQUIRE(eddy::test::es::append(f.store, "dl-a", eddy::expected_version::no_stream(),
                                   {added("a", 1)}) == eddy::append_result{1, 2, 2});
    REQUIRE(eddy::test::es::append(f.store, "dl-b", eddy::expected_version::no_stream(),
                                   {added("b", 1)}) == eddy::append_result{1, 3, 3});
    gate first(f.schema.name(), "gate");
    gate unit(f.schema.name(), "dl-b");
    std::vector<request> queued;
    queued.push_back({"dl-a", eddy::expected_version::exact(1), {added("a", 2)}});
    queued.push_back({"dl-b", eddy::expected_version::exact(1), {added("b", 2)}});
    queued.push_back({"dl-c", eddy::expected_version::no_stream(), {added("c", 1)}});
    bool batch_aborted = false;
    std::vector<outcome> got = behind_gate(
        f.store, first, gate_append(), std::move(queued),
        deadlock_with::run(deadlock_with{&unit, f.schema.name(), "dl-a", &batch_aborted}));
    // The same results whichever transaction the server aborted (the gate's append: 4).
    REQUIRE(got[0].result == eddy::append_result{2, 5, 5});
    REQUIRE(got[1].result == eddy::append_result{2, 6, 6});
    REQUIRE(got[2].result == eddy::append_result{1, 7, 7});
    // The batch, waiting first, normally detects the deadlock and is aborted: its appends were
    // then committed one by one; otherwise (the other transaction aborted) together.
    CAPTURE(batch_aborted);
    REQUIRE(admin("SELECT count(DISTINCT xid) FROM " + f.table("events") +
                  " WHERE position >= 5") == (batch_aborted ? "3" : "1"));
}

TEST_CASE("postgres group commit: a statement of a batch failing for one append's reason: each "
          "append is committed alone, only that one fails",
          "[postgres][postgres_event_store][group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    gate g(f.schema.name(), "gate");
    std::vector<request> queued;
    queued.push_back({"ok-1", eddy::expected_version::no_stream(), {added("a", 1)}});
    queued.push_back({"bad-\xff", eddy::expected_version::any(), {added("b", 2)}}); // not UTF-8
    queued.push_back({"ok-2", eddy::expected_version::no_stream(), {added("c", 3)}});
    queued.push_back({"ok-1", eddy::expected_version::exact(1), {added("d", 4)}});
    std::vector<outcome> got = behind_gate(f.store, g, gate_append(), std::move(queued));
    REQUIRE(got[0].result == eddy::append_result{1, 3, 3});
    CAPTURE(got[1].message);
    REQUIRE(got[1].error == "postgres 22021"); // invalid byte sequence
    REQUIRE(got[2].result == eddy::append_result{1, 4, 4});
    REQUIRE(got[3].result == eddy::append_result{2, 5, 5});
    // Committed one by one, in queue order.
    REQUIRE(f.transactions("ok-%") == "3");
    REQUIRE(quantities(eddy::test::es::read_stream(f.store, "ok-1")) ==
            std::vector<std::uint64_t>{1, 4});
}

namespace {

// Terminates the backend waiting for `g`'s lock once there is one (an operator's
// pg_terminate_backend), then opens `g`.
struct kill_waiter {
    gate* g;
    static eddy::task<void> run(kill_waiter k) {
        const std::string blocked = "SELECT pid FROM pg_stat_activity WHERE " +
                                    std::to_string(k.g->pid()) + " = ANY(pg_blocking_pids(pid))";
        std::string pid;
        while (pid.empty()) { // the batch reaches the lock on its own; nothing to wait for here
            pid = admin(blocked);
        }
        admin("SELECT pg_terminate_backend(" + pid + ", 10000)");
        k.g->open();
        co_return;
    }
};

} // namespace

TEST_CASE("postgres group commit: a connection lost mid-batch fails each of its appends, "
          "nothing written; the next appends go on",
          "[postgres][postgres_event_store][group_commit]") {
    eddy::inline_scheduler s;
    fixture f(s);
    REQUIRE(eddy::test::es::append(f.store, "held", eddy::expected_version::no_stream(),
                                   {added("h", 0)}) == eddy::append_result{1, 2, 2});
    gate first(f.schema.name(), "gate");
    gate second(f.schema.name(), "held");
    std::vector<request> queued;
    queued.push_back({"x-1", eddy::expected_version::no_stream(), {added("a", 1)}});
    queued.push_back({"held", eddy::expected_version::exact(1), {added("b", 2)}});
    queued.push_back({"x-2", eddy::expected_version::no_stream(), {added("c", 3)}});
    std::vector<outcome> got = behind_gate(f.store, first, gate_append(), std::move(queued),
                                           kill_waiter::run(kill_waiter{&second}));
    for (const outcome& o : got) {
        CAPTURE(o.message);
        REQUIRE((o.error == "postgres 57P01" || o.error == "postgres 08006"));
        REQUIRE_THAT(o.message, Catch::Contains(f.schema.name()));
    }
    REQUIRE(
        admin(
            "SELECT count(*) FROM " + f.table("events") +
            " WHERE stream_id IN ('x-1', 'x-2') OR (stream_id = 'held' AND stream_version > 1)") ==
        "0");
    REQUIRE(admin("SELECT count(*) FROM " + f.table("streams") +
                  " WHERE stream_id IN ('x-1', 'x-2')") == "0");
    REQUIRE(eddy::test::es::append(f.store, "held", eddy::expected_version::exact(1),
                                   {added("d", 4)}) == eddy::append_result{2, 4, 4});
}
