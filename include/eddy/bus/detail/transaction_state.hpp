// eddy/bus/detail/transaction_state.hpp - what an `eddy::transaction` handle asks of the bus that
// began it (an interface, so the handle is not a template of the bus type).
#pragma once

#include <cstddef>   // std::size_t
#include <cstdint>   // std::uint64_t
#include <string>    // std::string
#include <typeindex> // std::type_index

#include <eddy/bus/headers.hpp>
#include <eddy/bus/record.hpp>

namespace eddy::detail {

class transaction_state {
public:
    transaction_state() = default;
    transaction_state(const transaction_state&) = delete;
    transaction_state& operator=(const transaction_state&) = delete;
    virtual ~transaction_state() = default;

    // Appends a value of type `type` (moved from `*value`) as a record of this transaction.
    virtual publish_result publish(const std::string& topic, std::string key, headers h,
                                   std::type_index type, const char* type_name, void* value) = 0;
    // On commit, `group`'s position in `topic`/`partition` becomes `offset + 1`.
    virtual void commit_offset(const std::string& group, const std::string& topic,
                               std::size_t partition, std::uint64_t offset) = 0;
    virtual void commit() = 0;
    virtual void abort() noexcept = 0;
    [[nodiscard]] virtual bool open() const = 0;
    [[nodiscard]] virtual const std::string& producer() const noexcept = 0;
    [[nodiscard]] virtual std::uint64_t epoch() const noexcept = 0;
};

} // namespace eddy::detail
