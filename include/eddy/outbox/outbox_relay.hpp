// eddy/outbox/outbox_relay.hpp - eddy::outbox_relay, publishes an outbox's messages to a bus in
// order per aggregate, marks them published, and cleans up.
#pragma once

#include <atomic>    // std::atomic
#include <chrono>    // std::chrono::steady_clock, std::chrono::system_clock
#include <cstddef>   // std::size_t
#include <cstdint>   // std::uint64_t
#include <exception> // std::exception, std::exception_ptr
#include <memory>    // std::make_shared, std::shared_ptr
#include <set>       // std::set
#include <string>    // std::string
#include <utility>   // std::move
#include <vector>    // std::vector

#include <eddy/core/async_event.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/retry_policy.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/when_any.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/outbox/outbox_message.hpp>
#include <eddy/outbox/outbox_store.hpp>

namespace eddy {

/// How an `eddy::outbox_relay` works. `relay_id` names it in leases (several relays on one
/// store each need their own); `batch`: messages claimed per round; `lease`: how long a claim
/// holds (another relay takes over after it, e.g. when this one died); `poll_interval`: the
/// longest wait between rounds when no enqueue wakes it; `retry`: how a failing publish is
/// retried; `retention`: published messages older than this are purged after each round
/// (zero: kept).
struct outbox_relay_options {
    using duration = std::chrono::steady_clock::duration;
    std::string relay_id = "relay";
    std::size_t batch = 100;
    duration lease = std::chrono::seconds(30);
    duration poll_interval = std::chrono::seconds(1);
    retry_policy retry{};
    duration retention = duration::zero();

    void validate() const {
        if (relay_id.empty()) {
            throw error("eddy::outbox_relay_options: relay_id must not be empty");
        }
        if (batch == 0) {
            throw error("eddy::outbox_relay_options: batch must be at least 1");
        }
        if (lease <= duration::zero() || poll_interval <= duration::zero()) {
            throw error("eddy::outbox_relay_options: lease and poll_interval must be positive");
        }
        if (retention < duration::zero()) {
            throw error("eddy::outbox_relay_options: retention must not be negative");
        }
        retry.validate();
    }
};

/// Publishes the messages of an `eddy::outbox_store` to a bus (`bus.publish(topic, key, value,
/// headers)`: the in-process `event_bus`, later NATS), with the aggregate id as key and the
/// message id in the `message-id` header, then marks them published. Delivery is at-least-once
/// (a relay that dies between publish and mark publishes again after its lease): consumers
/// deduplicate by message id (`eddy::idempotent`).
///
/// Order: one aggregate's messages are published in enqueue order, never reordered by a
/// failure: a failing publish is retried by `retry` (the relay waits meanwhile: this
/// head-of-line wait also holds other aggregates' messages of the round); when it is given
/// up, it and the rest of its aggregate's messages in the round are released (attempts + 1,
/// error kept) and the round goes on with other aggregates; the next round starts over from
/// the oldest pending message.
/// `run_once()`: one round (claim, publish, mark, purge); returns how many were published.
/// `run()`: rounds until stopped: after a round that found nothing, it waits for an enqueue
/// notification (stores that offer `on_enqueue`) or `poll_interval`, whichever comes first.
/// Before its first round, `run()` ends the leases its `relay_id` still holds (stores that
/// offer `release_leases(relay)`): they are a crashed earlier run's (ids are unique among
/// live relays), whose messages would otherwise wait for the lease to end, holding their
/// aggregates' later messages back.
/// Ends with `eddy::operation_cancelled` when its stop token is stopped.
/// Observable: `published()` (messages published by this relay), the store's `stats()` for
/// pending count and oldest pending age.
///
/// Lazy: tasks. Where the awaiter resumes: on `scheduler` (rounds run there).
/// Errors: bad options (`eddy::error`, eagerly); store errors propagate out of `run_once` /
/// `run` (a transient store failure ends `run`: supervise it).
/// Lifetime: store, bus and scheduler outlive the relay; the relay outlives its tasks.
/// Thread-safety: one `run` or `run_once` at a time per relay; several relays (distinct ids)
/// may share a store.
///
///     eddy::outbox_relay relay(outbox, bus, pool, {.relay_id = "relay-1"});
///     scope.spawn(relay.run());
template <class Store, class Bus, class Scheduler>
class outbox_relay {
    static_assert(detail::check_outbox_store<Store>());
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::outbox_relay: the scheduler does not model eddy::scheduler");

public:
    using payload_type = typename Store::payload_type;
    using message_type = outbox_message<payload_type>;

