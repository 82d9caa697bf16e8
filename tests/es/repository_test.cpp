// Tests of eddy::repository: save then load, expected versions and concurrency_conflict,
// metadata on every event, snapshots every N events (load = snapshot + tail, exact replay
// counts), snapshot schema versions, update retrying on conflict, deciders through the same
// repository.
#include <eddy/es/repository.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <eddy/core/sync_wait.hpp>
#include <eddy/es/aggregate.hpp>
#include <eddy/es/decider.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/es/memory_snapshot_store.hpp>
#include <eddy/stream/to_vector.hpp>

namespace {

struct deposited {
    static constexpr std::string_view event_name = "deposited";
    long amount = 0;
};
struct withdrawn {
    static constexpr std::string_view event_name = "withdrawn";
    long amount = 0;
};
using account_events = std::variant<deposited, withdrawn>;

struct account : eddy::aggregate<account, account_events> {
    long balance = 0;
    int applied = 0; // events applied to this object (copied with it, so counts from a snapshot)

    void deposit(long n) { raise(deposited{n}); }
    void withdraw(long n) { raise(withdrawn{n}); }
    void apply(const deposited& e) {
        balance += e.amount;
        ++applied;
    }
    void apply(const withdrawn& e) {
        balance -= e.amount;
        ++applied;
    }
};

struct account_v2 : account {
    static constexpr std::uint32_t snapshot_schema_version = 2;
};

using store_type = eddy::memory_event_store<account_events>;

struct counter_decider {
    using state_type = long;
    using command_type = long;
    using event_type = account_events;
    static long initial_state() { return 0; }
    static std::vector<event_type> decide(const long& n, const long&) {
        return {deposited{n}, deposited{n}};
    }
    static long evolve(const long& s, const deposited& e) { return s + e.amount; }
    static long evolve(const long& s, const withdrawn& e) { return s - e.amount; }
};

} // namespace

TEST_CASE("repository: save appends with the expected version, load replays", "[es][repository]") {
    store_type store;
    eddy::repository<account, store_type> repo(store);

    account a;
    a.set_id("acc-1");
    a.deposit(100);
    a.withdraw(30);
    eddy::event_metadata md;
    md.correlation_id = "corr";
    md.causation_id = "cmd-1";
    md.tenant = "t1";
    eddy::append_result r = eddy::sync_wait(repo.save(a, md));
    REQUIRE(r == eddy::append_result{2, 1, 2});
    REQUIRE(a.version() == 2);
    REQUIRE(a.uncommitted().empty());
    REQUIRE(eddy::sync_wait(repo.save(a)).stream_version == 2); // nothing to save

    account b = eddy::sync_wait(repo.load("acc-1"));
    REQUIRE(b.id() == "acc-1");
    REQUIRE(b.version() == 2);
    REQUIRE(b.balance == 70);
    REQUIRE(b.uncommitted().empty());

    auto events = eddy::sync_wait(eddy::to_vector(store.read_stream("acc-1", 1)));
    REQUIRE(events.size() == 2);
    for (const auto& e : events) {
        REQUIRE(e.metadata == md);
    }

    account missing = eddy::sync_wait(repo.load("nobody"));
    REQUIRE(missing.version() == 0);
    REQUIRE(missing.id() == "nobody");
}

TEST_CASE("repository: a stale aggregate gets concurrency_conflict and stays uncommitted",
          "[es][repository]") {
    store_type store;
    eddy::repository<account, store_type> repo(store);
    account a;
    a.set_id("acc-1");
    a.deposit(10);
    eddy::sync_wait(repo.save(a));

    account first = eddy::sync_wait(repo.load("acc-1"));
    account second = eddy::sync_wait(repo.load("acc-1"));
    first.deposit(1);
    second.withdraw(2);
    eddy::sync_wait(repo.save(first));
    try {
        eddy::sync_wait(repo.save(second));
        FAIL("no conflict");
    } catch (const eddy::concurrency_conflict& c) {
        REQUIRE(c.stream() == "acc-1");
        REQUIRE(c.expected() == eddy::expected_version::exact(1));
        REQUIRE(c.actual() == 2);
    }
    REQUIRE(second.version() == 1);
    REQUIRE(second.uncommitted().size() == 1);

    account fresh; // a new aggregate expects no stream
    fresh.set_id("acc-1");
    fresh.deposit(5);
    REQUIRE_THROWS_AS(eddy::sync_wait(repo.save(fresh)), eddy::concurrency_conflict);

    account anonymous;
    anonymous.deposit(1);
    REQUIRE_THROWS_AS(eddy::sync_wait(repo.save(anonymous)), eddy::error);
    REQUIRE_THROWS_AS(eddy::sync_wait(repo.load("")), eddy::error);
}

