// eddy/saga/reply_timeout.hpp - eddy::reply_timeout, the choreography's answer to "how does A
// learn that B never answered": publishes a timeout event when no reply arrives in time.
#pragma once

#include <atomic>        // std::atomic
#include <chrono>        // std::chrono::steady_clock
#include <cstddef>       // std::size_t
#include <cstdint>       // std::uint64_t
#include <exception>     // std::exception_ptr, std::rethrow_exception
#include <functional>    // std::function
#include <memory>        // std::unique_ptr, std::make_unique
#include <mutex>         // std::mutex, std::lock_guard
#include <string>        // std::string
#include <unordered_map> // std::unordered_map
#include <unordered_set> // std::unordered_set
#include <utility>       // std::move

#include <eddy/bus/consumer_options.hpp>
#include <eddy/bus/record.hpp>
#include <eddy/bus/subscription.hpp>
#include <eddy/core/async_scope.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/task.hpp>
#include <eddy/saga/correlation.hpp>

namespace eddy {

/// Watches a flow for missing replies: when a record of `trigger_topic` for which
/// `expects_reply(record)` holds arrives, a deadline starts at its timestamp; a record of
/// `reply_topic` with the same correlation id (`eddy::correlation_id`) for which
/// `is_reply(record)` holds ends the wait; if the deadline passes first, `make_timeout(trigger)`
/// is published to `timeout_topic` with the correlation id as key and the trigger as cause.
///
/// Eager: both groups (`group + ".triggers"` and `group + ".replies"`) are joined in the
/// constructor. Timers run on the bus scheduler (virtual in tests). A reply processed before
/// its trigger (the two topics are consumed independently) is remembered, so it still counts.
/// Not durable: pending deadlines live in this object; after a restart the trigger group
/// resumes at its committed offset, and triggers already consumed are not watched again
/// (a durable deadline belongs in a saga log; use an orchestrated saga's step timeout for
/// that).
/// Errors: the bus's `eddy::error`s (unknown topics, wrong types); a non-positive `within` or
/// empty callable is an `eddy::error` in the constructor. A failed timeout publish is retried
/// by nothing: it is counted in `failures()`.
/// Lifetime: the bus outlives this object; `co_await stop()` before destroying it.
/// Thread-safety: members may be called from any thread.
///
///     eddy::reply_timeout<order_event, payment_event, order_event, bus_t> watch(bus,
///         {.trigger_topic = "orders", .reply_topic = "payments", .timeout_topic = "orders",
///          .group = "order-timeouts", .within = 30s},
///         is_placed, any_reply, [](const auto& r) { return order_event{payment_timed_out{}}; });
template <class Trigger, class Reply, class Timeout, class Bus>
class reply_timeout {
public:
    using duration = std::chrono::steady_clock::duration;

    struct options {
        std::string trigger_topic;
        std::string reply_topic;
        std::string timeout_topic;
        std::string group;
        duration within{};
    };

    reply_timeout(Bus& bus, options o, std::function<bool(const record<Trigger>&)> expects_reply,
                  std::function<bool(const record<Reply>&)> is_reply,
                  std::function<Timeout(const record<Trigger>&)> make_timeout)
        : m_state(std::make_unique<state>()) {
        if (o.within <= duration::zero()) {
            throw error("eddy::reply_timeout: `within` must be positive");
        }
        if (!expects_reply || !is_reply || !make_timeout) {
            throw error("eddy::reply_timeout: every callable must be set");
        }
        if constexpr (requires { bus.has_topic(o.reply_topic); }) {
            // Checked before joining anything: a half-built watcher would leave a member.
            for (const auto* topic : {&o.trigger_topic, &o.reply_topic, &o.timeout_topic}) {
                if (!bus.has_topic(*topic)) {
                    throw error("eddy::reply_timeout: no topic '" + *topic + "' on the bus");
                }
            }
        }
        state& s = *m_state;
        s.bus = &bus;
        s.opts = std::move(o);
        s.expects_reply = std::move(expects_reply);
        s.is_reply = std::move(is_reply);
        s.make_timeout = std::move(make_timeout);
        s.triggers = bus.template subscribe<Trigger>(s.opts.trigger_topic,
                                                     s.opts.group + ".triggers", on_trigger{&s});
        s.replies = bus.template subscribe<Reply>(s.opts.reply_topic, s.opts.group + ".replies",
                                                  on_reply{&s});
    }

