// The payment and inventory services on their own: a command applied once however often it
// is delivered (the recorded reply is sent again), and a late command (a dead letter published
// again after its saga compensated) rejected without effect.
#include "services.hpp"

#include <catch2/catch.hpp>

#include <string>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>

#include "backend.hpp"

namespace {

eddy::record<payments::command> delivery(std::string id, payments::command c) {
    eddy::record<payments::command> r;
    r.key = c.order_id;
    r.headers.set(eddy::message_id_header, std::move(id));
    r.value = std::move(c);
    return r;
}

// The state folds its store's events before each command, and on rebuild: read it current.
std::pair<long, int> ledger_of(payments::payment_service<payments::memory_backend>& s) {
    eddy::sync_wait(s.rebuild());
    return s.ledger();
}
std::size_t reserved_in(payments::inventory_service<payments::memory_backend>& s) {
    eddy::sync_wait(s.rebuild());
    return s.reserved_orders();
}

std::vector<std::string> replies(payments::service<payments::memory_backend>& s) {
    std::vector<std::string> out;
    for (const auto& m : s.outbox.messages()) {
        out.push_back(m.payload.correlation + (m.payload.ok ? " ok" : " " + m.payload.error));
    }
    return out;
}

} // namespace

TEST_CASE("a charge is applied once, and not at all after its refund", "[examples][payments]") {
    eddy::thread_pool pool(1);
    payments::memory_backend backend(pool);
    payments::payment_service<payments::memory_backend> payment(
        backend, {.decline = 0, .out_of_stock = 0, .flaky = 0, .poison = 0, .duplicate = 0});
    const payments::command charge{"charge", "order-1", "sku", 1, 500, false, "replies", ""};
    eddy::sync_wait(payment.handle(delivery("order-1/charge", charge)));
    eddy::sync_wait(payment.handle(delivery("order-1/charge", charge))); // redelivered
    CHECK(ledger_of(payment) == std::pair<long, int>{500, 1});
    CHECK(payment.resent() == 1);
    eddy::sync_wait(
        payment.handle(delivery("order-1/charge/compensation",
                                {"refund", "order-1", "sku", 1, 500, false, "replies", ""})));
    CHECK(ledger_of(payment) == std::pair<long, int>{0, 1});
    // The same charge under another id (published again from the archive): rejected.
    eddy::sync_wait(payment.handle(delivery("order-1/charge#2", charge)));
    CHECK(ledger_of(payment) == std::pair<long, int>{0, 1});
    CHECK(replies(payment) == std::vector<std::string>{"order-1/charge ok", "order-1/charge ok",
                                                       "order-1/charge/compensation ok",
                                                       "order-1/charge#2 order refunded already"});
}

TEST_CASE("a reservation after its release is rejected", "[examples][payments]") {
    eddy::thread_pool pool(1);
    payments::memory_backend backend(pool);
    payments::inventory_service<payments::memory_backend> inventory(backend, 10);
    const payments::command reserve{"reserve", "order-1", "sku", 3, 0, false, "replies", ""};
    eddy::sync_wait(inventory.handle(delivery("order-1/reserve", reserve)));
    CHECK(reserved_in(inventory) == 1);
    eddy::sync_wait(
        inventory.handle(delivery("order-1/reserve/compensation",
                                  {"release", "order-1", "sku", 3, 0, false, "replies", ""})));
    CHECK(reserved_in(inventory) == 0);
    eddy::sync_wait(inventory.handle(delivery("order-1/reserve#2", reserve)));
    CHECK(reserved_in(inventory) == 0);
    CHECK(replies(inventory).back() == "order-1/reserve#2 order released already");
}