    outbox_relay(Store& store, Bus& bus, Scheduler& scheduler, outbox_relay_options options = {})
        : m_store(&store), m_bus(&bus), m_scheduler(&scheduler), m_options(std::move(options)),
          m_wake(std::make_shared<async_event>()) {
        m_options.validate();
        if constexpr (requires { store.on_enqueue([] {}); }) {
            using listener = decltype(store.on_enqueue([] {}));
            m_listener =
                std::make_shared<listener>(store.on_enqueue([wake = m_wake] { wake->set(); }));
        }
    }

    outbox_relay(const outbox_relay&) = delete;
    outbox_relay& operator=(const outbox_relay&) = delete;

    [[nodiscard]] task<std::size_t> run_once() { return round(this); }

    [[nodiscard]] task<void> run() { return loop(this); }

    /// Messages this relay published (and marked) so far.
    [[nodiscard]] std::uint64_t published() const noexcept {
        return m_published.load(std::memory_order_relaxed);
    }

private:
    static task<std::size_t> round(outbox_relay* self) {
        co_await self->m_scheduler->schedule();
        self->m_wake->reset(); // an enqueue from now on wakes the next wait
        const auto& o = self->m_options;
        auto claimed = co_await self->m_store->claim(o.relay_id, o.batch, o.lease);
        std::set<std::string> failed_aggregates;
        std::vector<uuid> done;
        for (auto& m : claimed) {
            if (failed_aggregates.contains(m.aggregate_id)) {
                co_await self->m_store->release(o.relay_id, m.id,
                                                "an earlier message of its aggregate failed");
                continue;
            }
            auto error = co_await publish_with_retries(self, m);
            if (error.empty()) {
                done.push_back(m.id);
                continue;
            }
            failed_aggregates.insert(m.aggregate_id);
            co_await self->m_store->release(o.relay_id, m.id, std::move(error));
        }
        const std::size_t published = done.size();
        if (published > 0) {
            co_await self->m_store->mark_published(o.relay_id, std::move(done));
            self->m_published.fetch_add(published, std::memory_order_relaxed);
        }
        if (o.retention > std::chrono::steady_clock::duration::zero()) {
            (void)co_await self->m_store->purge_published(o.retention);
        }
        co_return published;
    }

    // Empty when published; else the last error's message.
    static task<std::string> publish_with_retries(outbox_relay* self, const message_type& m) {
        retry_state retries;
        const auto first = self->m_scheduler->now();
        for (;;) {
            std::exception_ptr failure;
            std::string what;
            try {
                headers h = m.headers;
                h.set(message_id_header, m.id.to_string());
                std::string topic = m.topic;
                std::string key = m.aggregate_id;
                payload_type value = m.payload;
                (void)co_await self->m_bus->template publish<payload_type>(
                    std::move(topic), std::move(key), std::move(value), std::move(h));
                co_return std::string();
            } catch (const operation_cancelled&) {
                throw;
            } catch (const std::exception& e) {
                failure = std::current_exception();
                what = e.what();
            }
            const auto wait = retries.on_failure(self->m_options.retry,
                                                 self->m_scheduler->now() - first, failure);
            if (!wait) {
                co_return what;
            }
            co_await sleep_for(*self->m_scheduler, *wait);
        }
    }

    static task<void> wait_for_enqueue(std::shared_ptr<async_event> wake) { co_await wake->wait(); }

    static task<void> loop(outbox_relay* self) {
        if constexpr (requires { self->m_store->release_leases(std::string()); }) {
            co_await self->m_scheduler->schedule();
            (void)co_await self->m_store->release_leases(self->m_options.relay_id);
        }
        for (;;) {
            const std::size_t n = co_await round(self);
            if (n == 0) {
                // Whichever comes first; the loser is stopped.
                (void)co_await when_any(
                    wait_for_enqueue(self->m_wake),
                    sleep_for(*self->m_scheduler, self->m_options.poll_interval));
            }
        }
    }

    Store* m_store;
    Bus* m_bus;
    Scheduler* m_scheduler;
    outbox_relay_options m_options;
    std::shared_ptr<async_event> m_wake;
    std::shared_ptr<void> m_listener; // the store's on_enqueue registration, if it has one
    std::atomic<std::uint64_t> m_published{0};
};

} // namespace eddy
