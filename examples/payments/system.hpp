// examples/payments/system.hpp - the payment system wired end to end in one process, over a
// backend (backend.hpp): compiled once per backend (payment_system_<backend>.cpp). It holds
// an order service (event-sourced orders + outbox + idempotency keys), a saga orchestrator
// (charge -> reserve -> ship, compensations refund and release), payment, inventory and
// shipping services as bus consumers with inboxes, outbox relays, dead letters; run() places
// orders, ends every saga (those an earlier, killed run left too) and reports.
#pragma once

#include <algorithm>     // std::sort, std::find, std::any_of, std::none_of
#include <chrono>        // std::chrono::steady_clock, std::chrono::system_clock
#include <cstddef>       // std::size_t
#include <cstdint>       // std::uint64_t
#include <cstdio>        // std::snprintf
#include <ctime>         // std::time_t, std::tm, gmtime_r
#include <exception>     // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <filesystem>    // std::filesystem::exists
#include <map>           // std::map
#include <memory>        // std::shared_ptr, std::make_shared
#include <mutex>         // std::mutex, std::lock_guard
#include <optional>      // std::optional
#include <set>           // std::set
#include <stdexcept>     // std::invalid_argument, std::runtime_error
#include <stop_token>    // std::stop_source
#include <string>        // std::string, std::to_string
#include <type_traits>   // std::remove_cvref_t
#include <unordered_map> // std::unordered_map
#include <vector>        // std::vector

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/async_event.hpp>
#include <eddy/core/async_scope.hpp>
#include <eddy/core/async_semaphore.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/projector.hpp>
#include <eddy/es/uuid_v7_generator.hpp>
#include <eddy/outbox/append_with_outbox.hpp>
#include <eddy/outbox/memory_idempotency_store.hpp>
#include <eddy/outbox/outbox_relay.hpp>
#include <eddy/outbox/request_in_progress.hpp>
#include <eddy/saga/business_failure.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/saga_coordinator.hpp>
#include <eddy/saga/sequence.hpp>
#include <eddy/saga/step.hpp>
#include <eddy/stream/to_vector.hpp>

#include "backend.hpp"
#include "dead_letters.hpp"
#include "domain.hpp"
#include "payments.hpp"
#include "services.hpp"

namespace payments {

/// The saga's context (snapshotted in the saga log): what the steps send.
struct order_ctx {
    std::string order_id;
    std::string sku;
    int quantity = 0;
    long amount_cents = 0;
    bool poison = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order_ctx, order_id, sku, quantity, amount_cents, poison)

/// Replies from the services, matched to the waiting saga steps by correlation id.
class reply_router {
public:
    struct slot {
        eddy::async_event ready;
        std::optional<reply> value;
    };

    std::shared_ptr<slot> expect(const std::string& correlation) {
        auto s = std::make_shared<slot>();
        std::lock_guard lock(m_mutex);
        m_waiting[correlation] = s;
        return s;
    }

    void forget(const std::string& correlation) {
        std::lock_guard lock(m_mutex);
        m_waiting.erase(correlation);
    }

    eddy::task<void> deliver(const reply& r) {
        std::shared_ptr<slot> s;
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_waiting.find(r.correlation);
            // A step expects its reply before it sends the command, so a reply nobody waits
            // for answers an attempt given up (or a killed run's): a retry sends again and
            // gets its own answer.
            if (it != m_waiting.end()) {
                s = it->second;
                s->value = r;
            }
        }
        if (s) {
            s->ready.set();
        }
        co_return;
    }

private:
    std::mutex m_mutex;
    std::unordered_map<std::string, std::shared_ptr<slot>> m_waiting;
};

/// The in-process bus (one process); payment_system_nats.cpp runs the system on eddy::nats_bus.
using memory_bus = eddy::event_bus<eddy::thread_pool>;
struct make_memory_bus {
    memory_bus operator()(eddy::thread_pool& p) const { return memory_bus(p); }
};

template <class B, class Bus>
struct system {
    using saga_log_type = typename B::template saga_log<order_ctx>;

    /// `make_bus(pool)` makes the bus.
    template <class MakeBus>
    system(eddy::thread_pool& p, const B& b, run_options o, MakeBus make_bus)
        : pool(p), options(std::move(o)), bus(make_bus(p)), order_storage(b.open("orders")),
          instance(b.instance_of(order_storage, options.instance)),
          placement_keys(b.keys(order_storage)), view(b.view_of(order_storage)),
          dlq_storage(b.open("dlq")), payment(b, options.failures),
          inventory(b, options.stock_per_sku), shipping(b),
          saga_log(b.template saga_log_of<order_ctx>(order_storage)), coordinator(p, saga_log),
          in_flight(static_cast<std::ptrdiff_t>(options.concurrency)),
          saga_def(order_saga_definition(this)) {}

