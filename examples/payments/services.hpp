// examples/payments/services.hpp - the payment, inventory and shipping services: bus consumers
// of commands that apply each command once (inbox), record it as an event and answer through
// their own outbox, all in one unit of work of their own storage.
#pragma once

#include <algorithm> // std::max
#include <cstdint>   // std::uint64_t
#include <map>       // std::map
#include <mutex>     // std::mutex, std::lock_guard
#include <optional>  // std::optional
#include <set>       // std::set
#include <stdexcept> // std::invalid_argument, std::runtime_error
#include <string>    // std::string
#include <utility>   // std::pair, std::move

#include <eddy/bus/record.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/outbox/duplicate_message.hpp>
#include <eddy/outbox/idempotent.hpp>
#include <eddy/stream/stream.hpp>

#include "domain.hpp"
#include "payments.hpp"

namespace payments {

inline std::uint64_t hash_of(const std::string& s, std::uint64_t salt) {
    std::uint64_t h = 1469598103934665603ULL ^ salt;
    for (const char c : s) {
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    return h;
}
inline bool happens(const std::string& order, std::uint64_t salt, double rate) {
    return static_cast<double>(hash_of(order, salt) % 10'000) < rate * 10'000.0;
}

/// What every service has: its own strand (a thread of its own: its handlers and storage
/// results run there, one at a time), its own storage with an event store (what it did, per
/// order), an inbox and an outbox of replies. Its state is the fold of its store's events, in
/// position order: before deciding, a handler folds in what was committed since (its own
/// commits, and those of the same service in other processes sharing the store: the bus hands
/// a partition's commands to one member at a time, so the fold is current for what the
/// command's key names: its order, or for the inventory its sku).
template <class Backend>
class service {
public:
    using storage_type = typename Backend::storage_type;

    service(std::string name, const Backend& backend)
        : storage(backend.open(name, m_strand)), events(storage), inbox(storage), outbox(storage),
          m_name(std::move(name)) {}
    service(const service&) = delete;
    service& operator=(const service&) = delete;
    virtual ~service() = default;

    [[nodiscard]] const std::string& name() const noexcept { return m_name; }

private:
    eddy::thread_pool m_strand{1}; // first: the storage resumes on it

public:
    storage_type storage;
    typename Backend::template event_store<service_events> events;
    typename Backend::inbox_store inbox;
    typename Backend::template outbox_store<reply> outbox;

    /// The answer to `c` given the state (under the service's lock); may throw a transient
    /// error (the bus retries).
    virtual reply decide(const command& c) = 0;
    /// The state after `e` (under the service's lock), folding the store in position order.
    virtual void apply(const command_handled& e) = 0;

    /// Folds every event committed to the store since the last fold into the state (at start,
    /// before a decision, before a report).
    eddy::task<void> rebuild() { return catch_up(this); }

    /// The bus handler: exactly one effect and one reply per command id.
    eddy::task<void> handle(const eddy::record<command>& r) { return handle_impl(this, &r); }

    [[nodiscard]] std::uint64_t resent() const {
        std::lock_guard lock(m_mutex);
        return m_resent;
    }

protected:
    mutable std::mutex m_mutex; // the service's state

private:
    static eddy::task<void> catch_up(service* self) {
        co_await self->m_strand.schedule();
        std::uint64_t from = 0;
        {
            std::lock_guard lock(self->m_mutex);
            from = self->m_position + 1;
        }
        auto all = self->events.read_all(from);
        for (;;) {
            auto e = co_await all.next();
            if (!e) {
                break;
            }
            std::lock_guard lock(self->m_mutex);
            if (e->global_position > self->m_position) { // not folded by a concurrent catch-up
                self->m_position = e->global_position;
                self->apply(std::get<command_handled>(e->payload));
            }
        }
    }

    // The reply recorded for command `id` of `order`, from the order's stream.
    static eddy::task<std::optional<reply>> recorded(service* self, std::string order,
                                                     std::string id) {
        auto history = self->events.read_stream(std::move(order));
        std::optional<reply> found;
        for (;;) {
            auto e = co_await history.next();
            if (!e) {
                break;
            }
            const auto& handled = std::get<command_handled>(e->payload);
            if (handled.message_id == id) {
                found = handled.answer;
            }
        }
        co_return found;
    }

    static eddy::task<void> handle_impl(service* self, const eddy::record<command>* r) {
        co_await self->m_strand.schedule();
        const std::string id = command_id(*r);
        const bool seen = co_await self->inbox.is_processed(self->m_name, id);
        if (seen) {
            // A retried command: answer again with the recorded reply, no second effect.
            std::optional<reply> answer = co_await recorded(self, r->value.order_id, id);
            if (!answer) {
                throw std::runtime_error("no recorded reply for command " + id);
            }
            auto unit = self->storage.begin();
            self->outbox.enqueue(unit, {self->reply_message(r->value, *answer)});
            (void)co_await self->storage.commit(std::move(unit));
            std::lock_guard lock(self->m_mutex);
            ++self->m_resent;
            co_return;
        }
        if (r->value.poison) {
            throw std::invalid_argument("undecodable " + r->value.kind + " command for " +
                                        r->value.order_id);
        }
        co_await catch_up(self);
        command_handled handled{id, r->value, {}};
        {
            std::lock_guard lock(self->m_mutex);
            handled.answer = self->decide(r->value);
        }
        handled.answer.correlation = id;
        auto unit = self->storage.begin();
        self->inbox.mark_processed(unit, self->m_name, id);
        self->events.append(unit, r->value.order_id, eddy::expected_version::any(), {handled});
        self->outbox.enqueue(unit, {self->reply_message(r->value, handled.answer)});
        try {
            (void)co_await self->storage.commit(std::move(unit));
        } catch (const eddy::duplicate_message&) {
            // a concurrent delivery of the same command won; it answered
        }
        // The state folds the event in at the next catch-up (the next command, or a rebuild).
    }

    eddy::outbox_message<reply> reply_message(const command& c, reply r) const {
        eddy::outbox_message<reply> m;
        m.topic = c.reply_to;
        m.aggregate_type = m_name;
        m.aggregate_id = c.order_id;
        m.event_type = c.kind;
        m.payload = std::move(r);
        return m;
    }

    std::string m_name;
    std::uint64_t m_resent = 0;
    std::uint64_t m_position = 0; // the last event folded into the state
};

template <class Backend>
class payment_service final : public service<Backend> {
public:
    payment_service(const Backend& b, failure_rates rates)
        : service<Backend>("payment", b), m_rates(rates) {}

    reply decide(const command& c) override {
        if (c.kind == "charge") {
            if (happens(c.order_id, 2, m_rates.flaky) && m_flaked.insert(c.order_id).second) {
                throw std::runtime_error("payment gateway timeout"); // the bus retries
            }
            if (happens(c.order_id, 1, m_rates.decline)) {
                return reply{{}, false, "card declined"};
            }
            if (m_refunded.contains(c.order_id)) {
                // A charge arriving after its saga refunded (a dead letter published again):
                // applying it would charge a cancelled order.
                return reply{{}, false, "order refunded already"};
            }
        }
        return reply{}; // a refund returns whatever was charged (nothing if nothing was)
    }

    void apply(const command_handled& e) override {
        if (!e.answer.ok) {
            return;
        }
        const std::string& order = e.cmd.order_id;
        if (e.cmd.kind == "charge") {
            m_charged[order] += e.cmd.amount_cents;
            ++m_charges[order];
        } else {
            m_refunded[order] = m_charged[order];
        }
    }

    /// Charges minus refunds over all orders, and the most charges any order got.
    [[nodiscard]] std::pair<long, int> ledger() const {
        std::lock_guard lock(this->m_mutex);
        long net = 0;
        int most = 0;
        for (const auto& [order, cents] : m_charged) {
            const auto refunded = m_refunded.find(order);
            net += cents - (refunded == m_refunded.end() ? 0 : refunded->second);
        }
        for (const auto& [order, n] : m_charges) {
            most = std::max(most, n);
        }
        return {net, most};
    }

private:
    failure_rates m_rates;
    std::map<std::string, long> m_charged;
    std::map<std::string, long> m_refunded;
    std::map<std::string, int> m_charges;
    std::set<std::string> m_flaked;
};

template <class Backend>
class inventory_service final : public service<Backend> {
public:
    inventory_service(const Backend& b, int stock_per_sku)
        : service<Backend>("inventory", b), m_stock_each(stock_per_sku) {}

    reply decide(const command& c) override {
        if (c.kind == "reserve" && m_released.contains(c.order_id)) {
            return reply{{}, false, "order released already"}; // a late reservation
        }
        if (c.kind == "reserve" && stock_of(c.sku) - m_taken[c.sku] < c.quantity) {
            return reply{{}, false, "out of stock"};
        }
        return reply{};
    }

    void apply(const command_handled& e) override {
        if (!e.answer.ok) {
            return;
        }
        const command& c = e.cmd;
        if (c.kind == "reserve") {
            m_taken[c.sku] += c.quantity;
            m_reserved[c.order_id] = c.quantity;
            return;
        }
        m_released.insert(c.order_id); // release
        const auto it = m_reserved.find(c.order_id);
        if (it != m_reserved.end()) {
            m_taken[c.sku] -= it->second;
            m_reserved.erase(it);
        }
    }

    /// Orders holding a reservation.
    [[nodiscard]] std::size_t reserved_orders() const {
        std::lock_guard lock(this->m_mutex);
        return m_reserved.size();
    }

private:
    int stock_of(const std::string& sku) const { return sku == "rare" ? 0 : m_stock_each; }
    int m_stock_each;
    std::map<std::string, int> m_taken;
    std::map<std::string, int> m_reserved;
    std::set<std::string> m_released;
};

template <class Backend>
class shipping_service final : public service<Backend> {
public:
    explicit shipping_service(const Backend& b) : service<Backend>("shipping", b) {}

    reply decide(const command&) override { return reply{}; }

    void apply(const command_handled& e) override { ++m_shipments[e.cmd.order_id]; }

    /// Orders shipped, and the most shipments any order got.
    [[nodiscard]] std::pair<std::size_t, int> shipped() const {
        std::lock_guard lock(this->m_mutex);
        int most = 0;
        for (const auto& [order, n] : m_shipments) {
            most = std::max(most, n);
        }
        return {m_shipments.size(), most};
    }

private:
    std::map<std::string, int> m_shipments;
};

} // namespace payments
