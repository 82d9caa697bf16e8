// eddy/outbox/duplicate_message.hpp - eddy::duplicate_message, a message a consumer already
// processed.
#pragma once

#include <string>  // std::string
#include <utility> // std::move

#include <eddy/core/error.hpp>

namespace eddy {

/// Thrown by a storage's commit when a unit marks a message processed that its consumer has
/// already processed (`inbox_store::mark_processed`): nothing of the unit was written. The
/// `eddy::idempotent` wrapper treats it as "already done".
class duplicate_message : public error {
public:
    duplicate_message(std::string consumer, std::string message_id)
        : error("eddy: consumer '" + consumer + "' already processed message '" + message_id + "'"),
          m_consumer(std::move(consumer)), m_message_id(std::move(message_id)) {}

    [[nodiscard]] const std::string& consumer() const noexcept { return m_consumer; }
    [[nodiscard]] const std::string& message_id() const noexcept { return m_message_id; }

private:
    std::string m_consumer;
    std::string m_message_id;
};

} // namespace eddy