    eddy::thread_pool& pool;
    run_options options;
    Bus bus;
    // order service
    typename B::storage_type order_storage;
    // this process among the system's instances (one, unless the bus is distributed)
    typename B::instance_type instance;
    bool distributed = options.bus != "memory";
    std::string reply_topic = distributed ? "replies-" + options.instance : "replies";
    typename B::template event_store<order_events> order_events_store{order_storage};
    typename B::template outbox_store<placed_notice> order_outbox{order_storage};
    typename B::keys_type placement_keys;
    typename B::checkpoint_store checkpoints{order_storage};
    typename B::order_view view;
    eddy::projector<typename B::template event_store<order_events>, typename B::checkpoint_store>
        projector{order_events_store, checkpoints};
    // the dead-letter archive (dlq.db)
    typename B::storage_type dlq_storage;
    typename B::template event_store<dead_letter_events> dlq_events{dlq_storage};
    std::string run_id = eddy::uuid_v7_generator().next().to_string(); // names this run's letters
    dead_letter_archive<typename B::template event_store<dead_letter_events>> archive{dlq_events,
                                                                                      run_id};
    // services
    payment_service<B> payment;
    inventory_service<B> inventory;
    shipping_service<B> shipping;
    reply_router router;
    // orchestration
    saga_log_type saga_log;
    eddy::saga_coordinator<saga_log_type, eddy::thread_pool> coordinator;
    eddy::async_scope sagas;
    eddy::async_semaphore in_flight;
    eddy::saga<order_ctx> saga_def;
    // progress of this run, guarded by results_mutex
    std::mutex results_mutex;
    std::set<std::string> started;    // orders whose saga this run started or resumed
    std::set<std::string> unfinished; // ... and that have not ended yet
    bool placing_done = false;
    eddy::async_event all_done;
    std::size_t finished = 0;
    std::size_t expected = 0;   // sagas this run will end (for the progress bar)
    std::size_t recovered = 0;  // ... of which an earlier run left unfinished
    std::size_t taken_over = 0; // ... of which another instance, dead, left
    std::vector<double> latencies_ms;
    std::map<std::string, std::chrono::steady_clock::time_point> placed_at;
    std::map<std::string, eddy::saga_status> outcomes;
    std::vector<std::string> republished;

    static eddy::saga<order_ctx> order_saga_definition(system* sys);
};

// ----- saga steps: a command to a service, then its reply -----

// A command's record key: the partition it goes to, and so what it is ordered with. Payment and
// shipping decide per order; inventory decides per sku (its stock), so a sku's reservations and
// releases are handled one at a time, and other skus' beside them.
inline std::string key_of(const std::string& topic, const command& c) {
    return topic == "inventory-commands" ? c.sku : c.order_id;
}

// Sends command `c` (its id the step's idempotency key `key`: the service's inbox applies it
// once) and waits for the reply. The bus's message id is the attempt's, `key#attempt`: a
// broker that drops a publish whose message id it saw lately (JetStream, for 2 minutes) would
// otherwise drop every retry, and a saga taken over from a dead instance could not send its
// step again with its own reply topic.
template <class B, class Bus>
eddy::task<void> call(system<B, Bus>* sys, std::string topic, command c, std::string key,
                      std::size_t attempt) {
    auto slot = sys->router.expect(key);
    struct forget_on_exit {
        reply_router* router;
        std::string key;
        ~forget_on_exit() { router->forget(key); }
    } guard{&sys->router, key};
    eddy::headers h;
    h.set(eddy::message_id_header, key + "#" + std::to_string(attempt));
    if (happens(key, 5, sys->options.failures.duplicate)) {
        // A duplicate delivery (an at-least-once producer): the service's inbox absorbs it.
        (void)co_await sys->bus.template publish<command>(topic, key_of(topic, c), c, h);
    }
    std::string record_key = key_of(topic, c);
    (void)co_await sys->bus.template publish<command>(std::move(topic), std::move(record_key),
                                                      std::move(c), std::move(h));
    co_await slot->ready.wait(); // the step's timeout stops this wait
    const reply r = *slot->value;
    if (!r.ok) {
        throw eddy::business_failure(r.error);
    }
}

/// A saga step's action: sends command `kind` to `topic` under the step's idempotency key.
template <class B, class Bus>
struct send_command {
    system<B, Bus>* sys;
    const char* topic;
    const char* kind;
    eddy::task<void> operator()(order_ctx& o, const eddy::step_context& s) const {
        command c{kind,
                  o.order_id,
                  o.sku,
                  o.quantity,
                  o.amount_cents,
                  o.poison && std::string(kind) == "charge",
                  sys->reply_topic,
                  std::string(s.idempotency_key)};
        return call(sys, topic, std::move(c), std::string(s.idempotency_key), s.attempt);
    }
};

