// eddy/outbox/outbox_store.hpp - the eddy::outbox_store concept: messages enqueued in a unit of
// work, claimed, published and marked by relays.
#pragma once

#include <eddy/outbox/detail/outbox_store_requirements.hpp>
#include <eddy/outbox/outbox_message.hpp>

namespace eddy {

/// Storage of outbox messages whose payloads are `S::payload_type`, in a storage whose unit of
/// work is `S::unit_type` (`eddy::unit_of_work_storage`):
/// - `enqueue(unit, messages)`: adds the messages to the unit; they exist when (and only if)
///   the unit commits, atomically with the unit's other writes (the events they announce).
/// - `claim(relay, max, lease)` -> `task<std::vector<outbox_message<P>>>`: up to `max` pending
///   messages in enqueue order, now leased to `relay` for `lease` (nobody else gets them until
///   they are marked, released, or the lease ends: not even `relay` itself, it is in flight);
///   a message is never handed out while an earlier pending message of the same aggregate is
///   leased, so one aggregate's messages are published in order.
/// - `mark_published(relay, ids)`: published (a message another relay took over after this
///   relay's lease ended is still marked: its publish happened; consumers deduplicate).
/// - `release(relay, id, error)`: back to pending, `attempts + 1`, `last_error = error`; its
///   place in the order is kept.
/// - `stats()`; `purge_published(age)` removes messages published more than `age` ago (by the
///   store's clock) and returns how many.
/// Use `static_assert(eddy::detail::check_outbox_store<S>())` for a diagnostic naming what is
/// missing; `eddy::outbox_relay` does.
///
///     static_assert(eddy::outbox_store<eddy::memory_outbox_store<order_event>>);
template <class S>
concept outbox_store = detail::outbox_has_types<S> && detail::outbox_has_enqueue<S> &&
    detail::outbox_has_claim<S> && detail::outbox_has_mark_published<S> &&
    detail::outbox_has_release<S> && detail::outbox_has_stats<S> && detail::outbox_has_purge<S>;

} // namespace eddy
