// examples/payments/payment_system.cpp - the payment system wired end to end in one process:
// an order service (event-sourced orders + outbox), a saga orchestrator (charge -> reserve ->
// ship, compensations refund and release), payment, inventory and shipping services as bus
// consumers with inboxes, outbox relays, dead letters; run() places orders and reports.

#include <algorithm>     // std::sort
#include <chrono>        // std::chrono::steady_clock
#include <cstddef>       // std::size_t
#include <functional>    // std::function
#include <map>           // std::map
#include <memory>        // std::shared_ptr, std::make_shared
#include <mutex>         // std::mutex, std::lock_guard
#include <optional>      // std::optional
#include <stdexcept>     // std::invalid_argument
#include <stop_token>    // std::stop_source
#include <string>        // std::string, std::to_string
#include <unordered_map> // std::unordered_map
#include <vector>        // std::vector

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/async_event.hpp>
#include <eddy/core/async_latch.hpp>
#include <eddy/core/async_scope.hpp>
#include <eddy/core/async_semaphore.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/outbox/append_with_outbox.hpp>
#include <eddy/outbox/memory_idempotency_store.hpp>
#include <eddy/outbox/memory_outbox_store.hpp>
#include <eddy/outbox/outbox_relay.hpp>
#include <eddy/saga/business_failure.hpp>
#include <eddy/saga/memory_saga_log.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/saga_coordinator.hpp>
#include <eddy/saga/sequence.hpp>
#include <eddy/saga/step.hpp>
#include <eddy/stream/to_vector.hpp>

#include "domain.hpp"
#include "payments.hpp"
#include "services.hpp"

namespace payments {

/// The saga's context: what the steps send, and where.
struct order_ctx {
    struct system* sys = nullptr;
    std::string order_id;
    std::string sku;
    int quantity = 0;
    long amount_cents = 0;
    bool poison = false;
};

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
            // for answers an attempt given up: a retry sends again and gets its own answer.
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

using bus_type = eddy::event_bus<eddy::thread_pool>;

struct system {
    explicit system(eddy::thread_pool& p, run_options o)
        : pool(p), options(std::move(o)), bus(p), payment(options.failures),
          inventory(options.stock_per_sku), coordinator(p, saga_log),
          in_flight(static_cast<std::ptrdiff_t>(options.concurrency)) {}

    eddy::thread_pool& pool;
    run_options options;
    bus_type bus;
    // order service
    eddy::memory_storage order_storage;
    eddy::memory_event_store<order_events> order_events_store{order_storage};
    eddy::memory_outbox_store<placed_notice> order_outbox{order_storage};
    eddy::memory_idempotency_store<std::string> placement_keys;
    // services
    payment_service payment;
    inventory_service inventory;
    shipping_service shipping;
    reply_router router;
    // orchestration
    eddy::memory_saga_log<order_ctx> saga_log;
    eddy::saga_coordinator<eddy::memory_saga_log<order_ctx>, eddy::thread_pool> coordinator;
    eddy::async_scope sagas;
    eddy::async_semaphore in_flight;
    std::mutex results_mutex;
    std::map<std::string, eddy::saga_status> outcomes;
    std::vector<double> latencies_ms;
    std::map<std::string, std::chrono::steady_clock::time_point> placed_at;
    eddy::saga<order_ctx> saga_def = order_saga_definition();
    eddy::async_latch all_done{static_cast<std::ptrdiff_t>(options.orders)};
    std::size_t finished = 0; // guarded by results_mutex