template <class B, class Bus>
eddy::saga<order_ctx> system<B, Bus>::order_saga_definition(system* sys) {
    using namespace std::chrono_literals;
    const eddy::retry_policy retry{.initial_interval = 20ms, .max_attempts = 3};
    // Past the pivot there is no going back, and a compensation must end up done: such a
    // command is sent again (same key: its service applies it once) until its service answers.
    // Given up unanswered, the ship might have happened (the saga would park, not refund), and
    // a refund or release might not (the saga would be stuck): a service that is slow for a
    // while (a partition whose member died waits for its ack timeout) must not leave either.
    const eddy::retry_policy until_answered{.initial_interval = 20ms,
                                            .max_interval = std::chrono::seconds(1),
                                            .max_attempts = eddy::retry_policy::unlimited};
    const send_command<B, Bus> charge{sys, "payment-commands", "charge"};
    const send_command<B, Bus> refund{sys, "payment-commands", "refund"};
    const send_command<B, Bus> reserve{sys, "inventory-commands", "reserve"};
    const send_command<B, Bus> release{sys, "inventory-commands", "release"};
    const send_command<B, Bus> ship{sys, "shipping-commands", "ship"};
    return eddy::saga<order_ctx>("order",
                                 eddy::sequence(eddy::step<order_ctx>("charge", charge, refund)
                                                    .retry(retry)
                                                    .compensation_retry(until_answered)
                                                    .timeout(B::step_timeout),
                                                eddy::step<order_ctx>("reserve", reserve, release)
                                                    .retry(retry)
                                                    .compensation_retry(until_answered)
                                                    .timeout(B::step_timeout),
                                                eddy::step<order_ctx>("ship", ship)
                                                    .pivot()
                                                    .retry(until_answered)
                                                    .timeout(B::step_timeout)));
}

// ----- the order service -----

// The order's outbox mapping: a placed order is announced on "orders"; nothing else is.
inline std::optional<eddy::outbox_message<placed_notice>> announce(const order_events& e,
                                                                   const order& o) {
    const auto* placed = std::get_if<order_placed>(&e);
    if (placed == nullptr) {
        return std::nullopt;
    }
    eddy::outbox_message<placed_notice> m;
    m.topic = "orders";
    m.aggregate_type = "order";
    m.event_type = "order_placed";
    m.payload = placed_notice{o.id(), *placed};
    return m;
}

template <class B, class Bus>
eddy::task<std::string> place_new(system<B, Bus>* sys, std::string order_id, order_request r) {
    order o;
    o.set_id(order_id);
    o.place(std::move(r));
    auto unit = sys->order_storage.begin();
    eddy::append_with_outbox(unit, sys->order_events_store, o, sys->order_outbox, announce);
    {
        std::lock_guard lock(sys->results_mutex);
        sys->placed_at[order_id] = std::chrono::steady_clock::now();
        if (!sys->distributed) { // spread over instances, the saga is whichever claims it
            sys->unfinished.insert(order_id);
            ++sys->expected;
        }
    }
    bool placed = true;
    try {
        (void)co_await sys->order_storage.commit(std::move(unit));
    } catch (const eddy::concurrency_conflict&) {
        placed = false; // placed by a run killed before it recorded the key's response
    }
    if (!placed && !sys->distributed) {
        std::lock_guard lock(sys->results_mutex);
        sys->unfinished.erase(order_id);
        --sys->expected;
    }
    co_return order_id;
}

template <class B, class Bus>
struct placing {
    system<B, Bus>* sys;
    std::string order_id;
    order_request request;
    eddy::task<std::string> operator()() const { return place_new(sys, order_id, request); }
};

/// Places an order under an idempotency key: a client retrying with the same key gets the same
/// order id and places nothing twice.
template <class B, class Bus>
eddy::task<std::string> place_order(system<B, Bus>* sys, std::string key, order_request r) {
    const std::string fingerprint = r.customer + "|" + r.sku + "|" + std::to_string(r.quantity) +
                                    "|" + std::to_string(r.amount_cents);
    // A named local: g++ 12 frees a braced temporary holding strings twice inside co_await.
    placing<B, Bus> request{sys, "order-" + key, std::move(r)};
    for (;;) {
        bool orphan = false;
        try {
            co_return co_await eddy::idempotent_call(sys->placement_keys, key, fingerprint,
                                                     std::chrono::hours(24), request);
        } catch (const eddy::request_in_progress&) {
            // This process places orders one after another: a key in progress was left by a
            // killed run. Placing is itself idempotent (the order's stream must not exist), so
            // the key is freed and the request run again.
            orphan = true;
        }
        if (orphan) {
            co_await sys->placement_keys.abandon(key);
        }
    }
}