TEST_CASE("repository: snapshots every N events; load = snapshot + the events after it",
          "[es][repository]") {
    store_type store;
    eddy::memory_snapshot_store<account> snapshots;
    eddy::repository<account, store_type, eddy::memory_snapshot_store<account>> repo(
        store, snapshots, eddy::snapshot_every{3});

    account a;
    a.set_id("acc-1");
    a.deposit(1);
    a.deposit(1);
    eddy::sync_wait(repo.save(a)); // version 2: no snapshot
    REQUIRE(snapshots.saves() == 0);
    a.deposit(1);
    a.deposit(1);
    eddy::sync_wait(repo.save(a)); // version 4: crossed 3
    REQUIRE(snapshots.saves() == 1);
    auto snap = eddy::sync_wait(snapshots.load_snapshot("acc-1"));
    REQUIRE(snap.has_value());
    REQUIRE(snap->version == 4);
    REQUIRE(snap->schema_version == 1);
    REQUIRE(snap->state.balance == 4);
    REQUIRE(snap->state.uncommitted().empty());

    a.deposit(10); // version 5: no snapshot
    eddy::sync_wait(repo.save(a));
    REQUIRE(snapshots.saves() == 1);

    account loaded = eddy::sync_wait(repo.load("acc-1"));
    REQUIRE(loaded.version() == 5);
    REQUIRE(loaded.balance == 14);
    // The snapshot's object had applied 4; loading replayed only the tail (1 event).
    REQUIRE(loaded.applied == 5);
    REQUIRE(snap->state.applied == 4);

    eddy::repository<account, store_type> plain(store);
    account replayed = eddy::sync_wait(plain.load("acc-1"));
    REQUIRE(replayed.applied == 5);
    REQUIRE(replayed.balance == 14);

    a.deposit(1);
    eddy::sync_wait(repo.save(a)); // version 6: a multiple of 3
    REQUIRE(snapshots.saves() == 2);
    REQUIRE(eddy::sync_wait(snapshots.load_snapshot("acc-1"))->version == 6);
}

TEST_CASE("repository: a load that replayed too much writes a snapshot", "[es][repository]") {
    store_type store;
    eddy::memory_snapshot_store<account> snapshots;
    eddy::repository<account, store_type> writer(store);
    account a;
    a.set_id("acc-1");
    for (int i = 0; i < 8; ++i) {
        a.deposit(1);
    }
    eddy::sync_wait(writer.save(a));
    eddy::repository<account, store_type, eddy::memory_snapshot_store<account>> repo(
        store, snapshots, eddy::snapshot_policy<account>{.after_replaying = 5});
    REQUIRE(eddy::sync_wait(repo.load("acc-1")).applied == 8); // replayed 8 > 5: snapshot
    REQUIRE(snapshots.saves() == 1);
    REQUIRE(eddy::sync_wait(snapshots.load_snapshot("acc-1"))->version == 8);
    a.deposit(1);
    eddy::sync_wait(writer.save(a));
    const account again = eddy::sync_wait(repo.load("acc-1"));
    REQUIRE(again.balance == 9);
    REQUIRE(again.applied == 9);     // 8 from the snapshot's object + 1 replayed
    REQUIRE(snapshots.saves() == 1); // replayed 1: no new snapshot
    // time travel never writes one
    (void)eddy::sync_wait(repo.load_at_version("acc-1", 7));
    REQUIRE(snapshots.saves() == 1);
}

TEST_CASE("repository: a predicate and a manual call write snapshots", "[es][repository]") {
    store_type store;
    eddy::memory_snapshot_store<account> snapshots;
    eddy::repository<account, store_type, eddy::memory_snapshot_store<account>> repo(
        store, snapshots,
        eddy::snapshot_policy<account>{.when = [](const account& x) { return x.balance >= 100; }});
    account a;
    a.set_id("acc-1");
    a.deposit(50);
    eddy::sync_wait(repo.save(a));
    REQUIRE(snapshots.saves() == 0);
    a.deposit(60);
    eddy::sync_wait(repo.save(a));
    REQUIRE(snapshots.saves() == 1);
    REQUIRE(eddy::sync_wait(snapshots.load_snapshot("acc-1"))->state.balance == 110);

    a.withdraw(100);
    REQUIRE_THROWS_WITH(eddy::sync_wait(repo.save_snapshot(a)),
                        Catch::Contains("has uncommitted events"));
    eddy::sync_wait(repo.save(a)); // balance 10: the predicate says no
    REQUIRE(snapshots.saves() == 1);
    eddy::sync_wait(repo.save_snapshot(a)); // an operator asks for one
    REQUIRE(snapshots.saves() == 2);
    REQUIRE(eddy::sync_wait(snapshots.load_snapshot("acc-1"))->version == 3);
}

