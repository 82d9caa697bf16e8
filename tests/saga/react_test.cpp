// Tests of eddy::react, choreography on the in-process bus: the seed's flow OrderPlaced ->
// PaymentCompleted -> InventoryReserved -> ShipmentCreated, with InventoryReservationFailed ->
// refund -> cancel and a declined card -> cancel; correlation and causation headers; a handler
// retried by the bus still yields one output; std::optional results publish nothing.
#include <eddy/saga/react.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/saga/correlation.hpp>

namespace {

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

struct order_placed {
    int amount = 0;
    int quantity = 0;
};
struct order_cancelled {
    std::string reason;
};
using order_event = std::variant<order_placed, order_cancelled>;

struct payment_completed {
    int amount = 0;
    int quantity = 0;
};
struct payment_failed {
    std::string reason;
};
struct payment_refunded {
    int amount = 0;
};
using payment_event = std::variant<payment_completed, payment_failed, payment_refunded>;

struct inventory_reserved {
    int quantity = 0;
};
struct inventory_reservation_failed {
    int amount = 0; // to refund
};
using inventory_event = std::variant<inventory_reserved, inventory_reservation_failed>;

struct shipment_created {
    std::string tracking;
};

using bus_type = eddy::event_bus<eddy::virtual_time_scheduler>;

struct shop {
    int stock = 5;
    int card_limit = 1000;
    int reserve_failures_left = 0; // transient errors the bus retries
    int reserve_calls = 0;
};

// Payment service: charges placed orders.
eddy::task<std::optional<payment_event>> charge(const shop* s, order_event e) {
    const auto* placed = std::get_if<order_placed>(&e);
    if (placed == nullptr) {
        co_return std::nullopt;
    }
    if (placed->amount > s->card_limit) {
        co_return payment_failed{"card declined"};
    }
    co_return payment_completed{placed->amount, placed->quantity};
}

// Inventory service: reserves stock for paid orders.
eddy::task<std::optional<inventory_event>> reserve(shop* s, payment_event e) {
    const auto* paid = std::get_if<payment_completed>(&e);
    if (paid == nullptr) {
        co_return std::nullopt;
    }
    ++s->reserve_calls;
    if (s->reserve_failures_left > 0) {
        --s->reserve_failures_left;
        throw std::runtime_error("inventory database unavailable");
    }
    if (paid->quantity > s->stock) {
        co_return inventory_reservation_failed{paid->amount};
    }
    s->stock -= paid->quantity;
    co_return inventory_reserved{paid->quantity};
}

// Shipping service: ships reserved orders.
eddy::task<shipment_created> ship(std::string order) { co_return shipment_created{"T-" + order}; }

// Payment service again: refunds orders whose reservation failed.
eddy::task<std::optional<payment_event>> refund(inventory_event e) {
    const auto* failed = std::get_if<inventory_reservation_failed>(&e);
    if (failed == nullptr) {
        co_return std::nullopt;
    }
    co_return payment_refunded{failed->amount};
}

// Order service: cancels orders whose payment failed or was refunded.
eddy::task<std::optional<order_event>> cancel(payment_event e) {
    if (const auto* f = std::get_if<payment_failed>(&e)) {
        co_return order_cancelled{f->reason};
    }
    if (std::holds_alternative<payment_refunded>(e)) {
        co_return order_cancelled{"out of stock"};
    }
    co_return std::nullopt;
}

std::string name_of(const order_event& e) {
    return std::holds_alternative<order_placed>(e)
               ? "placed"
               : "cancelled(" + std::get<order_cancelled>(e).reason + ")";
}
std::string name_of(const payment_event& e) {
    const char* names[] = {"completed", "failed", "refunded"};
    return names[e.index()];
}

// Records every topic's contents per key, in order (topics are consumed independently, so
// there is no order across topics to check).
struct audit {
    std::map<std::string, strings> by_key; // "<topic>/<key>" -> events
    std::vector<eddy::record<shipment_created>> shipments;
};

eddy::task<void> note(audit* a, std::string topic, std::string key, std::string what) {
    a->by_key[topic + "/" + key].push_back(what);
    co_return;
}

struct flow {
    eddy::virtual_time_scheduler vt;
    bus_type bus{vt};
    shop s;
    audit a;
    std::vector<eddy::subscription> subs;