// ----- the orchestrator -----

template <class B, class Bus>
void order_ended(system<B, Bus>* sys, const std::string& order_id, eddy::saga_status status) {
    std::lock_guard lock(sys->results_mutex);
    sys->outcomes[order_id] = status;
    const auto placed = sys->placed_at.find(order_id);
    if (placed != sys->placed_at.end()) {
        sys->latencies_ms.push_back(std::chrono::duration<double, std::milli>(
                                        std::chrono::steady_clock::now() - placed->second)
                                        .count());
    }
    ++sys->finished;
    const std::size_t total = std::max(sys->expected, sys->finished);
    // Progress when the percentage moves (and at the end), under the lock: one line at a time.
    if (sys->options.progress &&
        (sys->finished * 100 / total != (sys->finished - 1) * 100 / total ||
         sys->finished == total)) {
        sys->options.progress(sys->finished, total);
    }
    sys->unfinished.erase(order_id);
    if (sys->placing_done && sys->unfinished.empty()) {
        sys->all_done.set();
    }
}

// Records the saga's end on the order (confirmed or cancelled); a stuck saga (parked,
// compensation failed) leaves the order placed, for an operator.
template <class B, class Bus>
eddy::task<void> finish_order(system<B, Bus>* sys, std::string order_id, eddy::saga_status status,
                              std::string failed_step) {
    if (status == eddy::saga_status::completed || status == eddy::saga_status::compensated) {
        order o;
        o.set_id(order_id);
        if (status == eddy::saga_status::completed) {
            o.confirm_from_placed();
        } else {
            o.cancel_from_placed(failed_step + " failed");
        }
        std::vector<eddy::proposed_event<order_events>> batch;
        for (const auto& e : o.uncommitted()) {
            batch.emplace_back(e);
        }
        try {
            (void)co_await sys->order_events_store.append(
                order_id, eddy::expected_version::exact(1), std::move(batch));
        } catch (const eddy::concurrency_conflict&) {
            // already recorded (by a run killed after it)
        }
    }
    co_await sys->instance.release(order_id); // ended: nobody is to take it over
    order_ended(sys, order_id, status);
}

template <class B, class Bus>
eddy::task<void> run_order_saga(system<B, Bus>* sys, placed_notice n) {
    order_ctx ctx{n.order_id, n.order.sku, n.order.quantity, n.order.amount_cents,
                  happens(n.order_id, 4, sys->options.failures.poison)};
    auto out = co_await sys->coordinator.run(sys->saga_def, n.order_id, std::move(ctx));
    co_await finish_order(sys, n.order_id, out.status, out.failed_step);
    sys->in_flight.release();
}

template <class B, class Bus>
eddy::task<void> resume_order_saga(system<B, Bus>* sys, std::string order_id) {
    auto out = co_await sys->coordinator.resume(order_id);
    co_await finish_order(sys, order_id, out.status, out.failed_step);
    sys->in_flight.release();
}

// Whether this run still has to start the order's saga: not when it did already, nor when
// an earlier run did (it is then in the log: resumed at start, or ended), nor when another
// instance claimed it (it takes over if that one dies).
template <class B, class Bus>
eddy::task<bool> claim_start(system<B, Bus>* sys, std::string order_id) {
    {
        std::lock_guard lock(sys->results_mutex);
        if (!sys->started.insert(order_id).second) {
            co_return false;
        }
    }
    const bool mine = co_await sys->instance.claim(order_id);
    if (!mine) {
        std::lock_guard lock(sys->results_mutex);
        sys->started.erase(order_id);
        co_return false;
    }
    auto known = co_await sys->coordinator.inspect(order_id);
    if (!known && sys->distributed) {
        std::lock_guard lock(sys->results_mutex);
        sys->unfinished.insert(order_id);
        ++sys->expected;
    }
    co_return !known.has_value();
}

template <class B, class Bus>
struct on_placed {
    system<B, Bus>* sys;
    eddy::task<void> operator()(const eddy::record<placed_notice>& r) const {
        return start(sys, r.value);
    }
    static eddy::task<void> start(system<B, Bus>* sys, placed_notice n) {
        const bool fresh = co_await claim_start(sys, n.order_id);
        if (!fresh) {
            co_return; // a redelivered notice
        }
        co_await sys->in_flight.acquire(); // at most `concurrency` sagas at once
        sys->sagas.spawn(run_order_saga(sys, std::move(n)));
    }
};

