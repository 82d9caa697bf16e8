// eddy/postgres/postgres_lease.hpp - eddy::postgres_lease, a named lease in a PostgreSQL schema
// with a fencing epoch, shared by processes that take turns at one piece of work (a projector,
// a role); and eddy::fenced, a projection whose units commit only while the lease is held.
#pragma once

#include <atomic>  // std::atomic
#include <chrono>  // std::chrono::steady_clock, std::chrono::microseconds, std::chrono::ceil
#include <cstdint> // std::uint64_t, std::int64_t
#include <memory>  // std::shared_ptr, std::make_shared, std::make_unique
#include <string>  // std::string
#include <utility> // std::move, std::declval

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/postgres/detail/engine.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/detail/unit_op.hpp>
#include <eddy/postgres/lease_lost.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/postgres/postgres_unit_of_work.hpp>

namespace eddy {

/// A named lease in a `postgres_storage`'s schema (table `<schema>.leases`: name, holder, epoch,
/// expiry), so that processes sharing a piece of work (a projector, a role) take turns at it:
/// one holds it at a time, and when the holder dies (stops renewing) another takes it over once
/// it expires. Each lease object (with its copies, which share its epoch) is one holder
/// (`holder`: unique among the processes, e.g. a host name and pid, or a UUID).
///
/// `acquire_or_renew()` takes the lease when it is free (never taken, released or expired) or
/// already this object's, and sets its expiry to the server's `now()` + `ttl`; it returns
/// whether this holder holds it now (false: another's live lease; nothing changed). Times are
/// the server's, so the processes' clocks do not matter. Renew well within `ttl` (e.g. every
/// `ttl / 3`).
/// Fencing epoch: each new tenure (a take-over, a re-acquisition after `release`, or another
/// object of the same holder name taking it, as a restarted process does) raises the row's
/// epoch by one; a renewal keeps it. `epoch()` is the epoch of this object's last successful
/// `acquire_or_renew` (0 before the first; epochs start at 1).
/// `fence(unit)`: the unit of work commits only if, in its transaction, the lease is still held
/// by this holder at `epoch()` (as read when `fence` is called): a check that runs first,
/// locking the lease row `FOR SHARE` until COMMIT, so a take-over (whose update needs that row)
/// waits for the unit's commit and cannot slip in between the check and the commit; otherwise
/// the commit fails with `eddy::lease_lost` and nothing of the unit is written. So a holder
/// that was frozen past its expiry while another took over (a zombie) writes nothing when it
/// wakes up.
/// An expired lease that nobody took still lets its holder commit fenced units (and renew at
/// the same epoch): only a taker changes the epoch, and the fence checks the epoch under the
/// row lock, so no unit of the old tenure can commit once another tenure has begun. Expiry only
/// decides when another may take over; exclusion of the writes is by the epoch.
/// `release()` ends this holder's tenure (others may take the lease at once; this object's
/// fenced units fail from then on); releasing a lease not held (taken over) changes nothing.
///
/// Lazy: `acquire_or_renew` and `release` are tasks, each one statement in a transaction of its
/// own; `fence` is eager (it only adds to the unit). Where the awaiter resumes: on the storage's
/// scheduler.
/// Errors: `eddy::error` for an empty name or holder or a `ttl` that is not positive (from the
/// constructor), and for a unit of another storage (from `fence`); `eddy::postgres_error` from
/// the statements; `eddy::lease_lost` from the commit of a fenced unit.
/// Cancellation: none of its own.
/// Lifetime: a handle on the storage (copies share the holder's state); tasks in flight keep
/// what they use alive.
/// Thread-safety: every member may be called from any thread concurrently (the epoch is
/// atomic); a fence reads the epoch current when it is called.
///
///     eddy::postgres_lease lease(db, "order-projector", "host-1:4711", std::chrono::seconds(5));
///     if (co_await lease.acquire_or_renew()) {
///         eddy::postgres_unit_of_work unit = db.begin();
///         lease.fence(unit);
///         unit.execute("UPDATE totals SET n = n + 1");
///         co_await db.commit(std::move(unit)); // eddy::lease_lost if another took over
///     }
class postgres_lease {
public:
    using duration = std::chrono::steady_clock::duration;

