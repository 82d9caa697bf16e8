// Tests of eddy::postgres_lease (a throwaway server, scripts/test): acquiring, renewing and
// releasing; a second holder takes a lease only once it expired, with a new epoch; a unit of
// work fenced by the lease commits only while its holder holds the lease at its epoch (an
// expired lease nobody took still commits), otherwise fails with eddy::lease_lost writing
// nothing; the fence holds the lease row against a take-over until COMMIT; two projectors in
// two "processes" (storages) with fenced projections: a zombie's event is written by its
// successor only. Every test case fails without the fence's check. Expiry is forced with SQL
// on the table (no sleeps).
#include <eddy/postgres/postgres_lease.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/core/error.hpp>
#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/projector.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/es/unit_projection.hpp>
#include <eddy/postgres/detail/unit_op.hpp>
#include <eddy/postgres/lease_lost.hpp>
#include <eddy/postgres/postgres_checkpoint_store.hpp>
#include <eddy/postgres/postgres_event_store.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/postgres/postgres_unit_of_work.hpp>
#include <eddy/stream/to_vector.hpp>

#include <postgres/pg_test_schema.hpp>

namespace {

struct ticked {
    static constexpr std::string_view event_name = "ticked";
    std::int64_t n = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ticked, n)
using tick_events = std::variant<ticked>;

using eddy::test::postgres::admin;
using eddy::test::postgres::conninfo;
using eddy::test::postgres::fresh_schema;
using namespace std::chrono_literals;

using strings = std::vector<std::string>;

// One process of the system: a storage of its own (its own connections and I/O thread) on the
// shared schema, and its lease object of the lease "projector".
struct process {
    process(eddy::inline_scheduler& s, const fresh_schema& schema, std::string holder)
        : storage(conninfo(), s, schema.options(2)), lease(storage, "projector", holder, 5min) {}
    eddy::postgres_storage storage;
    eddy::postgres_event_store<tick_events> events{storage};
    eddy::postgres_checkpoint_store checkpoints{storage};
    eddy::postgres_lease lease;
};

struct world {
    explicit world(eddy::inline_scheduler& s) : a(s, schema, "a"), b(s, schema, "b") {
        eddy::sync_wait(
            a.storage.execute("CREATE TABLE seen (position bigint NOT NULL, by text NOT NULL)"));
    }
    fresh_schema schema;
    process a;
    process b;

    [[nodiscard]] std::string table() const { return "\"" + schema.name() + "\".leases"; }
    // holder/epoch/live of the lease "projector" (live: not expired).
    [[nodiscard]] std::string lease_row() const {
        return admin("SELECT holder || '/' || epoch || '/' || (expires_at > now()) FROM " +
                     table() + " WHERE name = 'projector'");
    }
    // What a process frozen for longer than its ttl finds: its lease expired.
    void expire() const {
        admin("UPDATE " + table() +
              " SET expires_at = now() - interval '1 second' WHERE name = 'projector'");
    }
    // "position:by" of every read-model row, in order (duplicates kept).
    [[nodiscard]] strings seen() const {
        strings out;
        for (const auto& r :
             eddy::sync_wait(a.storage.query("SELECT position, by FROM seen ORDER BY 1, 2"))) {
            out.push_back(std::to_string(r.integer(0)) + ":" + r.text(1));
        }
        return out;
    }
    [[nodiscard]] std::size_t event_count() const {
        return eddy::sync_wait(eddy::to_vector(a.events.read_all(1))).size();
    }
};

eddy::proposed_event<tick_events> tick(std::int64_t n) {
    return eddy::proposed_event<tick_events>(ticked{n});
}

// A unit of `p` fenced by its lease: an event, a checkpoint and a read-model row.
eddy::postgres_unit_of_work fenced_unit(process& p, std::int64_t position) {
    eddy::postgres_unit_of_work unit = p.storage.begin();
    p.lease.fence(unit);
    p.events.append(unit, "tick-" + std::to_string(position), eddy::expected_version::no_stream(),
                    {tick(position)});
    p.checkpoints.save_checkpoint(unit, "seen", static_cast<std::uint64_t>(position));
    unit.execute("INSERT INTO seen VALUES ($1, $2)", {position, p.lease.holder()});
    return unit;
}

std::string lost_message(const std::string& holder, std::uint64_t epoch) {
    return "eddy::postgres_lease: the lease 'projector' is no longer held by '" + holder +
           "' at epoch " + std::to_string(epoch) +
           " (taken over, released or never acquired): the unit of work was not committed";
}

// A projection with a void handler and no reset: fenced, it is a unit projection with neither;
// a reset is forwarded.
struct plain_view {
    [[nodiscard]] std::string_view name() const { return "plain"; }
    void handle(const eddy::event_envelope<tick_events>&, eddy::postgres_unit_of_work&) {}
};
static_assert(eddy::unit_projection<eddy::fenced_projection<plain_view>, tick_events,
                                    eddy::postgres_unit_of_work>);
static_assert(std::is_void_v<decltype(std::declval<eddy::fenced_projection<plain_view>&>().handle(
                  std::declval<const eddy::event_envelope<tick_events>&>(),
                  std::declval<eddy::postgres_unit_of_work&>()))>);
template <class P>
concept resettable = requires(P& p) {
    p.reset();
};
struct resettable_view : plain_view {
    void reset() {}
};
static_assert(!resettable<eddy::fenced_projection<plain_view>>);
static_assert(resettable<eddy::fenced_projection<resettable_view>>);

// A write of the test's own, run inside the unit's transaction in its order.
struct probe_op final : eddy::detail::pg_unit_op {
    explicit probe_op(std::function<void()> f) : call(std::move(f)) {}
    eddy::task<void> run(eddy::detail::pg_tx*) override { return invoke(this); }
    static eddy::task<void> invoke(probe_op* op) {
        op->call();
        co_return;
    }
    std::function<void()> call;
};

} // namespace

