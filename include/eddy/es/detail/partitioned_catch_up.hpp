// eddy/es/detail/partitioned_catch_up.hpp - eddy::projector::catch_up_parallel's machinery: one
// dispatcher reading the store into a bounded channel per partition (by stream id), one worker
// per partition on the caller's scheduler, checkpoints at the highest contiguous completion.
#pragma once

#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint64_t
#include <exception>   // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <functional>  // std::hash
#include <memory>      // std::unique_ptr, std::make_unique
#include <mutex>       // std::mutex, std::lock_guard
#include <optional>    // std::optional
#include <string>      // std::string
#include <type_traits> // std::is_void_v
#include <utility>     // std::move
#include <vector>      // std::vector

#include <eddy/core/async_mutex.hpp>
#include <eddy/core/channel.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/es/detail/contiguous_tracker.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/projection_monitor.hpp>

namespace eddy::detail {

template <class Events>
struct partitioned_state {
    partitioned_state(std::size_t partitions, std::size_t capacity, std::uint64_t checkpoint)
        : tracker(checkpoint), saved(checkpoint) {
        for (std::size_t i = 0; i < partitions; ++i) {
            channels.push_back(std::make_unique<channel<event_envelope<Events>>>(capacity));
        }
    }

    std::vector<std::unique_ptr<channel<event_envelope<Events>>>> channels;
    std::mutex mutex;
    contiguous_tracker tracker; // guarded by mutex
    std::exception_ptr error;   // guarded by mutex: the first handler failure
    async_mutex save_mutex;     // serializes checkpoint saves, so they only go forward
    std::uint64_t saved;        // guarded by save_mutex

    void close_all() {
        for (auto& ch : channels) {
            ch->close();
        }
    }
};

template <class Store, class Checkpoints, class P, class Scheduler>
struct partitioned_catch_up {
    using events_type = typename Store::event_type;
    using state_type = partitioned_state<events_type>;

    static task<std::uint64_t> run(Store* store, Checkpoints* checkpoints, P* p,
                                   Scheduler* scheduler, std::size_t partitions,
                                   std::size_t capacity, projection_monitor* monitor, bool live) {
        const std::string name(p->name());
        const std::uint64_t from = co_await checkpoints->load_checkpoint(name);
        if (monitor != nullptr) {
            monitor->started(from);
        }
        state_type state(partitions, capacity, from);
        std::vector<task<>> tasks;
        tasks.push_back(dispatch(store, &state, from + 1, live));
        for (std::size_t i = 0; i < partitions; ++i) {
            tasks.push_back(work(checkpoints, p, scheduler, &state, i, name, monitor));
        }
        // A failing worker rethrows its handler's error: when_all then stops the others (the
        // dispatcher's subscription wait too) and rethrows the first error.
        co_await when_all(std::move(tasks));
        std::uint64_t checkpoint = 0;
        {
            std::lock_guard lock(state.mutex);
            checkpoint = state.tracker.checkpoint();
        }
        co_return checkpoint;
    }

    static task<> dispatch(Store* store, state_type* s, std::uint64_t from, bool live) {
        auto events = live ? store->subscribe_all(from) : store->read_all(from);
        try {
            for (;;) {
                std::optional<event_envelope<events_type>> e = co_await events.next();
                if (!e) {
                    break;
                }
                {
                    std::lock_guard lock(s->mutex);
                    if (s->error) {
                        break;
                    }
                    s->tracker.dispatched(e->global_position);
                }
                const std::size_t partition =
                    std::hash<std::string>{}(e->stream_id) % s->channels.size();
                co_await s->channels[partition]->send(std::move(*e));
            }
        } catch (const channel_closed&) {
            // A worker failed and closed the channels: stop reading.
        }
        s->close_all(); // the workers drain what is buffered, then end
    }

    static task<> work(Checkpoints* checkpoints, P* p, Scheduler* scheduler, state_type* s,
                       std::size_t partition, std::string name, projection_monitor* monitor) {
        channel<event_envelope<events_type>>& ch = *s->channels[partition];
        co_await scheduler->schedule();
        for (;;) {
            std::optional<event_envelope<events_type>> e = ch.try_receive();
            if (!e) {
                e = co_await ch.receive();
                if (!e) {
                    co_return;
                }
                // A waiting receive is resumed inline by the dispatcher's send: hop back to the
                // scheduler so handlers of different partitions run in parallel.
                co_await scheduler->schedule();
            }
            bool failed = false;
            try {
                if constexpr (std::is_void_v<decltype(p->handle(*e))>) {
                    p->handle(*e);
                } else {
                    co_await p->handle(*e);
                }
                std::uint64_t advanced_to = 0;
                {
                    std::lock_guard lock(s->mutex);
                    if (s->tracker.completed(e->global_position)) {
                        advanced_to = s->tracker.checkpoint();
                    }
                }
                std::uint64_t saved = 0; // 0: the checkpoint is held back by another event
                if (advanced_to > 0) {
                    auto guard = co_await s->save_mutex.scoped_lock();
                    if (advanced_to > s->saved) {
                        s->saved = advanced_to;
                        co_await checkpoints->save_checkpoint(name, advanced_to);
                        saved = advanced_to;
                    }
                }
                if (monitor != nullptr) {
                    monitor->progressed(saved);
                }
            } catch (...) {
                std::lock_guard lock(s->mutex);
                if (!s->error) {
                    s->error = std::current_exception();
                }
                failed = true;
            }
            if (failed) {
                s->close_all(); // the dispatcher stops; the failed event is never checkpointed
                std::exception_ptr error;
                {
                    std::lock_guard lock(s->mutex);
                    error = s->error;
                }
                std::rethrow_exception(error);
            }
        }
    }
};

} // namespace eddy::detail