    postgres_lease(postgres_storage storage, std::string name, std::string holder, duration ttl)
        : m_storage(std::move(storage)) {
        if (name.empty() || holder.empty()) {
            throw error("eddy::postgres_lease: the lease name and the holder must not be empty");
        }
        if (ttl <= duration::zero()) {
            throw error("eddy::postgres_lease: the ttl of the lease '" + name +
                        "' must be positive");
        }
        m_state =
            std::make_shared<state>(std::move(name), std::move(holder),
                                    std::chrono::ceil<std::chrono::microseconds>(ttl).count());
    }

    /// Takes the lease (free, expired, or held under this holder's name by another object: a
    /// new epoch) or renews it (held by this object: the same epoch), its expiry `now()` + ttl
    /// on the server; returns whether this holder holds it now.
    [[nodiscard]] task<bool> acquire_or_renew() const {
        return acquire_impl(m_storage.engine(), m_state);
    }

    /// Ends this holder's tenure (if it is still this object's): free for others at once.
    [[nodiscard]] task<void> release() const { return release_impl(m_storage.engine(), m_state); }

    /// The epoch of the last successful `acquire_or_renew` (0 before the first).
    [[nodiscard]] std::uint64_t epoch() const noexcept {
        return m_state->epoch.load(std::memory_order_acquire);
    }

    /// Makes `unit` commit only while this holder holds the lease at `epoch()` (see the class):
    /// otherwise its commit fails with `eddy::lease_lost`, nothing written.
    void fence(postgres_unit_of_work& unit) const {
        unit.add_check(m_storage.engine().get(), std::make_unique<fence_op>(m_state, epoch()));
    }

    [[nodiscard]] const std::string& name() const noexcept { return m_state->name; }
    [[nodiscard]] const std::string& holder() const noexcept { return m_state->holder; }
    /// The storage the lease lives in.
    [[nodiscard]] const postgres_storage& storage() const noexcept { return m_storage; }

private:
    struct state {
        state(std::string n, std::string h, std::int64_t ttl)
            : name(std::move(n)), holder(std::move(h)), ttl_us(ttl) {}
        const std::string name;
        const std::string holder;
        const std::int64_t ttl_us;
        std::atomic<std::uint64_t> epoch{0};
    };
    using engine_ptr = std::shared_ptr<detail::pg_engine>;
    using state_ptr = std::shared_ptr<const state>;

    struct fence_op final : detail::pg_unit_op {
        fence_op(state_ptr s, std::uint64_t e) : lease(std::move(s)), epoch(e) {}
        task<void> run(detail::pg_tx* tx) override { return check(this, tx); }
        state_ptr lease;
        std::uint64_t epoch;
    };

    static task<void> check(fence_op* op, detail::pg_tx* tx) {
        detail::pg_params params;
        params.text(op->lease->name)
            .text(op->lease->holder)
            .integer(static_cast<std::int64_t>(op->epoch));
        // FOR SHARE, not FOR KEY SHARE: a take-over updates non-key columns, which FOR KEY
        // SHARE would let through before this unit's COMMIT.
        detail::pg_query_awaiter q =
            tx->lease->prepared(tx->engine->cached_sql("SELECT 1 FROM {s}.leases WHERE name = $1 "
                                                       "AND holder = $2 AND epoch = $3 FOR SHARE"),
                                std::move(params));
        const detail::pg_rows rows = co_await q;
        if (rows.empty()) {
            throw lease_lost(op->lease->name, op->lease->holder, op->epoch);
        }
    }

