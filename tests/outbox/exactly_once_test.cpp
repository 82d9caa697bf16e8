// The end-to-end exactly-once chain, with a failure injected at every point: a command appends
// events and enqueues outbox messages in one unit; a relay publishes them (at least once, with
// the message id); a consumer wrapped by eddy::idempotent writes its read model, its inbox mark
// and its own downstream outbox message in one unit. Failures: the relay's publish errors
// after the record reached the bus, the relay dies between publish and mark, the consumer
// fails before its writes, after its writes before the commit, and after the commit before
// the bus acknowledged. Every input has exactly one effect and one downstream message.
#include <eddy/outbox/idempotent.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/outbox/memory_inbox_store.hpp>
#include <eddy/outbox/memory_outbox_store.hpp>
#include <eddy/outbox/outbox_relay.hpp>

#include <support/outbox_world.hpp>

namespace {

using namespace std::chrono_literals;
using namespace eddy::test::outbox;
using bus_type = eddy::event_bus<eddy::virtual_time_scheduler>;
using outbox_type = eddy::memory_outbox_store<notice>;

enum class fault {
    none,
    publish_error_after_publish,
    relay_dies_before_mark,
    consumer_fails_before_write,
    consumer_fails_after_write,
    consumer_fails_after_commit,
};

// Each fault fires once per message id (first delivery or first publish).
struct injector {
    fault f = fault::none;
    std::set<std::string> fired;
    bool once(fault at, const std::string& id) { return f == at && fired.insert(id).second; }
};

// The relay's bus: publishes, then (once per message) reports an error anyway.
struct lossy_ack_bus {
    bus_type* bus;
    injector* inject;
    template <class T>
    eddy::task<eddy::publish_result> publish(std::string topic, std::string key, T value,
                                             eddy::headers h) {
        const std::string id(h.get(eddy::message_id_header).value_or(""));
        auto r = co_await bus->publish<T>(std::move(topic), std::move(key), std::move(value),
                                          std::move(h));
        if (inject->once(fault::publish_error_after_publish, id)) {
            throw std::runtime_error("ack lost");
        }
        co_return r;
    }
};

// The relay's store: the first mark_published never happens (the relay died first).
struct dying_store {
    using payload_type = notice;
    using unit_type = eddy::memory_unit_of_work;
    outbox_type* inner;
    injector* inject;
    void enqueue(unit_type& u, std::vector<eddy::outbox_message<notice>> m) {
        inner->enqueue(u, std::move(m));
    }
    auto claim(std::string r, std::size_t n, std::chrono::steady_clock::duration l) {
        return inner->claim(std::move(r), n, l);
    }
    eddy::task<void> mark_published(std::string r, std::vector<eddy::uuid> ids) {
        if (inject->once(fault::relay_dies_before_mark, "mark")) {
            throw std::runtime_error("relay died");
        }
        co_await inner->mark_published(std::move(r), std::move(ids));
    }
    auto release(std::string r, eddy::uuid id, std::string e) {
        return inner->release(std::move(r), id, std::move(e));
    }
    auto stats() { return inner->stats(); }
    auto purge_published(std::chrono::steady_clock::duration age) {
        return inner->purge_published(age);
    }
};

// The billing service.
struct billing {
    billing(eddy::memory_storage s, injector* i)
        : storage(std::move(s)), inbox(storage), downstream(storage), inject(i) {}
    eddy::memory_storage storage;
    eddy::memory_inbox_store inbox;
    outbox_type downstream;
    std::map<std::string, int> charged; // the read model
    injector* inject;
};

eddy::task<void> bill(billing* b, const eddy::record<notice>* r, eddy::memory_unit_of_work* unit) {
    const std::string id = eddy::message_id_of(*r);
    if (b->inject->once(fault::consumer_fails_before_write, id)) {
        throw std::runtime_error("billing database unavailable");
    }
    unit->on_commit([b, order = r->value.order] { ++b->charged[order]; });
    auto invoice = message(r->value.order, r->value.n);
    invoice.topic = "invoices";
    b->downstream.enqueue(*unit, {invoice});
    if (b->inject->once(fault::consumer_fails_after_write, id)) {
        throw std::runtime_error("crashed before commit");
    }
    co_return;
}

struct bill_handler {
    billing* b;
    eddy::task<void> operator()(const eddy::record<notice>& r,
                                eddy::memory_unit_of_work& unit) const {
        return bill(b, &r, &unit);
    }
};

// The bus handler: the idempotent consumer, which (once per message) fails after committing.
template <class Inner>
struct ack_lost_after_commit {
    Inner inner;
    injector* inject;
    eddy::task<void> operator()(const eddy::record<notice>& r) { return run(this, &r); }
    static eddy::task<void> run(ack_lost_after_commit* self, const eddy::record<notice>* r) {
        co_await self->inner(*r);
        if (self->inject->once(fault::consumer_fails_after_commit, eddy::message_id_of(*r))) {
            throw std::runtime_error("crashed before the ack");
        }
    }
};

eddy::task<void> drive(eddy::virtual_time_scheduler* vt, eddy::memory_storage orders,
                       outbox_type* outbox, dying_store* relay_store, lossy_ack_bus* relay_bus,
                       eddy::subscription* sub) {
    eddy::memory_event_store<order_events> events(orders);
    for (int i = 1; i <= 4; ++i) {
        const std::string order = "order-" + std::to_string(i);
        auto unit = orders.begin();
        events.append(unit, order, eddy::expected_version::no_stream(), {order_placed{i * 10}});
        outbox->enqueue(unit, {message(order, 1)});
        (void)co_await orders.commit(std::move(unit));
    }
    eddy::outbox_relay relay(
        *relay_store, *relay_bus, *vt,
        {.relay_id = "r1", .lease = 30s, .retry = {.initial_interval = 1s, .max_attempts = 3}});
    for (int round = 0; round < 10; ++round) {
        bool died = false;
        try {
            (void)co_await relay.run_once();
        } catch (const std::runtime_error&) {
            died = true; // a new relay instance takes over after the lease
        }
        if (died) {
            co_await eddy::sleep_for(*vt, 31s);
        }
        const auto s = co_await outbox->stats();
        if (s.pending == 0) {
            break;
        }
    }
    co_await eddy::sleep_for(*vt, 5min); // consumer retries
    co_await sub->stop();
}

} // namespace