    static eddy::saga<order_ctx> order_saga_definition();
};

// ----- saga steps: a command to a service, then its reply -----

inline eddy::task<void> call(system* sys, std::string topic, command c, std::string key) {
    auto slot = sys->router.expect(key);
    struct forget_on_exit {
        system* sys;
        std::string key;
        ~forget_on_exit() { sys->router.forget(key); }
    } guard{sys, key};
    eddy::headers h;
    h.set(eddy::message_id_header, key);
    if (happens(key, 5, sys->options.failures.duplicate)) {
        // A duplicate delivery (an at-least-once producer): the service's inbox absorbs it.
        (void)co_await sys->bus.publish<command>(topic, c.order_id, c, h);
    }
    std::string order = c.order_id;
    (void)co_await sys->bus.publish<command>(std::move(topic), std::move(order), std::move(c),
                                             std::move(h));
    co_await slot->ready.wait(); // the step's timeout stops this wait
    const reply r = *slot->value;
    if (!r.ok) {
        throw eddy::business_failure(r.error);
    }
}

inline command command_for(const order_ctx& o, const char* kind) {
    return command{kind,       o.order_id,     o.sku,
                   o.quantity, o.amount_cents, o.poison && std::string(kind) == "charge"};
}

inline eddy::task<void> charge(order_ctx& o, const eddy::step_context& s) {
    return call(o.sys, "payment-commands", command_for(o, "charge"),
                std::string(s.idempotency_key));
}
inline eddy::task<void> refund(order_ctx& o, const eddy::step_context& s) {
    return call(o.sys, "payment-commands", command_for(o, "refund"),
                std::string(s.idempotency_key));
}
inline eddy::task<void> reserve(order_ctx& o, const eddy::step_context& s) {
    return call(o.sys, "inventory-commands", command_for(o, "reserve"),
                std::string(s.idempotency_key));
}
inline eddy::task<void> release(order_ctx& o, const eddy::step_context& s) {
    return call(o.sys, "inventory-commands", command_for(o, "release"),
                std::string(s.idempotency_key));
}
inline eddy::task<void> ship(order_ctx& o, const eddy::step_context& s) {
    return call(o.sys, "shipping-commands", command_for(o, "ship"), std::string(s.idempotency_key));
}

inline eddy::saga<order_ctx> system::order_saga_definition() {
    using namespace std::chrono_literals;
    const eddy::retry_policy retry{.initial_interval = 20ms, .max_attempts = 3};
    return eddy::saga<order_ctx>(
        "order", eddy::sequence(eddy::step("charge", charge, refund).retry(retry).timeout(250ms),
                                eddy::step("reserve", reserve, release).retry(retry).timeout(250ms),
                                eddy::step("ship", ship).pivot().retry(retry).timeout(250ms)));
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

inline eddy::task<std::string> place_new(system* sys, std::string order_id, order_request r) {
    order o;
    o.set_id(order_id);
    o.place(std::move(r));
    auto unit = sys->order_storage.begin();
    eddy::append_with_outbox(unit, sys->order_events_store, o, sys->order_outbox, announce);
    {
        std::lock_guard lock(sys->results_mutex);
        sys->placed_at[order_id] = std::chrono::steady_clock::now();
    }
    (void)co_await sys->order_storage.commit(std::move(unit));
    co_return order_id;
}

struct placing {
    system* sys;
    std::string order_id;
    order_request request;
    eddy::task<std::string> operator()() const { return place_new(sys, order_id, request); }
};

/// Places an order under an idempotency key: a client retrying with the same key gets the same
/// order id and places nothing twice.
inline eddy::task<std::string> place_order(system* sys, std::string key, order_request r) {
    const std::string fingerprint = r.customer + "|" + r.sku + "|" + std::to_string(r.quantity) +
                                    "|" + std::to_string(r.amount_cents);
    // A named local: g++ 12 frees a braced temporary holding strings twice inside co_await.
    placing request{sys, "order-" + key, std::move(r)};
    co_return co_await eddy::idempotent_call(sys->placement_keys, std::move(key), fingerprint,
                                             std::chrono::hours(24), std::move(request));
}

inline eddy::task<void> finish_order(system* sys, std::string order_id, bool confirmed,
                                     std::string reason) {
    order o;
    o.set_id(order_id);
    if (confirmed) {
        o.confirm_from_placed();
    } else {
        o.cancel_from_placed(std::move(reason));
    }
    std::vector<eddy::proposed_event<order_events>> batch;
    for (const auto& e : o.uncommitted()) {
        batch.emplace_back(e);
    }
    (void)co_await sys->order_events_store.append(order_id, eddy::expected_version::exact(1),
                                                  std::move(batch));
}

// ----- the orchestrator -----

inline eddy::task<void> run_order_saga(system* sys, placed_notice n) {
    order_ctx ctx{sys,
                  n.order_id,
                  n.order.sku,
                  n.order.quantity,
                  n.order.amount_cents,
                  happens(n.order_id, 4, sys->options.failures.poison)};
    auto out = co_await sys->coordinator.run(sys->saga_def, n.order_id, std::move(ctx));
    const bool confirmed = out.status == eddy::saga_status::completed;
    std::string reason = confirmed ? std::string() : out.failed_step + " failed";
    co_await finish_order(sys, n.order_id, confirmed, std::move(reason));
    {
        std::lock_guard lock(sys->results_mutex);
        sys->outcomes[n.order_id] = out.status;
        sys->latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                      sys->placed_at[n.order_id])
                .count());
        const std::size_t total = sys->options.orders;
        ++sys->finished;
        // Progress when the percentage moves (and at the end), under the lock: one line at a time.
        if (sys->options.progress &&
            (sys->finished * 100 / total != (sys->finished - 1) * 100 / total ||
             sys->finished == total)) {
            sys->options.progress(sys->finished, total);
        }
    }
    sys->in_flight.release();
    sys->all_done.count_down();
}

struct on_placed {
    system* sys;
    eddy::task<void> operator()(const eddy::record<placed_notice>& r) const {
        return start(sys, r.value);
    }
    static eddy::task<void> start(system* sys, placed_notice n) {
        co_await sys->in_flight.acquire(); // at most `concurrency` sagas at once
        sys->sagas.spawn(run_order_saga(sys, std::move(n)));
    }
};

struct on_command {
    service* svc;
    eddy::task<void> operator()(const eddy::record<command>& r) const { return svc->handle(r); }
};

struct on_reply {
    reply_router* router;
    eddy::task<void> operator()(const eddy::record<reply>& r) const {
        return router->deliver(r.value);
    }
};

