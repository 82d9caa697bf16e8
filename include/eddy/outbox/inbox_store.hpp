// eddy/outbox/inbox_store.hpp - the eddy::inbox_store concept: which messages each consumer
// has processed, marked in the same unit of work as the consumer's own writes.
#pragma once

#include <concepts> // std::same_as
#include <string>   // std::string

#include <eddy/core/task.hpp>

namespace eddy {

/// Storage of processed message ids per consumer, in a storage whose unit of work is
/// `S::unit_type`: `mark_processed(unit, consumer, message_id)` adds the mark to the unit
/// (the commit fails with `eddy::duplicate_message`, writing nothing of the unit, when the
/// consumer already processed that id); `is_processed(consumer, message_id)` ->
/// `task<bool>`. A consumer that commits the mark with its own writes has exactly one effect
/// per message however often the message is delivered.
///
///     static_assert(eddy::inbox_store<eddy::memory_inbox_store>);
template <class S>
concept inbox_store = requires {
    typename S::unit_type;
}
&&requires(S& s, typename S::unit_type& u, std::string text) {
    s.mark_processed(u, text, text);
    { s.is_processed(text, text) } -> std::same_as<task<bool>>;
};

} // namespace eddy
