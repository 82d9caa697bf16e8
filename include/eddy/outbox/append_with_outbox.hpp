// eddy/outbox/append_with_outbox.hpp - eddy::append_with_outbox: an aggregate's new events and
// the outbox messages announcing them, added to one unit of work.
#pragma once

#include <cstddef>     // std::size_t
#include <optional>    // std::optional
#include <string>      // std::string
#include <type_traits> // std::invoke_result_t, std::is_same_v, std::remove_cvref_t
#include <utility>     // std::move
#include <vector>      // std::vector

#include <eddy/core/error.hpp>
#include <eddy/es/event_metadata.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/outbox/outbox_message.hpp>

namespace eddy {

/// Adds to `unit` the append of `aggregate.uncommitted()` to its stream (expecting
/// `aggregate.version()`, or no stream for a new one; each event with `metadata`) and, for
/// each event, the outbox message `to_message(event, aggregate)` returns (an
/// `eddy::outbox_message<P>`, or a `std::optional` of one: empty = nothing to announce), with
/// the aggregate id filled in when empty. Commit the unit, then call
/// `aggregate.mark_committed()`: the events and their messages exist together or not at all
/// (the dual write cannot half-happen). The mapping is the per-aggregate configuration: one
/// function per aggregate type, typically next to it.
/// Returns the index of the append's result in the commit's `commit_result::appends`.
/// Errors: an aggregate without an id (`eddy::error`); the store's and outbox's own checks at
/// commit (`eddy::concurrency_conflict` and the rest), with nothing written.
///
///     auto unit = storage.begin();
///     eddy::append_with_outbox(unit, events, order, outbox, announce_order_event);
///     co_await storage.commit(std::move(unit));
///     order.mark_committed();
template <class Unit, class EventStore, class Aggregate, class Outbox, class Map>
std::size_t append_with_outbox(Unit& unit, EventStore& events, const Aggregate& aggregate,
                               Outbox& outbox, Map to_message, event_metadata metadata = {}) {
    using events_type = typename Aggregate::events_type;
    using payload_type = typename Outbox::payload_type;
    using mapped =
        std::remove_cvref_t<std::invoke_result_t<Map&, const events_type&, const Aggregate&>>;
    static_assert(std::is_same_v<mapped, outbox_message<payload_type>> ||
                      std::is_same_v<mapped, std::optional<outbox_message<payload_type>>>,
                  "eddy::append_with_outbox: the mapping must return an "
                  "eddy::outbox_message<Outbox::payload_type> or a std::optional of one");
    if (aggregate.id().empty()) {
        throw error("eddy::append_with_outbox: the aggregate has no id");
    }
    std::vector<proposed_event<events_type>> batch;
    std::vector<outbox_message<payload_type>> messages;
    for (const auto& e : aggregate.uncommitted()) {
        batch.emplace_back(e, metadata);
        std::optional<outbox_message<payload_type>> m = to_message(e, aggregate);
        if (m) {
            if (m->aggregate_id.empty()) {
                m->aggregate_id = aggregate.id();
            }
            messages.push_back(std::move(*m));
        }
    }
    const expected_version expected = aggregate.version() == 0
                                          ? expected_version::no_stream()
                                          : expected_version::exact(aggregate.version());
    const std::size_t slot = events.append(unit, aggregate.id(), expected, std::move(batch));
    if (!messages.empty()) {
        outbox.enqueue(unit, std::move(messages));
    }
    return slot;
}

} // namespace eddy