template <class B>
struct on_command {
    service<B>* svc;
    eddy::task<void> operator()(const eddy::record<command>& r) const { return svc->handle(r); }
};

template <class B, class Bus>
struct on_dead_letter {
    system<B, Bus>* sys;
    eddy::task<void> operator()(const eddy::record<command>& r) const {
        return sys->archive.archive(r);
    }
};

struct on_reply {
    reply_router* router;
    eddy::task<void> operator()(const eddy::record<reply>& r) const {
        return router->deliver(r.value);
    }
};

inline eddy::task<void> discard_position(eddy::task<std::uint64_t> t) {
    (void)co_await std::move(t);
}

inline eddy::task<void> until_stopped(eddy::task<void> t) {
    try {
        co_await std::move(t);
    } catch (const eddy::operation_cancelled&) {
    }
}

// The orders placed whose end the order service has not recorded, with their notices.
template <class B, class Bus>
eddy::task<std::map<std::string, placed_notice>> open_orders(system<B, Bus>* sys) {
    std::map<std::string, placed_notice> open;
    auto history = sys->order_events_store.read_all();
    for (;;) {
        auto e = co_await history.next();
        if (!e) {
            break;
        }
        if (const auto* p = std::get_if<order_placed>(&e->payload)) {
            open[e->stream_id] = placed_notice{e->stream_id, *p};
        } else {
            open.erase(e->stream_id);
        }
    }
    co_return open;
}

// Ends the saga of an order this run holds but did not start (an earlier run's, or a dead
// instance's): resumed when in the log, started when not, recorded on the order when it ended
// in the log only. A stuck saga (parked, failed) is left to an operator.
template <class B, class Bus>
eddy::task<void> adopt(system<B, Bus>* sys, std::string order_id, placed_notice notice,
                       bool from_dead_instance) {
    auto state = co_await sys->coordinator.inspect(order_id);
    const bool open = !state || state->status == eddy::saga_status::running ||
                      state->status == eddy::saga_status::compensating;
    if (open) {
        std::lock_guard lock(sys->results_mutex);
        sys->unfinished.insert(order_id);
        ++sys->expected;
        ++sys->recovered;
        sys->taken_over += from_dead_instance ? 1 : 0;
    }
    if (!state) {
        co_await sys->in_flight.acquire();
        sys->sagas.spawn(run_order_saga(sys, std::move(notice)));
    } else if (open) {
        co_await sys->in_flight.acquire();
        sys->sagas.spawn(resume_order_saga(sys, order_id));
    } else if (state->status == eddy::saga_status::completed ||
               state->status == eddy::saga_status::compensated) {
        co_await finish_order(sys, order_id, state->status, state->failed_step);
    } else {
        co_await sys->instance.release(order_id);
    }
}

// What an earlier run left: orders placed whose saga it did not end. Their sagas are resumed
// (in the log) or started (the notice was lost with the killed process's in-memory bus); an
// ended saga whose end the order does not show yet is recorded on it. Spread over instances:
// only the orders no live instance holds (unclaimed ones, and this instance's own before a
// restart).
template <class B, class Bus>
eddy::task<void> recover(system<B, Bus>* sys) {
    auto open = co_await open_orders(sys);
    for (auto& [order_id, notice] : open) {
        bool mine = false;
        {
            std::lock_guard lock(sys->results_mutex);
            mine = sys->started.insert(order_id).second;
        }
        if (!mine) {
            continue; // its notice (relayed again) started it meanwhile
        }
        const bool claimed = co_await sys->instance.claim(order_id);
        if (!claimed) {
            std::lock_guard lock(sys->results_mutex);
            sys->started.erase(order_id);
            continue; // another instance's
        }
        co_await adopt(sys, order_id, notice, false);
    }
}

// Whether every order placed in the store (by any instance) has ended its saga.
template <class B, class Bus>
eddy::task<bool> all_orders_ended(system<B, Bus>* sys) {
    auto open = co_await open_orders(sys);
    for (const auto& [order_id, notice] : open) {
        auto state = co_await sys->coordinator.inspect(order_id);
        if (!state || state->status == eddy::saga_status::running ||
            state->status == eddy::saga_status::compensating) {
            co_return false;
        }
    }
    co_return true;
}

// ----- spread over instances (a distributed bus, a shared store) -----

// The instance's lease, renewed every second (others take it for dead 5 s after the last).
template <class B, class Bus>
eddy::task<void> keep_alive(system<B, Bus>* sys) {
    for (;;) {
        co_await eddy::sleep_for(sys->pool, std::chrono::seconds(1));
        co_await sys->instance.renew();
    }
}