    static task<bool> acquire_impl(engine_ptr e, std::shared_ptr<state> s) {
        detail::pg_params params;
        params.text(s->name).text(s->holder).integer(s->ttl_us).integer(
            static_cast<std::int64_t>(s->epoch.load(std::memory_order_acquire)));
        // One statement: the row lock of the upsert orders concurrent takers (the second sees
        // the first's tenure, live) and waits for fenced units in flight (FOR SHARE).
        std::string sql = e->cached_sql(
            "INSERT INTO {s}.leases AS l (name, holder, epoch, expires_at) VALUES ($1, $2, 1, "
            "now() + $3::bigint * interval '1 microsecond') ON CONFLICT (name) DO UPDATE SET "
            "holder = excluded.holder, expires_at = excluded.expires_at, epoch = CASE WHEN "
            "l.holder = excluded.holder AND l.epoch = $4::bigint THEN l.epoch ELSE l.epoch + 1 "
            "END WHERE l.holder = excluded.holder OR l.holder = '' OR l.expires_at <= now() "
            "RETURNING l.epoch");
        task<detail::pg_rows> upsert =
            detail::pg_engine::read(std::move(e), std::move(sql), std::move(params), false, true);
        const detail::pg_rows rows = co_await std::move(upsert);
        if (rows.empty()) {
            co_return false;
        }
        s->epoch.store(rows.u64(0, 0), std::memory_order_release);
        co_return true;
    }

    static task<void> release_impl(engine_ptr e, std::shared_ptr<state> s) {
        detail::pg_params params;
        params.text(s->name).text(s->holder).integer(
            static_cast<std::int64_t>(s->epoch.load(std::memory_order_acquire)));
        std::string sql = e->cached_sql("UPDATE {s}.leases SET holder = '', expires_at = now() "
                                        "WHERE name = $1 AND holder = $2 AND epoch = $3");
        task<detail::pg_rows> update =
            detail::pg_engine::read(std::move(e), std::move(sql), std::move(params), false, true);
        (void)co_await std::move(update);
    }

    postgres_storage m_storage;
    std::shared_ptr<state> m_state;
};

/// A unit projection (`handle(envelope, postgres_unit_of_work&)`, see `eddy::unit_projection`)
/// whose every unit is fenced by `lease` before `projection`'s handler adds its writes: run by
/// `eddy::projector` with a `postgres_checkpoint_store`, each event's read-model rows and
/// checkpoint commit only while this process holds the lease; once another took it over, the
/// next commit fails with `eddy::lease_lost` (nothing of that event written) and the projector
/// stops with it. Acquire the lease before starting the projector (its checkpoint is read
/// after, so it sees every unit the previous holder committed), and renew it while it runs.
/// `name()` and `reset()` are the projection's (`reset`, and the checkpoint `replay` sets back
/// to 0, are not fenced: replay only while holding the lease).
///
/// Eager value (holds references). Where the awaiter resumes and errors: those of the
/// projection's handler, and `eddy::lease_lost` from the commit.
/// Lifetime: `projection` and `lease` must outlive it. Thread-safety: that of the projection.
///
///     auto fenced_view = eddy::fenced(order_view, lease);
///     co_await projector.run(fenced_view);
template <class Projection>
class fenced_projection {
public:
    fenced_projection(Projection& projection, const postgres_lease& lease) noexcept
        : m_projection(&projection), m_lease(&lease) {}

    [[nodiscard]] decltype(auto) name() const { return m_projection->name(); }

    template <class Events>
    auto handle(const event_envelope<Events>& e, postgres_unit_of_work& unit)
        -> decltype(std::declval<Projection&>().handle(e, unit)) {
        m_lease->fence(unit);
        return m_projection->handle(e, unit);
    }

    auto reset() requires requires(Projection& p) { p.reset(); }
    { return m_projection->reset(); }

private:
    Projection* m_projection;
    const postgres_lease* m_lease;
};

/// `projection`, its units fenced by `lease` (see `fenced_projection`).
template <class Projection>
[[nodiscard]] fenced_projection<Projection> fenced(Projection& projection,
                                                   const postgres_lease& lease) noexcept {
    return fenced_projection<Projection>(projection, lease);
}

} // namespace eddy
