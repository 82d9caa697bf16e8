// eddy/nats/nats_error.hpp - eddy::nats_error, a failed libnats call (connection, JetStream API,
// publish, fetch or acknowledgement) with libnats' status and the server's error code.
#pragma once

#include <string>  // std::string, std::to_string
#include <utility> // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown by the NATS adapter when a libnats call fails: no server reachable, the connection
/// lost or closed (libnats fails requests at once when it loses the connection), a request
/// timed out, a JetStream API error (a stream that cannot be created, a server out of
/// resources). Carries libnats' status code and text (`natsStatus_GetText`: "Connection
/// Closed", "Timeout", "No server available for connection", ...) and the JetStream error code
/// of the server's answer (zero when there was none); `what()` names the operation first.
///
/// Thread-safety: like `std::runtime_error`.
///
///     try { eddy::nats_bus<eddy::thread_pool, codec> bus(pool, codec, {.urls =
///     {"nats://down:1"}}); } catch (const eddy::nats_error& e) { e.status_text(); } // "No server
///     available for connection"
class nats_error : public error {
public:
    nats_error(const std::string& context, int status, std::string status_text, int js_code = 0,
               const std::string& detail = {})
        : error("eddy::nats: " + context + ": " + status_text +
                (detail.empty() || detail == status_text ? std::string() : " (" + detail + ")") +
                (js_code != 0 ? " [JetStream error " + std::to_string(js_code) + "]"
                              : std::string())),
          m_status(status), m_status_text(std::move(status_text)), m_js_code(js_code) {}

    /// libnats' `natsStatus` (`NATS_TIMEOUT`, `NATS_CONNECTION_CLOSED`, ...) as an int.
    [[nodiscard]] int status() const noexcept { return m_status; }
    /// `natsStatus_GetText(status())`.
    [[nodiscard]] const std::string& status_text() const noexcept { return m_status_text; }
    /// The JetStream API error code of the server's answer (`jsErrCode`), or zero.
    [[nodiscard]] int js_code() const noexcept { return m_js_code; }

private:
    int m_status;
    std::string m_status_text;
    int m_js_code;
};

} // namespace eddy
