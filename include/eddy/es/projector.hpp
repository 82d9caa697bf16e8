// eddy/es/projector.hpp - eddy::projector<Store, Checkpoints>: runs a projection (the CQRS read
// side) over the all-events subscription, from its checkpoint.
#pragma once

#include <cstdint>     // std::uint64_t
#include <optional>    // std::optional
#include <string>      // std::string
#include <type_traits> // std::is_void_v

#include <eddy/core/task.hpp>
#include <eddy/es/checkpoint_store.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/event_store.hpp>
#include <eddy/es/projection.hpp>
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
/// Lazy: tasks. Where the awaiter resumes: where the store's streams resume (the memory store:
/// live events are handled on the appending thread).
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

    projector(Store& store, Checkpoints& checkpoints) noexcept
        : m_store(&store), m_checkpoints(&checkpoints) {}

    template <projection<events_type> P>
    [[nodiscard]] task<std::uint64_t> catch_up(P& p) const {
        return drive(m_store, m_checkpoints, &p, false);
    }

    template <projection<events_type> P>
    [[nodiscard]] task<std::uint64_t> run(P& p) const {
        return drive(m_store, m_checkpoints, &p, true);
    }

    template <projection<events_type> P>
    [[nodiscard]] task<std::uint64_t> replay(P& p) const {
        return replay_impl(m_store, m_checkpoints, &p);
    }

private:
    template <class P>
    static task<std::uint64_t> drive(Store* store, Checkpoints* checkpoints, P* p, bool live) {
        const std::string name(p->name());
        std::uint64_t position = co_await checkpoints->load_checkpoint(name);
        auto events = live ? store->subscribe_all(position + 1) : store->read_all(position + 1);
        for (;;) {
            std::optional<event_envelope<events_type>> e = co_await events.next();
            if (!e) {
                co_return position;
            }
            if constexpr (std::is_void_v<decltype(p->handle(*e))>) {
                p->handle(*e);
            } else {
                co_await p->handle(*e);
            }
            position = e->global_position;
            co_await checkpoints->save_checkpoint(name, position);
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
        co_return co_await drive(store, checkpoints, p, false);
    }

    Store* m_store;
    Checkpoints* m_checkpoints;
};

} // namespace eddy
