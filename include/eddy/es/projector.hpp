// eddy/es/projector.hpp - eddy::projector<Store, Checkpoints>: runs a projection (the CQRS read
// side) over the all-events subscription, from its checkpoint.
#pragma once

#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint64_t
#include <optional>    // std::optional
#include <string>      // std::string
#include <type_traits> // std::is_void_v
#include <utility>     // std::move

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/checkpoint_store.hpp>
#include <eddy/es/detail/partitioned_catch_up.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/event_store.hpp>
#include <eddy/es/projection.hpp>
#include <eddy/es/projection_monitor.hpp>
#include <eddy/es/unit_checkpoint_store.hpp>
#include <eddy/es/unit_projection.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// Runs projections over an `eddy::event_store`, recording each one's progress in an
/// `eddy::checkpoint_store` under the projection's name.
///
/// `catch_up(p)`: handles every event after the checkpoint up to the current end of the store
/// (`read_all`), saving the checkpoint after each event; returns the checkpoint.
/// `run(p)`: the same, then live (`subscribe_all`): never returns on its own; it ends with
/// `eddy::operation_cancelled` when its stop token is stopped while waiting for events.
/// `replay(p)`: `p.reset()`, checkpoint back to 0, then `catch_up(p)`: rebuilds the read model
/// from position 1.
/// Delivery: in global-position order, at-least-once: an event whose handler finished but
/// whose checkpoint was not saved (a crash between the two) is handled again on restart; a
/// handler that throws stops the projector with that error, its event not checkpointed.
/// Exactly-once: when `Checkpoints` is an `eddy::unit_checkpoint_store` and the projection an
/// `eddy::unit_projection` (`handle(envelope, unit&)`; preferred when it has both handlers),
/// each event gets a unit of the checkpoints' storage: the handler adds its read-model writes,
/// the projector adds the checkpoint and commits; a failure anywhere before the commit (the
/// handler, the checkpoint, a failed check of the unit) writes neither, and the event is
/// handled again on restart; so each event's writes are applied exactly once when the read
/// model lives in that storage.
/// `catch_up_parallel(p, scheduler, partitions, capacity)`: like `catch_up`, with handlers in
/// parallel across `partitions` partitions by stream id (std::hash of the id): one reader
/// feeds a bounded channel (`capacity` events) per partition, one worker per partition handles
/// its events on `scheduler`; events of one stream are handled in order by one worker, events
/// of different partitions concurrently (so `handle` must be safe to call from several threads
/// for different streams). The checkpoint is saved as the highest position below which every
/// event has completed: a slow partition holds it back, out-of-order completions never skip
/// an event; after a failure the other partitions finish what they hold and the first error
/// is rethrown (events after the checkpoint may then be handled again: at-least-once).
/// `partitions` and `capacity` must be at least 1 (`eddy::error`, eagerly).
/// `run_parallel(p, scheduler, partitions, capacity)`: the same, then live, like `run`.
/// Observability: pass an `eddy::projection_monitor` (to `catch_up`, `run` or
/// `catch_up_parallel`) to read the checkpoint, lag and last progress from any thread, and
/// `eddy::watch_projection` to have stalls reported.
/// Lazy: tasks. Where the awaiter resumes: where the store's streams resume (the memory store:
/// live events are handled on the appending thread); `catch_up_parallel`: on a thread of
/// `scheduler` or of the caller, whichever finished last.
/// Lifetime: the stores and the projection must outlive the tasks.
/// Thread-safety: one task per projection at a time.
///
///     eddy::projector proj(store, checkpoints);
///     co_await proj.catch_up(order_summary); // the read model is up to date
template <class Store, checkpoint_store Checkpoints>
class projector {
    static_assert(detail::check_event_store<Store>());

public:
    using events_type = typename Store::event_type;

private:
    // Whether P handles events through a unit of the checkpoints' storage.
    template <class P>
    static constexpr bool unit_projection_of = [] {
        if constexpr (unit_checkpoint_store<Checkpoints>) {
            return unit_projection<P, events_type, typename Checkpoints::unit_type>;
        } else {
            return false;
        }
    }();

public:
    projector(Store& store, Checkpoints& checkpoints) noexcept
        : m_store(&store), m_checkpoints(&checkpoints) {}

    template <class P>
        requires projection<P, events_type> || unit_projection_of<P>
    [[nodiscard]] task<std::uint64_t> catch_up(P& p) const {
        return drive(m_store, m_checkpoints, &p, false, nullptr);
    }