TEST_CASE("repository: a snapshot of another schema version is ignored", "[es][repository]") {
    store_type store;
    eddy::memory_snapshot_store<account_v2> snapshots;
    // A stale snapshot written by an older schema (version 1), with a wrong balance.
    account_v2 stale;
    stale.set_id("acc-1");
    stale.balance = 999;
    eddy::sync_wait(
        snapshots.save_snapshot("acc-1", {.version = 0, .schema_version = 1, .state = stale}));
    eddy::repository<account_v2, store_type, eddy::memory_snapshot_store<account_v2>> repo(
        store, snapshots, eddy::snapshot_every{100});
    account_v2 a;
    a.set_id("acc-1");
    a.deposit(5);
    eddy::sync_wait(repo.save(a));
    account_v2 loaded = eddy::sync_wait(repo.load("acc-1"));
    REQUIRE(loaded.balance == 5);
    REQUIRE(loaded.version() == 1);
}

TEST_CASE("repository: update reloads and retries on conflict", "[es][repository]") {
    store_type store;
    eddy::repository<account, store_type> repo(store);
    account a;
    a.set_id("acc-1");
    a.deposit(10);
    eddy::sync_wait(repo.save(a));

    // The first run of fn races with another writer (simulated inside fn), so the save
    // conflicts; the second run sees the other writer's event and succeeds.
    struct racing {
        store_type* store;
        int* calls;
        void operator()(account& acc) const {
            if ((*calls)++ == 0) {
                eddy::sync_wait(
                    store->append("acc-1", eddy::expected_version::any(), {deposited{100}}));
            }
            acc.withdraw(3);
        }
    };
    int calls = 0;
    account updated = eddy::sync_wait(repo.update("acc-1", racing{&store, &calls}, 3));
    REQUIRE(calls == 2);
    REQUIRE(updated.version() == 3);
    REQUIRE(updated.balance == 107);

    // Always conflicting: gives up after the given attempts with the conflict.
    int always = 0;
    struct always_racing {
        store_type* store;
        int* calls;
        void operator()(account& acc) const {
            ++*calls;
            eddy::sync_wait(store->append("acc-1", eddy::expected_version::any(), {deposited{1}}));
            acc.withdraw(1);
        }
    };
    REQUIRE_THROWS_AS(eddy::sync_wait(repo.update("acc-1", always_racing{&store, &always}, 2)),
                      eddy::concurrency_conflict);
    REQUIRE(always == 2);
    REQUIRE_THROWS_AS(repo.update("acc-1", always_racing{&store, &always}, 0), eddy::error);
}

TEST_CASE("repository: a decider through the same repository", "[es][repository]") {
    using agg = eddy::decider_aggregate<counter_decider>;
    store_type store;
    eddy::repository<agg, store_type> repo(store);
    agg c;
    c.set_id("counter-1");
    c.handle(5);
    REQUIRE(c.state() == 10);
    eddy::sync_wait(repo.save(c));
    agg loaded = eddy::sync_wait(repo.load("counter-1"));
    REQUIRE(loaded.state() == 10);
    REQUIRE(loaded.version() == 2);
}

namespace {

// Saves three times at exact fake times: v1 at t0; v2, v3 at t0 + 10 s; v4 at t0 + 20 s.
struct history {
    std::chrono::system_clock::time_point t0{std::chrono::milliseconds(1'700'000'000'000)};
    std::chrono::system_clock::time_point now = t0;
    std::chrono::system_clock::time_point t1 = t0 + std::chrono::seconds(10);
    std::chrono::system_clock::time_point t2 = t0 + std::chrono::seconds(20);

    template <class Repo>
    void write(Repo& repo) {
        account a;
        a.set_id("acc-1");
        a.deposit(100);
        eddy::sync_wait(repo.save(a));
        now = t1;
        a.deposit(50);
        a.withdraw(30);
        eddy::sync_wait(repo.save(a));
        now = t2;
        a.deposit(5);
        eddy::sync_wait(repo.save(a));
    }
};

} // namespace