// Takes over the sagas of instances that died, and ends them.
template <class B, class Bus>
eddy::task<void> take_over_dead(system<B, Bus>* sys) {
    for (;;) {
        co_await eddy::sleep_for(sys->pool, std::chrono::seconds(1));
        auto ids = co_await sys->instance.take_over();
        for (auto& order_id : ids) {
            {
                std::lock_guard lock(sys->results_mutex);
                if (!sys->started.insert(order_id).second) {
                    continue;
                }
            }
            std::optional<placed_notice> notice;
            auto history = sys->order_events_store.read_stream(order_id);
            auto first = co_await history.next();
            if (first) {
                if (const auto* p = std::get_if<order_placed>(&first->payload)) {
                    notice = placed_notice{order_id, *p};
                }
            }
            if (!notice) {
                throw std::runtime_error("saga " + order_id + " has no placed order");
            }
            co_await adopt(sys, order_id, std::move(*notice), true);
        }
    }
}

// The read model's projector, run by one instance at a time (the holder of the role's lease):
// two would race on its rows and checkpoint.
template <class B, class Bus>
eddy::task<void> project_when_leading(system<B, Bus>* sys) {
    for (;;) {
        const bool leading = co_await sys->instance.lead("order-projector");
        if (leading) {
            co_await sys->instance.project(&sys->projector, &sys->view, "order-projector");
        }
        co_await eddy::sleep_for(sys->pool, std::chrono::milliseconds(200));
    }
}

// Publishes the chosen dead letters to their topics again (with their message ids: a command
// its service applied meanwhile is answered from its inbox), then waits until each was
// applied or dead-lettered again, and says which.
template <class B, class Bus>
eddy::task<void> republish(system<B, Bus>* sys, std::vector<std::string>* outcomes) {
    const auto& o = sys->options;
    std::vector<dead_letter_view> chosen;
    for (auto& d : co_await sys->archive.list()) {
        const bool named =
            std::find(o.republish.begin(), o.republish.end(), d.number) != o.republish.end();
        if (named || (o.republish_pending && d.republished == 0)) {
            chosen.push_back(std::move(d));
        }
    }
    for (std::size_t n : o.republish) {
        if (std::none_of(chosen.begin(), chosen.end(),
                         [&](const dead_letter_view& d) { return d.number == n; })) {
            outcomes->push_back("#" + std::to_string(n) + ": no such dead letter");
        }
    }
    for (const auto& d : chosen) {
        eddy::headers h;
        h.set(eddy::message_id_header, d.letter.message_id);
        std::string topic = d.letter.topic;
        std::string key = d.letter.key;
        command c = d.letter.cmd;
        (void)co_await sys->bus.template publish<command>(std::move(topic), std::move(key),
                                                          std::move(c), std::move(h));
        co_await sys->archive.mark_republished(d.stream);
    }
    const std::map<std::string, service<B>*> services{
        {"payment", &sys->payment}, {"inventory", &sys->inventory}, {"shipping", &sys->shipping}};
    for (const auto& d : chosen) {
        std::string outcome = "no outcome within 10 s";
        for (int poll = 0; poll < 200; ++poll) {
            const auto svc = services.find(d.letter.group);
            bool applied = false;
            if (svc != services.end()) {
                applied =
                    co_await svc->second->inbox.is_processed(d.letter.group, d.letter.message_id);
            }
            if (applied) {
                outcome = "applied";
                break;
            }
            const auto letters = co_await sys->archive.list();
            const bool again = std::any_of(letters.begin(), letters.end(), [&](const auto& l) {
                return l.number > d.number && l.letter.message_id == d.letter.message_id &&
                       l.stream.rfind(sys->run_id, 0) == 0;
            });
            if (again) {
                outcome = "dead-lettered again";
                break;
            }
            co_await eddy::sleep_for(sys->pool, std::chrono::milliseconds(50));
        }
        outcomes->push_back("#" + std::to_string(d.number) + " " + d.letter.topic + " " +
                            d.letter.message_id + ": " + outcome);
    }
}

template <class B, class Bus>
eddy::task<void> place_all(system<B, Bus>* sys) {
    const std::size_t first = sys->options.first_order - 1;
    for (std::size_t i = first; i < first + sys->options.orders; ++i) {
        const std::string key = std::to_string(i + 1);
        const bool rare = happens(key, 3, sys->options.failures.out_of_stock);
        order_request r{"customer-" + std::to_string(i % 97),
                        rare ? "rare" : "sku-" + std::to_string(i % 13),
                        1 + static_cast<int>(i % 3), 500 + static_cast<long>(i % 50) * 100};
        (void)co_await place_order(sys, key, r);
        if (happens(key, 6, sys->options.failures.duplicate)) {
            (void)co_await place_order(sys, key, r); // a client retry: same key, same order
        }
    }
}

