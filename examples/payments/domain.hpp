// examples/payments/domain.hpp - the payment system's messages and its one event-sourced
// aggregate, the order.
#pragma once

#include <string>      // std::string
#include <string_view> // std::string_view
#include <variant>     // std::variant

#include <nlohmann/json.hpp>

#include <eddy/bus/record.hpp>
#include <eddy/es/aggregate.hpp>
#include <eddy/outbox/idempotent.hpp>

namespace payments {

/// What a customer asks for.
struct order_request {
    std::string customer;
    std::string sku;
    int quantity = 1;
    long amount_cents = 0;
};

// ----- the order's events (its stream "order-<n>") -----

struct order_placed {
    static constexpr std::string_view event_name = "order_placed";
    std::string customer;
    std::string sku;
    int quantity = 0;
    long amount_cents = 0;
};
struct order_confirmed {
    static constexpr std::string_view event_name = "order_confirmed";
};
struct order_cancelled {
    static constexpr std::string_view event_name = "order_cancelled";
    std::string reason;
};
using order_events = std::variant<order_placed, order_confirmed, order_cancelled>;

enum class order_status { none, placed, confirmed, cancelled };

/// The order: placed once, then confirmed or cancelled once.
struct order : eddy::aggregate<order, order_events> {
    order_status status = order_status::none;
    order_placed details;

    void place(order_request r) {
        if (status != order_status::none) {
            throw eddy::error("order " + id() + " was placed already");
        }
        raise(order_placed{std::move(r.customer), std::move(r.sku), r.quantity, r.amount_cents});
    }
    void confirm() {
        if (status == order_status::placed) {
            raise(order_confirmed{});
        }
    }
    void cancel(std::string reason) {
        if (status == order_status::placed) {
            raise(order_cancelled{std::move(reason)});
        }
    }

    /// For an order known to be placed (version 1) without loading it: the saga's end.
    void confirm_from_placed() {
        status = order_status::placed;
        confirm();
    }
    void cancel_from_placed(std::string reason) {
        status = order_status::placed;
        cancel(std::move(reason));
    }

    void apply(const order_placed& e) {
        status = order_status::placed;
        details = e;
    }
    void apply(const order_confirmed&) { status = order_status::confirmed; }
    void apply(const order_cancelled&) { status = order_status::cancelled; }
};

// ----- what crosses the bus -----

/// The outbox's notice that an order was placed (topic "orders", key = order id).
struct placed_notice {
    std::string order_id;
    order_placed order;
};

/// A command to a service (topics "payment-commands", "inventory-commands",
/// "shipping-commands"); its message id is the saga step's idempotency key, so a retried
/// command is recognised by the service's inbox.
struct command {
    std::string kind; // charge, refund, reserve, release, ship
    std::string order_id;
    std::string sku;
    int quantity = 0;
    long amount_cents = 0;
    bool poison = false; // a payload the service cannot process (failure injection)
    /// Where the service answers: the topic of the orchestrator instance that waits (each
    /// process of a system spread over several has its own).
    std::string reply_to = "replies";
    /// The command's id (a saga step's idempotency key), by which its service's inbox applies
    /// it once; empty in commands stored by earlier versions (their message id was the key).
    std::string id;
};

/// The id a service applies a delivered command by: its own, or (stored by earlier versions)
/// the record's message id.
inline std::string command_id(const eddy::record<command>& r) {
    return r.value.id.empty() ? eddy::message_id_of(r) : r.value.id;
}

/// A service's answer (topic `command::reply_to`, key = order id); `correlation` is the command's
/// id.
struct reply {
    std::string correlation;
    bool ok = true;
    std::string error;
};

// ----- a service's events (its stream per order: the order id, in the service's store) -----

/// A command a service applied, with its answer: the service's state (ledger, stock,
/// shipments) is the fold of these, and a redelivered command is answered from them.
struct command_handled {
    static constexpr std::string_view event_name = "command_handled";
    std::string message_id;
    command cmd;
    reply answer;
};
using service_events = std::variant<command_handled>;

// ----- JSON (the SQLite store's codec) -----

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order_placed, customer, sku, quantity, amount_cents)
inline void to_json(nlohmann::json& j, const order_confirmed&) { j = nlohmann::json::object(); }
inline void from_json(const nlohmann::json&, order_confirmed&) {}
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order_cancelled, reason)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(placed_notice, order_id, order)
// With defaults: commands stored by earlier versions have no reply_to.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(command, kind, order_id, sku, quantity,
                                                amount_cents, poison, reply_to, id)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(reply, correlation, ok, error)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(command_handled, message_id, cmd, answer)

} // namespace payments