TEST_CASE("postgres_lease: acquire, renew, release; a released lease fences nothing",
          "[postgres][postgres_lease]") {
    eddy::inline_scheduler s;
    world w(s);
    CHECK(w.a.lease.epoch() == 0);
    CHECK(w.a.lease.name() == "projector");
    CHECK(w.a.lease.holder() == "a");

    REQUIRE(eddy::sync_wait(w.a.lease.acquire_or_renew()));
    CHECK(w.a.lease.epoch() == 1);
    CHECK(w.lease_row() == "a/1/true");

    // A renewal keeps the epoch and pushes the expiry to now() + ttl (5 min).
    admin("UPDATE " + w.table() + " SET expires_at = now() + interval '1 second'");
    REQUIRE(eddy::sync_wait(w.a.lease.acquire_or_renew()));
    CHECK(w.a.lease.epoch() == 1);
    CHECK(admin("SELECT epoch || '/' || (expires_at > now() + interval '4 minutes') FROM " +
                w.table()) == "1/true");

    eddy::sync_wait(w.a.storage.commit(fenced_unit(w.a, 1)));
    CHECK(w.seen() == strings{"1:a"});

    eddy::sync_wait(w.a.lease.release());
    CHECK(w.lease_row() == "/1/false");
    try {
        eddy::sync_wait(w.a.storage.commit(fenced_unit(w.a, 2)));
        FAIL("a unit fenced by a released lease committed");
    } catch (const eddy::lease_lost& e) {
        CHECK(e.name() == "projector");
        CHECK(e.holder() == "a");
        CHECK(e.epoch() == 1);
        CHECK(std::string(e.what()) == lost_message("a", 1));
    }
    CHECK(w.seen() == strings{"1:a"});
    CHECK(w.event_count() == 1);
    CHECK(eddy::sync_wait(w.a.checkpoints.load_checkpoint("seen")) == 1);

    // Acquiring again is a new tenure: a new epoch; a release twice changes nothing.
    REQUIRE(eddy::sync_wait(w.a.lease.acquire_or_renew()));
    CHECK(w.a.lease.epoch() == 2);
    CHECK(w.lease_row() == "a/2/true");
    eddy::sync_wait(w.a.storage.commit(fenced_unit(w.a, 2)));
    CHECK(w.seen() == strings{"1:a", "2:a"});
    eddy::sync_wait(w.a.lease.release());
    eddy::sync_wait(w.a.lease.release());
    CHECK(w.lease_row() == "/2/false");
}