    /// `catch_up(p)`, reporting progress to `monitor`.
    template <class P>
        requires projection<P, events_type> || unit_projection_of<P>
    [[nodiscard]] task<std::uint64_t> catch_up(P& p, projection_monitor& monitor) const {
        return drive(m_store, m_checkpoints, &p, false, &monitor);
    }

    template <class P>
        requires projection<P, events_type> || unit_projection_of<P>
    [[nodiscard]] task<std::uint64_t> run(P& p) const {
        return drive(m_store, m_checkpoints, &p, true, nullptr);
    }

    /// `run(p)`, reporting progress to `monitor`.
    template <class P>
        requires projection<P, events_type> || unit_projection_of<P>
    [[nodiscard]] task<std::uint64_t> run(P& p, projection_monitor& monitor) const {
        return drive(m_store, m_checkpoints, &p, true, &monitor);
    }

    template <class P>
        requires projection<P, events_type> || unit_projection_of<P>
    [[nodiscard]] task<std::uint64_t> replay(P& p) const {
        return replay_impl(m_store, m_checkpoints, &p);
    }

    template <scheduler Scheduler, projection<events_type> P>
    [[nodiscard]] task<std::uint64_t>
    catch_up_parallel(P& p, Scheduler& scheduler, std::size_t partitions, std::size_t capacity = 64,
                      projection_monitor* monitor = nullptr) const {
        if (partitions == 0 || capacity == 0) {
            throw error("eddy::projector::catch_up_parallel: partitions and capacity must be at "
                        "least 1");
        }
        return detail::partitioned_catch_up<Store, Checkpoints, P, Scheduler>::run(
            m_store, m_checkpoints, &p, &scheduler, partitions, capacity, monitor, false);
    }

    /// `catch_up_parallel`, then live (`subscribe_all`), like `run`: never returns on its own;
    /// ends with `eddy::operation_cancelled` when its stop token is stopped (events buffered in
    /// the partitions are then dropped unhandled and not checkpointed: handled after restart).
    template <scheduler Scheduler, projection<events_type> P>
    [[nodiscard]] task<std::uint64_t>
    run_parallel(P& p, Scheduler& scheduler, std::size_t partitions, std::size_t capacity = 64,
                 projection_monitor* monitor = nullptr) const {
        if (partitions == 0 || capacity == 0) {
            throw error(
                "eddy::projector::run_parallel: partitions and capacity must be at least 1");
        }
        return detail::partitioned_catch_up<Store, Checkpoints, P, Scheduler>::run(
            m_store, m_checkpoints, &p, &scheduler, partitions, capacity, monitor, true);
    }

private:
    template <class P>
    static task<std::uint64_t> drive(Store* store, Checkpoints* checkpoints, P* p, bool live,
                                     projection_monitor* monitor) {
        const std::string name(p->name());
        std::uint64_t position = co_await checkpoints->load_checkpoint(name);
        if (monitor != nullptr) {
            monitor->started(position);
        }
        auto events = live ? store->subscribe_all(position + 1) : store->read_all(position + 1);
        for (;;) {
            std::optional<event_envelope<events_type>> e = co_await events.next();
            if (!e) {
                co_return position;
            }
            if constexpr (unit_projection_of<P>) {
                typename Checkpoints::unit_type unit = checkpoints->storage().begin();
                if constexpr (std::is_void_v<decltype(p->handle(*e, unit))>) {
                    p->handle(*e, unit);
                } else {
                    co_await p->handle(*e, unit);
                }
                checkpoints->save_checkpoint(unit, name, e->global_position);
                co_await checkpoints->storage().commit(std::move(unit));
            } else {
                if constexpr (std::is_void_v<decltype(p->handle(*e))>) {
                    p->handle(*e);
                } else {
                    co_await p->handle(*e);
                }
                co_await checkpoints->save_checkpoint(name, e->global_position);
            }
            position = e->global_position;
            if (monitor != nullptr) {
                monitor->progressed(position);
            }
        }
    }

    template <class P>
    static task<std::uint64_t> replay_impl(Store* store, Checkpoints* checkpoints, P* p) {
        if constexpr (requires { p->reset(); }) {
            if constexpr (std::is_void_v<decltype(p->reset())>) {
                p->reset();
            } else {
                co_await p->reset();
            }
        }
        std::string name(p->name()); // a local: no temporaries inside co_await (g++ 12)
        co_await checkpoints->save_checkpoint(std::move(name), 0);
        co_return co_await drive(store, checkpoints, p, false, nullptr);
    }

    Store* m_store;
    Checkpoints* m_checkpoints;
};

} // namespace eddy
