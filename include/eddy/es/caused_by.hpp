// eddy/es/caused_by.hpp - eddy::caused_by, the correlation and causation ids of what handling
// an event causes.
#pragma once

#include <eddy/es/event_envelope.hpp>
#include <eddy/es/event_metadata.hpp>

namespace eddy {

/// The metadata for the events (and commands) that handling `incoming` causes: the same
/// correlation id (the incoming event's own id when it had none, so it starts a conversation),
/// causation id = the incoming event's id, and the same tenant and traceparent. Headers are not
/// propagated (they describe one message).
///
/// Eager, pure. Thread-safety: reads `incoming` only.
///
///     auto md = eddy::caused_by(placed); // placed: an event_envelope<events>
///     co_await repo.save(payment, md);   // the payment's events carry placed's ids
template <class E>
[[nodiscard]] event_metadata caused_by(const event_envelope<E>& incoming) {
    event_metadata out;
    out.correlation_id = incoming.metadata.correlation_id.empty()
                             ? incoming.event_id.to_string()
                             : incoming.metadata.correlation_id;
    out.causation_id = incoming.event_id.to_string();
    out.tenant = incoming.metadata.tenant;
    out.traceparent = incoming.metadata.traceparent;
    return out;
}

} // namespace eddy