TEST_CASE("postgres_lease: a second holder takes the lease once it expired; the old holder's "
          "fenced units then fail, writing nothing",
          "[postgres][postgres_lease]") {
    eddy::inline_scheduler s;
    world w(s);
    REQUIRE(eddy::sync_wait(w.a.lease.acquire_or_renew()));

    // A live lease is not taken.
    CHECK_FALSE(eddy::sync_wait(w.b.lease.acquire_or_renew()));
    CHECK(w.b.lease.epoch() == 0);
    CHECK(w.lease_row() == "a/1/true");

    // Expired but not taken: the holder still commits, and renews at the same epoch.
    w.expire();
    eddy::sync_wait(w.a.storage.commit(fenced_unit(w.a, 1)));
    REQUIRE(eddy::sync_wait(w.a.lease.acquire_or_renew()));
    CHECK(w.lease_row() == "a/1/true");

    // A zombie: its unit is fenced while it holds the lease, then it freezes past its expiry
    // and b takes over before the unit commits.
    eddy::postgres_unit_of_work zombie = fenced_unit(w.a, 2);
    w.expire();
    REQUIRE(eddy::sync_wait(w.b.lease.acquire_or_renew()));
    CHECK(w.b.lease.epoch() == 2);
    CHECK(w.lease_row() == "b/2/true");
    REQUIRE_THROWS_MATCHES(eddy::sync_wait(w.a.storage.commit(std::move(zombie))), eddy::lease_lost,
                           Catch::Message(lost_message("a", 1)));
    CHECK(w.seen() == strings{"1:a"});
    CHECK(w.event_count() == 1);
    CHECK(eddy::sync_wait(w.a.checkpoints.load_checkpoint("seen")) == 1);

    // a cannot take the live lease back; its epoch stays that of its tenure.
    CHECK_FALSE(eddy::sync_wait(w.a.lease.acquire_or_renew()));
    CHECK(w.a.lease.epoch() == 1);
    REQUIRE_THROWS_AS(eddy::sync_wait(w.a.storage.commit(fenced_unit(w.a, 2))), eddy::lease_lost);

    // The new holder's fenced units commit.
    eddy::sync_wait(w.b.storage.commit(fenced_unit(w.b, 2)));
    CHECK(w.seen() == strings{"1:a", "2:b"});
    CHECK(w.event_count() == 2);
    CHECK(eddy::sync_wait(w.b.checkpoints.load_checkpoint("seen")) == 2);
    // a release by the old holder does not end b's tenure.
    eddy::sync_wait(w.a.lease.release());
    CHECK(w.lease_row() == "b/2/true");

    // Another object under b's name (a restart of b) takes the lease at once, fencing the first.
    eddy::postgres_lease restarted(w.b.storage, "projector", "b", 5min);
    REQUIRE(eddy::sync_wait(restarted.acquire_or_renew()));
    CHECK(restarted.epoch() == 3);
    CHECK(w.lease_row() == "b/3/true");
    REQUIRE_THROWS_AS(eddy::sync_wait(w.b.storage.commit(fenced_unit(w.b, 3))), eddy::lease_lost);
    CHECK(w.seen() == strings{"1:a", "2:b"});
}

TEST_CASE("postgres_lease: a fenced unit holds the lease row against a take-over until COMMIT",
          "[postgres][postgres_lease]") {
    eddy::inline_scheduler s;
    world w(s);
    REQUIRE(eddy::sync_wait(w.a.lease.acquire_or_renew()));
    w.expire();

    // Inside a's transaction, after the fence: another session cannot lock the row as a
    // take-over's update does (FOR NO KEY UPDATE), so it would wait for a's COMMIT.
    const std::string lock =
        "SELECT holder FROM " + w.table() + " WHERE name = 'projector' FOR NO KEY UPDATE NOWAIT";
    std::string during;
    eddy::postgres_unit_of_work unit = fenced_unit(w.a, 1);
    unit.add(w.a.storage.engine().get(), std::make_unique<probe_op>([&] {
                 try {
                     during = "locked by nobody: " + admin(lock);
                 } catch (const std::exception& e) {
                     during = e.what();
                 }
             }),
             false);
    eddy::sync_wait(w.a.storage.commit(std::move(unit)));
    CHECK_THAT(during, Catch::Contains("could not obtain lock on row"));
    CHECK(admin(lock) == "a"); // free after the commit
    CHECK(w.seen() == strings{"1:a"});

    // Taken over once the unit committed: a's next fenced unit fails.
    REQUIRE(eddy::sync_wait(w.b.lease.acquire_or_renew()));
    CHECK(w.lease_row() == "b/2/true");
    REQUIRE_THROWS_AS(eddy::sync_wait(w.a.storage.commit(fenced_unit(w.a, 2))), eddy::lease_lost);
    CHECK(w.seen() == strings{"1:a"});
}