    reply_timeout(const reply_timeout&) = delete;
    reply_timeout& operator=(const reply_timeout&) = delete;

    /// Stops watching: leaves both groups and cancels the pending deadlines (nothing more is
    /// published). Errors of the subscriptions are rethrown.
    [[nodiscard]] task<void> stop() { return stop_impl(m_state.get()); }

    /// Flows waiting for their reply.
    [[nodiscard]] std::size_t pending() const {
        std::lock_guard lock(m_state->mutex);
        return m_state->waiting.size();
    }

    /// Timeout events that could not be published.
    [[nodiscard]] std::size_t failures() const {
        return m_state->failed.load(std::memory_order_relaxed);
    }

private:
    struct state {
        Bus* bus = nullptr;
        options opts;
        std::function<bool(const record<Trigger>&)> expects_reply;
        std::function<bool(const record<Reply>&)> is_reply;
        std::function<Timeout(const record<Trigger>&)> make_timeout;
        std::mutex mutex;
        std::unordered_map<std::string, std::uint64_t> waiting; // correlation -> generation
        std::unordered_set<std::string> early_replies;
        std::uint64_t generation = 0;
        std::atomic<std::size_t> failed{0};
        // Cancelled deadlines end with operation_cancelled: not a failure.
        async_scope scope{[this](const std::exception_ptr& e) {
            try {
                std::rethrow_exception(e);
            } catch (const operation_cancelled&) {
                return;
            } catch (...) {
                failed.fetch_add(1, std::memory_order_relaxed);
            }
        }};
        subscription triggers;
        subscription replies;
    };

    struct on_trigger {
        state* s;
        task<void> operator()(const record<Trigger>& r) const {
            if (!s->expects_reply(r)) {
                return done();
            }
            std::string id(correlation_id(r));
            std::uint64_t gen = 0;
            {
                std::lock_guard lock(s->mutex);
                if (s->early_replies.erase(id) > 0) {
                    return done();
                }
                gen = ++s->generation;
                s->waiting[id] = gen;
            }
            const auto now = s->bus->scheduler().now();
            const auto deadline = r.timestamp + s->opts.within;
            armed a{std::move(id), gen, deadline > now ? deadline - now : duration::zero(),
                    s->make_timeout(r), caused_headers(r)};
            s->scope.spawn(expire(s, std::move(a)));
            return done();
        }
    };

    struct on_reply {
        state* s;
        task<void> operator()(const record<Reply>& r) const {
            if (!s->is_reply(r)) {
                return done();
            }
            std::string id(correlation_id(r));
            std::lock_guard lock(s->mutex);
            if (s->waiting.erase(id) == 0) {
                s->early_replies.insert(std::move(id));
            }
            return done();
        }
    };

    static task<void> done() { co_return; }

    // What an armed deadline publishes, if it expires.
    struct armed {
        std::string id;
        std::uint64_t generation = 0;
        duration wait{};
        Timeout event;
        headers cause;
    };

    static task<void> expire(state* s, armed a) {
        co_await sleep_for(s->bus->scheduler(), a.wait);
        {
            std::lock_guard lock(s->mutex);
            const auto it = s->waiting.find(a.id);
            if (it == s->waiting.end() || it->second != a.generation) {
                co_return; // replied in time, or a newer trigger of the flow took over
            }
            s->waiting.erase(it);
        }
        co_await s->bus->template publish<Timeout>(s->opts.timeout_topic, a.id, std::move(a.event),
                                                   std::move(a.cause));
    }

    static task<void> stop_impl(state* s) {
        co_await s->triggers.stop();
        co_await s->replies.stop();
        s->scope.request_stop();
        co_await s->scope.join();
    }

    std::unique_ptr<state> m_state;
};

} // namespace eddy
