// eddy/saga/correlation.hpp - how choreographed services tie a flow's records together: the
// correlation id of a record, and the headers a reaction puts on what it publishes.
#pragma once

#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view

#include <eddy/bus/headers.hpp>
#include <eddy/bus/record.hpp>

namespace eddy {

/// Header naming the flow a record belongs to (e.g. the order id); kept by every reaction.
inline constexpr std::string_view correlation_header = "correlation-id";
/// Header naming the record that caused this one: `<topic>/<partition>/<offset>`.
inline constexpr std::string_view causation_header = "causation-id";

/// The flow a record belongs to: its `correlation-id` header, or else its key (the first
/// record of a flow is usually published with the flow's id as key and no header).
///
///     eddy::correlation_id(r); // "order-42"
template <class T>
[[nodiscard]] std::string_view correlation_id(const record<T>& r) noexcept {
    const auto h = r.headers.get(correlation_header);
    return h ? *h : std::string_view(r.key);
}

/// The headers of a record caused by `cause`: its correlation id and, as causation id, where
/// `cause` is in the bus.
template <class T>
[[nodiscard]] headers caused_headers(const record<T>& cause) {
    headers h;
    h.set(std::string(correlation_header), std::string(correlation_id(cause)));
    h.set(std::string(causation_header),
          cause.topic + "/" + std::to_string(cause.partition) + "/" + std::to_string(cause.offset));
    return h;
}

} // namespace eddy
