// eddy/outbox/idempotent.hpp - eddy::idempotent, wraps a bus handler so that a redelivered
// message has no second effect.
#pragma once

#include <string>      // std::string, std::to_string
#include <type_traits> // std::is_invocable_v
#include <utility>     // std::move

#include <eddy/bus/record.hpp>
#include <eddy/core/task.hpp>
#include <eddy/outbox/duplicate_message.hpp>
#include <eddy/outbox/inbox_store.hpp>
#include <eddy/outbox/outbox_message.hpp>

namespace eddy {

/// The id a consumer deduplicates by: the record's `message-id` header (set by
/// `eddy::outbox_relay`), else its position `<topic>/<partition>/<offset>` (which only catches
/// redeliveries of that very record, not a second publish of the same message).
template <class T>
[[nodiscard]] std::string message_id_of(const record<T>& r) {
    if (const auto id = r.headers.get(message_id_header)) {
        return std::string(*id);
    }
    return r.topic + "/" + std::to_string(r.partition) + "/" + std::to_string(r.offset);
}

namespace detail {

template <class T, class Storage, class Inbox, class Handler>
struct idempotent_handler {
    Storage* storage;
    Inbox* inbox;
    std::string consumer;
    Handler handler;

    // The bus keeps this object alive for the subscription and the record until the task ends.
    task<void> operator()(const record<T>& r) { return run(this, &r); }

    static task<void> run(idempotent_handler* self, const record<T>* r) {
        std::string id = message_id_of(*r);
        const bool seen = co_await self->inbox->is_processed(self->consumer, id);
        if (seen) {
            co_return; // processed before: acknowledge without a second effect
        }
        auto unit = self->storage->begin();
        co_await self->handler(*r, unit);
        self->inbox->mark_processed(unit, self->consumer, std::move(id));
        try {
            (void)co_await self->storage->commit(std::move(unit));
        } catch (const duplicate_message&) {
            // A concurrent delivery committed first: its effect stands, this one has none.
        }
    }
};

} // namespace detail

/// Wraps `handler(const record<T>&, Storage::unit_type&)` -> awaitable into a bus handler for
/// `event_bus::subscribe<T>`: a message (`message_id_of`) the consumer already processed is
/// acknowledged without calling the handler; otherwise the handler adds its writes to a fresh
/// unit of work (store intents, `on_commit` callbacks), the inbox mark is added to the same
/// unit, and the unit is committed: effect and mark together, or neither (a failure before the
/// commit leaves nothing, and the bus retries). Two concurrent deliveries of one message: one
/// commits, the other's commit fails with `duplicate_message`, which is swallowed (no effect).
/// The handler must write only through the unit: what it does directly is not deduplicated.
/// Lifetime: `storage` and `inbox` outlive the subscription; the handler is moved in.
///
///     auto sub = bus.subscribe<order_event>("orders", "billing",
///         eddy::idempotent<order_event>(storage, inbox, "billing", bill));
template <class T, class Storage, class Inbox, class Handler>
[[nodiscard]] auto idempotent(Storage& storage, Inbox& inbox, std::string consumer,
                              Handler handler) {
    static_assert(inbox_store<Inbox>, "eddy::idempotent: the inbox does not model "
                                      "eddy::inbox_store");
    static_assert(std::is_invocable_v<Handler&, const record<T>&, typename Storage::unit_type&>,
                  "eddy::idempotent<T>: the handler must be callable with "
                  "(const eddy::record<T>&, Storage::unit_type&)");
    return detail::idempotent_handler<T, Storage, Inbox, Handler>{
        &storage, &inbox, std::move(consumer), std::move(handler)};
}

} // namespace eddy