TEST_CASE("repository: time travel to a version and to a recorded time", "[es][repository]") {
    history h;
    store_type store([&h] { return h.now; });
    eddy::repository<account, store_type> repo(store);
    h.write(repo);
    using std::chrono::milliseconds;

    auto at_version = [&](std::uint64_t v) {
        return eddy::sync_wait(repo.load_at_version("acc-1", v));
    };
    auto at_time = [&](auto t) { return eddy::sync_wait(repo.load_at_time("acc-1", t)); };

    const std::vector<long> balances{0, 100, 150, 120, 125};
    for (std::uint64_t v = 0; v <= 4; ++v) {
        account a = at_version(v);
        REQUIRE(a.version() == v);
        REQUIRE(a.balance == balances[v]);
        REQUIRE(a.applied == static_cast<int>(v));
        REQUIRE(a.id() == "acc-1");
    }
    REQUIRE_THROWS_WITH(at_version(5),
                        Catch::Contains("stream 'acc-1' has 4 events, not version 5"));

    REQUIRE(at_time(h.t0 - milliseconds(1)).version() == 0);
    REQUIRE(at_time(h.t0).version() == 1);
    REQUIRE(at_time(h.t1 - milliseconds(1)).balance == 100);
    REQUIRE(at_time(h.t1).version() == 3);
    REQUIRE(at_time(h.t1).balance == 120);
    REQUIRE(at_time(h.t2 - milliseconds(1)).version() == 3);
    REQUIRE(at_time(h.t2).version() == 4);
    REQUIRE(at_time(h.t2 + std::chrono::hours(1)).balance == 125);

    // The past is read-only: saving a view of it conflicts.
    account old = at_version(2);
    old.deposit(1);
    REQUIRE_THROWS_AS(eddy::sync_wait(repo.save(old)), eddy::concurrency_conflict);
}

TEST_CASE("repository: time travel uses a snapshot only when it is not newer", "[es][repository]") {
    history h;
    store_type store([&h] { return h.now; });
    eddy::memory_snapshot_store<account> snapshots;
    eddy::repository<account, store_type, eddy::memory_snapshot_store<account>> repo(
        store, snapshots, eddy::snapshot_every{2});
    h.write(repo);
    // Mark the snapshot (taken at version 4) so a load that uses it shows it.
    auto snap = eddy::sync_wait(snapshots.load_snapshot("acc-1"));
    REQUIRE(snap->version == 4);
    snap->state.balance += 1000;
    eddy::sync_wait(snapshots.save_snapshot("acc-1", *snap));
    using std::chrono::milliseconds;

    REQUIRE(eddy::sync_wait(repo.load_at_version("acc-1", 4)).balance == 1125); // snapshot
    REQUIRE(eddy::sync_wait(repo.load_at_version("acc-1", 3)).balance == 120);  // replayed
    REQUIRE(eddy::sync_wait(repo.load_at_time("acc-1", h.t2)).balance == 1125);
    REQUIRE(eddy::sync_wait(repo.load_at_time("acc-1", h.t2 - milliseconds(1))).balance == 120);
    REQUIRE(eddy::sync_wait(repo.load("acc-1")).balance == 1125);
}

TEST_CASE("repository: a soft-deleted stream recreated by a new aggregate loads and saves",
          "[es][repository]") {
    store_type store;
    eddy::repository<account, store_type> repo(store);
    account a;
    a.set_id("acc-1");
    a.deposit(100);
    a.withdraw(30);
    eddy::sync_wait(repo.save(a));
    eddy::sync_wait(store.delete_stream("acc-1", eddy::expected_version::exact(2)));

    account gone = eddy::sync_wait(repo.load("acc-1"));
    REQUIRE(gone.version() == 0);
    REQUIRE(gone.balance == 0);
    gone.deposit(7); // a new aggregate under the old id: expects no stream
    REQUIRE(eddy::sync_wait(repo.save(gone)) == eddy::append_result{3, 3, 3});

    account recreated = eddy::sync_wait(repo.load("acc-1"));
    REQUIRE(recreated.version() == 3); // versions continue after the deleted ones
    REQUIRE(recreated.balance == 7);
    REQUIRE(recreated.applied == 1);
    recreated.deposit(1);
    REQUIRE(eddy::sync_wait(repo.save(recreated)).stream_version == 4);
    REQUIRE(eddy::sync_wait(repo.load("acc-1")).balance == 8);

    // Truncated: the history starts at the first readable version.
    eddy::sync_wait(store.set_stream_metadata("acc-1", {.truncate_before = 4}));
    account truncated = eddy::sync_wait(repo.load("acc-1"));
    REQUIRE(truncated.version() == 4);
    REQUIRE(truncated.balance == 1);
}