    flow() {
        bus.create_topic<order_event>("orders", {.partitions = 4});
        bus.create_topic<payment_event>("payments", {.partitions = 4});
        bus.create_topic<inventory_event>("inventory", {.partitions = 4});
        bus.create_topic<shipment_created>("shipping", {.partitions = 4});
        const eddy::consumer_options retrying{.retry = {.initial_interval = 1s, .max_attempts = 3}};
        subs.push_back(eddy::react<order_event, payment_event>(
            bus, {"orders", "payment-service", "payments"},
            [this](const eddy::record<order_event>& r) { return charge(&s, r.value); }));
        subs.push_back(eddy::react<payment_event, inventory_event>(
            bus, {"payments", "inventory-service", "inventory"},
            [this](const eddy::record<payment_event>& r) { return reserve(&s, r.value); },
            retrying));
        subs.push_back(eddy::react<inventory_event, shipment_created>(
            bus, {"inventory", "shipping-service", "shipping"},
            [](const eddy::record<inventory_event>& r)
                -> eddy::task<std::optional<shipment_created>> {
                if (!std::holds_alternative<inventory_reserved>(r.value)) {
                    return none<shipment_created>();
                }
                return as_optional(ship(std::string(eddy::correlation_id(r))));
            }));
        subs.push_back(eddy::react<inventory_event, payment_event>(
            bus, {"inventory", "payment-service", "payments"},
            [](const eddy::record<inventory_event>& r) { return refund(r.value); }));
        subs.push_back(eddy::react<payment_event, order_event>(
            bus, {"payments", "order-service", "orders"},
            [](const eddy::record<payment_event>& r) { return cancel(r.value); }));
        subs.push_back(bus.subscribe<order_event>(
            "orders", "audit", [this](const eddy::record<order_event>& r) {
                return note(&a, "orders", r.key, name_of(r.value));
            }));
        subs.push_back(bus.subscribe<payment_event>(
            "payments", "audit", [this](const eddy::record<payment_event>& r) {
                return note(&a, "payments", r.key, name_of(r.value));
            }));
        subs.push_back(bus.subscribe<shipment_created>(
            "shipping", "audit", [this](const eddy::record<shipment_created>& r) {
                a.shipments.push_back(r);
                return note(&a, "shipping", r.key, r.value.tracking);
            }));
    }

    template <class T>
    static eddy::task<std::optional<T>> none() {
        co_return std::nullopt;
    }
    template <class T>
    static eddy::task<std::optional<T>> as_optional(eddy::task<T> t) {
        co_return co_await std::move(t);
    }

    static eddy::task<void>
    place_all_then_stop(flow* f, std::vector<std::pair<std::string, order_placed>> orders) {
        for (auto& [id, o] : orders) {
            co_await f->bus.publish<order_event>("orders", id, o);
        }
        co_await eddy::sleep_for(f->vt, 1min);
        for (auto& sub : f->subs) {
            co_await sub.stop();
        }
    }
};

} // namespace

TEST_CASE("the seed's choreography runs on the bus, with compensation by events", "[saga][react]") {
    flow f;
    f.vt.run(
        flow::place_all_then_stop(&f, {{"o1", {100, 2}}, {"o2", {200, 9}}, {"o3", {5000, 1}}}));
    CHECK(f.a.by_key["orders/o1"] == strings{"placed"});
    CHECK(f.a.by_key["payments/o1"] == strings{"completed"});
    CHECK(f.a.by_key["shipping/o1"] == strings{"T-o1"});
    CHECK(f.a.by_key["orders/o2"] == strings{"placed", "cancelled(out of stock)"});
    CHECK(f.a.by_key["payments/o2"] == strings{"completed", "refunded"});
    CHECK(f.a.by_key["shipping/o2"].empty());
    CHECK(f.a.by_key["orders/o3"] == strings{"placed", "cancelled(card declined)"});
    CHECK(f.a.by_key["payments/o3"] == strings{"failed"});
    CHECK(f.a.by_key["shipping/o3"].empty());
    CHECK(f.s.stock == 3);
}

TEST_CASE("outputs carry the correlation id and their cause", "[saga][react]") {
    flow f;
    f.vt.run(flow::place_all_then_stop(&f, {{"o1", {100, 2}}}));
    REQUIRE(f.a.shipments.size() == 1);
    const auto& r = f.a.shipments[0];
    CHECK(r.key == "o1");
    CHECK(eddy::correlation_id(r) == "o1");
    const auto cause = r.headers.get(eddy::causation_header);
    REQUIRE(cause);
    CHECK(*cause == "inventory/" + std::to_string(f.bus.partition_for("inventory", "o1")) + "/0");
}

TEST_CASE("a handler retried by the bus publishes one output", "[saga][react]") {
    flow f;
    f.s.reserve_failures_left = 2;
    f.vt.run(flow::place_all_then_stop(&f, {{"o1", {100, 2}}}));
    CHECK(f.s.reserve_calls == 3);
    CHECK(f.a.by_key["payments/o1"] == strings{"completed"});
    CHECK(f.a.shipments.size() == 1);
    CHECK(f.a.shipments[0].timestamp ==
          eddy::virtual_time_scheduler::time_point{} + 3s); // retries after 1s and 2s
}
