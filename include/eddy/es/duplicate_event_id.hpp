// eddy/es/duplicate_event_id.hpp - eddy::duplicate_event_id, the error of an append whose event
// ids are already stored but not as the same batch.
#pragma once

#include <string>  // std::string
#include <utility> // std::move

#include <eddy/core/error.hpp>
#include <eddy/es/uuid.hpp>

namespace eddy {

/// Thrown by an event store's `append` (or a unit of work's commit) when an event id of the
/// batch is already stored and the batch is not an exact re-append of the batch that stored it:
/// the stored event has another stream, type or payload, only some ids of the batch are stored
/// (a partial overlap), the stored events are not one whole earlier batch in the same order, or
/// an id repeats within the batch or unit. Nothing of the append (or unit) was written. (An
/// exact re-append is not an error: it returns the original `append_result`.)
///
/// Thread-safety: like `std::runtime_error`.
///
///     try { co_await store.append("order-1", expected, batch); }
///     catch (const eddy::duplicate_event_id& d) { log(d.event_id().to_string(), d.what()); }
class duplicate_event_id : public error {
public:
    enum class reason {
        different_stream,  ///< stored in another stream
        different_type,    ///< stored with another type name or schema version
        different_payload, ///< stored with another payload
        partial_overlap,   ///< some ids of the batch are stored, some are not
        different_batch,   ///< all stored, but not as one whole earlier batch in this order
        repeated,          ///< the id appears twice in the batch or unit of work
    };

    duplicate_event_id(uuid id, std::string stream, reason why, const std::string& detail)
        : error("eddy: event id " + id.to_string() + " appended to stream '" + stream +
                "': " + detail),
          m_id(id), m_stream(std::move(stream)), m_reason(why) {}

    [[nodiscard]] const uuid& event_id() const noexcept { return m_id; }
    /// The stream of the failed append.
    [[nodiscard]] const std::string& stream() const noexcept { return m_stream; }
    [[nodiscard]] reason why() const noexcept { return m_reason; }

private:
    uuid m_id;
    std::string m_stream;
    reason m_reason;
};

} // namespace eddy