template <class B, class Bus>
eddy::task<void> drive(system<B, Bus>* sys) {
    co_await sys->pool.schedule();
    co_await sys->payment.rebuild();
    co_await sys->inventory.rebuild();
    co_await sys->shipping.rebuild();
    sys->coordinator.add(sys->saga_def); // for the sagas an earlier run left to resume
    co_await sys->view.create();
    co_await sys->instance.join();
    auto& bus = sys->bus;
    bus.template create_topic<placed_notice>("orders", {.partitions = 4});
    // Commands are keyed by order, the inventory's by sku (see key_of).
    bus.template create_topic<command>("payment-commands", {.partitions = 4});
    bus.template create_topic<command>("inventory-commands", {.partitions = 4});
    bus.template create_topic<command>("shipping-commands", {.partitions = 4});
    bus.template create_topic<reply>(sys->reply_topic, {.partitions = 4});
    const eddy::retry_policy service_retry{
        .initial_interval = std::chrono::milliseconds(5),
        .max_attempts = 4,
        .non_retryable = eddy::retry_policy::error_types<std::invalid_argument>()};
    const eddy::consumer_options service_options{.retry = service_retry, .max_in_flight = 4};
    std::vector<eddy::subscription> subs;
    std::exception_ptr setup_failure; // a subscription refused: stop those made before it
    try {
        subs.push_back(bus.template subscribe<placed_notice>(
            "orders", "order-saga", on_placed<B, Bus>{sys}, {.max_in_flight = 4}));
        subs.push_back(bus.template subscribe<command>(
            "payment-commands", "payment", on_command<B>{&sys->payment}, service_options));
        subs.push_back(bus.template subscribe<command>(
            "inventory-commands", "inventory", on_command<B>{&sys->inventory}, service_options));
        subs.push_back(bus.template subscribe<command>(
            "shipping-commands", "shipping", on_command<B>{&sys->shipping}, service_options));
        subs.push_back(bus.template subscribe<reply>(sys->reply_topic, "orchestrator",
                                                     on_reply{&sys->router}, {.max_in_flight = 4}));
        for (const char* topic : {"payment-commands", "inventory-commands", "shipping-commands"}) {
            subs.push_back(bus.template subscribe<command>(
                eddy::dead_letter_topic(topic), "dlq-archive", on_dead_letter<B, Bus>{sys}));
        }
    } catch (...) {
        setup_failure = std::current_exception();
    }
    if (setup_failure) {
        for (auto& sub : subs) {
            co_await sub.stop();
        }
        std::rethrow_exception(setup_failure);
    }
    using std::chrono::milliseconds;
    // Spread over instances, each relays with an id of its own, and a dead instance's leases
    // end after 5 s rather than 30.
    const std::string relay_suffix = sys->distributed ? "-" + sys->options.instance : "";
    const auto relay_options = [&](const char* name) {
        eddy::outbox_relay_options o{.relay_id = name + relay_suffix,
                                     .poll_interval = milliseconds(50)};
        if (sys->distributed) {
            o.lease = std::chrono::seconds(5);
        }
        return o;
    };
    eddy::outbox_relay order_relay(sys->order_outbox, bus, sys->pool, relay_options("orders"));
    eddy::outbox_relay payment_relay(sys->payment.outbox, bus, sys->pool, relay_options("payment"));
    eddy::outbox_relay inventory_relay(sys->inventory.outbox, bus, sys->pool,
                                       relay_options("inventory"));
    eddy::outbox_relay shipping_relay(sys->shipping.outbox, bus, sys->pool,
                                      relay_options("shipping"));
    std::stop_source stop;
    eddy::async_scope relays;
    // Taking over spawns sagas: it ends before the sagas are joined.
    std::stop_source stop_take_overs;
    eddy::async_scope take_overs;
    relays.spawn(until_stopped(eddy::with_stop_token(order_relay.run(), stop.get_token())));
    relays.spawn(until_stopped(eddy::with_stop_token(payment_relay.run(), stop.get_token())));
    relays.spawn(until_stopped(eddy::with_stop_token(inventory_relay.run(), stop.get_token())));
    relays.spawn(until_stopped(eddy::with_stop_token(shipping_relay.run(), stop.get_token())));
    if (sys->distributed) {
        relays.spawn(until_stopped(eddy::with_stop_token(keep_alive(sys), stop.get_token())));
        take_overs.spawn(
            until_stopped(eddy::with_stop_token(take_over_dead(sys), stop_take_overs.get_token())));
        relays.spawn(
            until_stopped(eddy::with_stop_token(project_when_leading(sys), stop.get_token())));
    } else {
        // The query side, live: the read model follows the order events as they commit.
        relays.spawn(until_stopped(eddy::with_stop_token(
            discard_position(sys->projector.run(sys->view)), stop.get_token())));
    }

    std::exception_ptr failure;
    try {
        co_await recover(sys);
        co_await republish(sys, &sys->republished);
        co_await place_all(sys);
        bool done = false;
        {
            std::lock_guard lock(sys->results_mutex);
            sys->placing_done = true;
            done = sys->unfinished.empty();
        }
        if (done) {
            sys->all_done.set();
        }
        if (!sys->distributed) {
            co_await sys->all_done.wait(); // every saga this run started has ended
        }
        // Spread over instances: on until every saga this run claimed has ended, and every
        // order placed anywhere, so that the sagas of an instance that dies are taken over by
        // one still running.
        while (sys->distributed) {
            const bool ended = co_await all_orders_ended(sys);
            bool mine_ended = false;
            {
                std::lock_guard lock(sys->results_mutex);
                mine_ended = sys->unfinished.empty();
            }
            if (ended && mine_ended) {
                break;
            }
            co_await eddy::sleep_for(sys->pool, std::chrono::milliseconds(250));
        }
    } catch (...) {
        failure = std::current_exception(); // the sagas started end by their timeouts
    }
    stop_take_overs.request_stop();
    try {
        co_await take_overs.join();
    } catch (...) {
        if (!failure) {
            failure = std::current_exception();
        }
    }
    try {
        co_await sys->sagas.join(); // rethrows the first failure of a saga's task
    } catch (...) {
        if (!failure) {
            failure = std::current_exception();
        }
    }
    for (auto& sub : subs) {
        co_await sub.stop();
    }
    stop.request_stop();
    co_await relays.join();
    if (failure) {
        std::rethrow_exception(failure);
    }
    // What the projector had not reached; spread over instances, once the one projecting has
    // done so and left.
    for (;;) {
        const bool leading = co_await sys->instance.lead("order-projector");
        if (leading) {
            break;
        }
        co_await eddy::sleep_for(sys->pool, std::chrono::milliseconds(100));
    }
    (void)co_await sys->projector.catch_up(sys->view);
    co_await sys->instance.leave();
    // The services' states for the report, with what other instances committed.
    co_await sys->payment.rebuild();
    co_await sys->inventory.rebuild();
    co_await sys->shipping.rebuild();
}