TEST_CASE("every input has exactly one effect and one downstream message, whatever fails",
          "[outbox][exactly_once]") {
    for (const fault f : {fault::none, fault::publish_error_after_publish,
                          fault::relay_dies_before_mark, fault::consumer_fails_before_write,
                          fault::consumer_fails_after_write, fault::consumer_fails_after_commit}) {
        CAPTURE(static_cast<int>(f));
        eddy::virtual_time_scheduler vt;
        injector inject{f, {}};
        auto orders = storage_on(vt);
        outbox_type outbox(orders);
        bus_type bus(vt);
        bus.create_topic<notice>("notices", {.partitions = 2});
        billing b(storage_on(vt), &inject);
        dying_store relay_store{&outbox, &inject};
        lossy_ack_bus relay_bus{&bus, &inject};
        auto handler = ack_lost_after_commit<decltype(eddy::idempotent<notice>(
            b.storage, b.inbox, "billing", bill_handler{&b}))>{
            eddy::idempotent<notice>(b.storage, b.inbox, "billing", bill_handler{&b}), &inject};
        auto sub = bus.subscribe<notice>("notices", "billing", std::move(handler),
                                         {.retry = {.initial_interval = 1s, .max_attempts = 5}});
        vt.run(drive(&vt, orders, &outbox, &relay_store, &relay_bus, &sub));

        CHECK(inject.fired.size() == (f == fault::none                     ? 0U
                                      : f == fault::relay_dies_before_mark ? 1U
                                                                           : 4U));
        for (int i = 1; i <= 4; ++i) {
            CHECK(b.charged["order-" + std::to_string(i)] == 1);
        }
        CHECK(b.downstream.messages().size() == 4);
        CHECK(b.inbox.size() == 4);
        CHECK(vt.run(outbox.stats()).pending == 0);
        CHECK(bus.stats("notices").dead_lettered == 0);
        if (f == fault::publish_error_after_publish || f == fault::relay_dies_before_mark) {
            CHECK(bus.stats("notices").published > 4); // duplicates reached the bus...
        }                                              // ...and the inbox absorbed them
    }
}
