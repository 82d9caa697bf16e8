// examples/payments/services.hpp - the payment, inventory and shipping services: bus consumers
// of commands that apply each command once (inbox), and answer through their own outbox.
#pragma once

#include <algorithm>     // std::max
#include <cstdint>       // std::uint64_t
#include <map>           // std::map
#include <mutex>         // std::mutex, std::lock_guard
#include <set>           // std::set
#include <stdexcept>     // std::invalid_argument, std::runtime_error
#include <string>        // std::string
#include <unordered_map> // std::unordered_map

#include <eddy/bus/record.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/outbox/duplicate_message.hpp>
#include <eddy/outbox/idempotent.hpp>
#include <eddy/outbox/memory_inbox_store.hpp>
#include <eddy/outbox/memory_outbox_store.hpp>

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

/// What every service has: its own storage (inbox, outbox of replies) and the replies it sent
/// (re-sent when a command arrives again).
class service {
public:
    explicit service(std::string name) : m_name(std::move(name)) {}
    service(const service&) = delete;
    service& operator=(const service&) = delete;
    virtual ~service() = default;

    [[nodiscard]] const std::string& name() const noexcept { return m_name; }
    eddy::memory_storage storage;
    eddy::memory_inbox_store inbox{storage};
    eddy::memory_outbox_store<reply> outbox{storage};

    /// Applies `c` through `unit` (effects in on_commit callbacks) and says how it went.
    virtual reply decide(const command& c, eddy::memory_unit_of_work& unit) = 0;

    /// The bus handler: exactly one effect and one reply per command id.
    eddy::task<void> handle(const eddy::record<command>& r) { return handle_impl(this, &r); }

    [[nodiscard]] std::uint64_t resent() const {
        std::lock_guard lock(m_mutex);
        return m_resent;
    }

protected:
    mutable std::mutex m_mutex; // the service's own state (decide runs one command at a time)

private:
    static eddy::task<void> handle_impl(service* self, const eddy::record<command>* r) {
        const std::string id = eddy::message_id_of(*r);
        const bool seen = co_await self->inbox.is_processed(self->m_name, id);
        if (seen) {
            // A retried command: answer again with the stored reply, no second effect.
            auto unit = self->storage.begin();
            eddy::outbox_message<reply> again = self->reply_message(r->value, self->sent(id));
            self->outbox.enqueue(unit, {std::move(again)});
            (void)co_await self->storage.commit(std::move(unit));
            std::lock_guard lock(self->m_mutex);
            ++self->m_resent;
            co_return;
        }
        if (r->value.poison) {
            throw std::invalid_argument("undecodable " + r->value.kind + " command for " +
                                        r->value.order_id);
        }
        auto unit = self->storage.begin();
        reply answer = self->decide(r->value, unit);
        answer.correlation = id;
        self->inbox.mark_processed(unit, self->m_name, id);
        self->outbox.enqueue(unit, {self->reply_message(r->value, answer)});
        unit.on_commit([self, id, answer] {
            std::lock_guard lock(self->m_mutex);
            self->m_sent[id] = answer;
        });
        try {
            (void)co_await self->storage.commit(std::move(unit));
        } catch (const eddy::duplicate_message&) {
            // a concurrent delivery of the same command won; it answered
        }
    }

    reply sent(const std::string& id) const {
        std::lock_guard lock(m_mutex);
        const auto it = m_sent.find(id);
        return it == m_sent.end() ? reply{id, false, "lost reply"} : it->second;
    }

    eddy::outbox_message<reply> reply_message(const command& c, reply r) const {
        eddy::outbox_message<reply> m;
        m.topic = "replies";
        m.aggregate_type = m_name;
        m.aggregate_id = c.order_id;
        m.event_type = c.kind;
        m.payload = std::move(r);
        return m;
    }

    std::string m_name;
    std::unordered_map<std::string, reply> m_sent;
    std::uint64_t m_resent = 0;
};

class payment_service final : public service {
public:
    explicit payment_service(failure_rates rates) : service("payment"), m_rates(rates) {}

    reply decide(const command& c, eddy::memory_unit_of_work& unit) override {
        if (c.kind == "charge") {
            {
                std::lock_guard lock(m_mutex);
                if (happens(c.order_id, 2, m_rates.flaky) && m_flaked.insert(c.order_id).second) {
                    throw std::runtime_error("payment gateway timeout"); // the bus retries
                }
            }
            if (happens(c.order_id, 1, m_rates.decline)) {
                return reply{{}, false, "card declined"};
            }
            unit.on_commit([this, c] {
                std::lock_guard lock(m_mutex);
                m_charged[c.order_id] += c.amount_cents;
                ++m_charges[c.order_id];
            });
            return reply{};
        }
        // refund: whatever was charged (nothing if the charge never happened)
        unit.on_commit([this, c] {
            std::lock_guard lock(m_mutex);
            const long net = m_charged[c.order_id] - m_refunded[c.order_id];
            m_refunded[c.order_id] += net;
        });
        return reply{};
    }

    /// Charges minus refunds over all orders, and the most charges any order got.
    [[nodiscard]] std::pair<long, int> ledger() const {
        std::lock_guard lock(m_mutex);
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

class inventory_service final : public service {
public:
    explicit inventory_service(int stock_per_sku)
        : service("inventory"), m_stock_each(stock_per_sku) {}

    reply decide(const command& c, eddy::memory_unit_of_work& unit) override {
        std::lock_guard lock(m_mutex);
        if (c.kind == "reserve") {
            const int left = stock_of(c.sku) - m_taken[c.sku];
            if (left < c.quantity) {
                return reply{{}, false, "out of stock"};
            }
            unit.on_commit([this, c] {
                std::lock_guard inner(m_mutex);
                m_taken[c.sku] += c.quantity;
                m_reserved[c.order_id] = c.quantity;
            });
            return reply{};
        }
        // release
        const auto it = m_reserved.find(c.order_id);
        if (it != m_reserved.end()) {
            const int quantity = it->second;
            unit.on_commit([this, c, quantity] {
                std::lock_guard inner(m_mutex);
                m_taken[c.sku] -= quantity;
                m_reserved.erase(c.order_id);
            });
        }
        return reply{};
    }

    /// Orders holding a reservation.
    [[nodiscard]] std::size_t reserved_orders() const {
        std::lock_guard lock(m_mutex);
        return m_reserved.size();
    }

private:
    int stock_of(const std::string& sku) const { return sku == "rare" ? 0 : m_stock_each; }
    int m_stock_each;
    std::map<std::string, int> m_taken;
    std::map<std::string, int> m_reserved;
};

class shipping_service final : public service {
public:
    shipping_service() : service("shipping") {}

    reply decide(const command& c, eddy::memory_unit_of_work& unit) override {
        unit.on_commit([this, c] {
            std::lock_guard lock(m_mutex);
            ++m_shipments[c.order_id];
        });
        return reply{};
    }

    /// Orders shipped, and the most shipments any order got.
    [[nodiscard]] std::pair<std::size_t, int> shipped() const {
        std::lock_guard lock(m_mutex);
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