TEST_CASE("postgres_lease: two projectors with fenced projections; a zombie's event is written "
          "once, by its successor",
          "[postgres][postgres_lease]") {
    eddy::inline_scheduler s;
    world w(s);
    for (std::int64_t n = 1; n <= 5; ++n) {
        eddy::sync_wait(w.a.events.append("tick-" + std::to_string(n),
                                          eddy::expected_version::no_stream(), {tick(n)}));
    }

    // The read model: a row per event and holder (no key, so a second write would show).
    // `on_event` runs after the handler added its row (and the fence was added before).
    struct seen_view {
        std::string by;
        std::function<eddy::task<void>(std::uint64_t)> on_event;
        [[nodiscard]] std::string_view name() const { return "seen"; }
        eddy::task<void> handle(const eddy::event_envelope<tick_events>& e,
                                eddy::postgres_unit_of_work& unit) {
            unit.execute("INSERT INTO seen VALUES ($1, $2)",
                         {static_cast<std::int64_t>(e.global_position), by});
            return on_event ? on_event(e.global_position) : nothing();
        }
        static eddy::task<void> nothing() { co_return; }
    };
    struct successor {
        // b, after a froze past its expiry at the event: takes the lease over and catches up.
        static eddy::task<void> take_over(world* w, seen_view* view, bool* took) {
            w->expire();
            eddy::task<bool> acquire = w->b.lease.acquire_or_renew();
            *took = co_await std::move(acquire);
            eddy::projector projector(w->b.events, w->b.checkpoints);
            auto fenced_view = eddy::fenced(*view, w->b.lease);
            (void)co_await projector.catch_up(fenced_view);
        }
    };

    seen_view b_view{"b", {}};
    bool took = false;
    seen_view a_view{"a", [&](std::uint64_t position) {
                         return position == 3 ? successor::take_over(&w, &b_view, &took)
                                              : seen_view::nothing();
                     }};
    REQUIRE(eddy::sync_wait(w.a.lease.acquire_or_renew()));
    eddy::projector a_projector(w.a.events, w.a.checkpoints);
    auto a_fenced = eddy::fenced(a_view, w.a.lease);
    CHECK(a_fenced.name() == "seen");
    REQUIRE_THROWS_MATCHES(eddy::sync_wait(a_projector.catch_up(a_fenced)), eddy::lease_lost,
                           Catch::Message(lost_message("a", 1)));
    CHECK(took);
    CHECK(w.b.lease.epoch() == 2);
    CHECK(w.seen() == strings{"1:a", "2:a", "3:b", "4:b", "5:b"});
    CHECK(eddy::sync_wait(w.a.checkpoints.load_checkpoint("seen")) == 5);

    // a restarted while b holds the lease: its projector writes nothing.
    a_view.on_event = {};
    CHECK_FALSE(eddy::sync_wait(w.a.lease.acquire_or_renew()));
    eddy::sync_wait(w.a.events.append("tick-6", eddy::expected_version::no_stream(), {tick(6)}));
    REQUIRE_THROWS_AS(eddy::sync_wait(a_projector.catch_up(a_fenced)), eddy::lease_lost);
    // b goes on.
    eddy::projector b_projector(w.b.events, w.b.checkpoints);
    auto b_fenced = eddy::fenced(b_view, w.b.lease);
    CHECK(eddy::sync_wait(b_projector.catch_up(b_fenced)) == 6);
    CHECK(w.seen() == strings{"1:a", "2:a", "3:b", "4:b", "5:b", "6:b"});
    CHECK(eddy::sync_wait(w.b.checkpoints.load_checkpoint("seen")) == 6);
}

TEST_CASE("postgres_lease: bad arguments, a unit of another storage, a lease never acquired",
          "[postgres][postgres_lease]") {
    eddy::inline_scheduler s;
    world w(s);
    REQUIRE_THROWS_MATCHES(
        eddy::postgres_lease(w.a.storage, "", "a", 1s), eddy::error,
        Catch::Message("eddy::postgres_lease: the lease name and the holder must not be empty"));
    REQUIRE_THROWS_MATCHES(
        eddy::postgres_lease(w.a.storage, "x", "", 1s), eddy::error,
        Catch::Message("eddy::postgres_lease: the lease name and the holder must not be empty"));
    REQUIRE_THROWS_MATCHES(
        eddy::postgres_lease(w.a.storage, "x", "a", 0s), eddy::error,
        Catch::Message("eddy::postgres_lease: the ttl of the lease 'x' must be positive"));
    REQUIRE_THROWS_MATCHES(
        eddy::postgres_lease(w.a.storage, "x", "a", -1ms), eddy::error,
        Catch::Message("eddy::postgres_lease: the ttl of the lease 'x' must be positive"));

    eddy::postgres_unit_of_work other = w.b.storage.begin();
    REQUIRE_THROWS_MATCHES(
        w.a.lease.fence(other), eddy::error,
        Catch::Message("eddy::postgres: a unit of work of another postgres_storage"));
    CHECK(other.size() == 0);

    // Never acquired (epoch 0): a fenced unit fails, even with no lease row at all.
    REQUIRE_THROWS_MATCHES(eddy::sync_wait(w.a.storage.commit(fenced_unit(w.a, 1))),
                           eddy::lease_lost, Catch::Message(lost_message("a", 0)));
    REQUIRE(eddy::sync_wait(w.b.lease.acquire_or_renew()));
    REQUIRE_THROWS_AS(eddy::sync_wait(w.a.storage.commit(fenced_unit(w.a, 1))), eddy::lease_lost);
    CHECK(w.seen().empty());
    CHECK(w.event_count() == 0);
}