inline eddy::task<void> until_stopped(eddy::task<void> t) {
    try {
        co_await std::move(t);
    } catch (const eddy::operation_cancelled&) {
    }
}

inline eddy::task<void> place_all(system* sys) {
    const std::size_t n = sys->options.orders;
    for (std::size_t i = 0; i < n; ++i) {
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

inline eddy::task<void> drive(system* sys) {
    co_await sys->pool.schedule();
    auto& bus = sys->bus;
    bus.create_topic<placed_notice>("orders", {.partitions = 4});
    // Commands are keyed by order: per-order order is all the payment and shipping services
    // need; inventory checks stock across orders, so it takes one command at a time.
    bus.create_topic<command>("payment-commands", {.partitions = 4});
    bus.create_topic<command>("inventory-commands");
    bus.create_topic<command>("shipping-commands", {.partitions = 4});
    bus.create_topic<reply>("replies", {.partitions = 4});
    const eddy::retry_policy service_retry{
        .initial_interval = std::chrono::milliseconds(5),
        .max_attempts = 4,
        .non_retryable = eddy::retry_policy::error_types<std::invalid_argument>()};
    const eddy::consumer_options service_options{.retry = service_retry, .max_in_flight = 4};
    const eddy::consumer_options one_at_a_time{.retry = service_retry};
    std::vector<eddy::subscription> subs;
    subs.push_back(
        bus.subscribe<placed_notice>("orders", "order-saga", on_placed{sys}, {.max_in_flight = 4}));
    subs.push_back(bus.subscribe<command>("payment-commands", "payment", on_command{&sys->payment},
                                          service_options));
    subs.push_back(bus.subscribe<command>("inventory-commands", "inventory",
                                          on_command{&sys->inventory}, one_at_a_time));
    subs.push_back(bus.subscribe<command>("shipping-commands", "shipping",
                                          on_command{&sys->shipping}, service_options));
    subs.push_back(bus.subscribe<reply>("replies", "orchestrator", on_reply{&sys->router},
                                        {.max_in_flight = 4}));
    using std::chrono::milliseconds;
    eddy::outbox_relay order_relay(sys->order_outbox, bus, sys->pool,
                                   {.relay_id = "orders", .poll_interval = milliseconds(50)});
    eddy::outbox_relay payment_relay(sys->payment.outbox, bus, sys->pool,
                                     {.relay_id = "payment", .poll_interval = milliseconds(50)});
    eddy::outbox_relay inventory_relay(
        sys->inventory.outbox, bus, sys->pool,
        {.relay_id = "inventory", .poll_interval = milliseconds(50)});
    eddy::outbox_relay shipping_relay(sys->shipping.outbox, bus, sys->pool,
                                      {.relay_id = "shipping", .poll_interval = milliseconds(50)});
    std::stop_source stop;
    eddy::async_scope relays;
    relays.spawn(until_stopped(eddy::with_stop_token(order_relay.run(), stop.get_token())));
    relays.spawn(until_stopped(eddy::with_stop_token(payment_relay.run(), stop.get_token())));
    relays.spawn(until_stopped(eddy::with_stop_token(inventory_relay.run(), stop.get_token())));
    relays.spawn(until_stopped(eddy::with_stop_token(shipping_relay.run(), stop.get_token())));

    co_await place_all(sys);
    co_await sys->all_done.wait(); // every order's saga has ended
    co_await sys->sagas.join();
    for (auto& sub : subs) {
        co_await sub.stop();
    }
    stop.request_stop();
    co_await relays.join();
}

report run(run_options options) {
    eddy::thread_pool pool(2);
    system sys(pool, std::move(options));
    const auto started = std::chrono::steady_clock::now();
    eddy::sync_wait(drive(&sys));
    report rep;
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    rep.orders = sys.options.orders;
    for (const auto& [order, status] : sys.outcomes) {
        rep.completed += status == eddy::saga_status::completed ? 1 : 0;
        rep.compensated += status == eddy::saga_status::compensated ? 1 : 0;
        rep.stuck += (status == eddy::saga_status::compensation_failed ||
                      status == eddy::saga_status::parked)
                         ? 1
                         : 0;
    }
    // The read model: a projection of the order events (confirmed orders' amounts).
    std::map<std::string, long> amounts;
    const auto history = eddy::sync_wait(eddy::to_vector(sys.order_events_store.read_all()));
    for (const auto& e : history) {
        if (const auto* p = std::get_if<order_placed>(&e.payload)) {
            amounts[e.stream_id] = p->amount_cents;
        } else if (std::holds_alternative<order_confirmed>(e.payload)) {
            rep.read_model_paid_cents += amounts[e.stream_id];
        }
    }
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
    std::sort(sys.latencies_ms.begin(), sys.latencies_ms.end());
    if (!sys.latencies_ms.empty()) {
        rep.p50_ms = sys.latencies_ms[sys.latencies_ms.size() / 2];
        rep.p99_ms = sys.latencies_ms[sys.latencies_ms.size() * 99 / 100];
    }
    return rep;
}

} // namespace payments