/// Runs the system on `backend` and the bus `make_bus(pool)` makes.
template <class B, class MakeBus>
report run_on(const B& backend, eddy::thread_pool& pool, run_options options, MakeBus make_bus) {
    using Bus = std::remove_cvref_t<decltype(make_bus(pool))>;
    system<B, Bus> sys(pool, backend, std::move(options), make_bus);
    const auto started = std::chrono::steady_clock::now();
    eddy::sync_wait(drive(&sys));
    report rep;
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // Outcomes over every order in the store, from the read model (the projection of the
    // order events); the ledger is checked against its confirmed orders' amounts.
    const auto rows = eddy::sync_wait(sys.view.rows());
    rep.orders = rows.size();
    for (const auto& row : rows) {
        rep.completed += row.status == "confirmed" ? 1 : 0;
        rep.compensated += row.status == "cancelled" ? 1 : 0;
        rep.stuck += row.status == "placed" ? 1 : 0;
        rep.read_model_paid_cents += row.status == "confirmed" ? row.amount_cents : 0;
    }
    rep.resumed = sys.recovered;
    rep.taken_over = sys.taken_over;
    rep.sagas_ended = sys.finished;
    const auto [net, most] = sys.payment.ledger();
    rep.charged_net_cents = net;
    rep.most_charges_per_order = most;
    rep.reserved_orders = sys.inventory.reserved_orders();
    const auto [shipped, most_shipped] = sys.shipping.shipped();
    rep.shipped_orders = shipped;
    rep.most_shipments_per_order = most_shipped;
    rep.duplicates_absorbed = sys.payment.resent() + sys.inventory.resent() + sys.shipping.resent();
    for (const auto& d : sys.bus.dead_letters()) {
        rep.dead_letter_lines.push_back(d.topic + " key=" + d.key + ": " + d.error_message);
    }
    rep.dead_letters = rep.dead_letter_lines.size();
    rep.republished = sys.republished;
    std::sort(sys.latencies_ms.begin(), sys.latencies_ms.end());
    if (!sys.latencies_ms.empty()) {
        rep.p50_ms = sys.latencies_ms[sys.latencies_ms.size() / 2];
        rep.p99_ms = sys.latencies_ms[sys.latencies_ms.size() * 99 / 100];
    }
    return rep;
}

} // namespace payments
