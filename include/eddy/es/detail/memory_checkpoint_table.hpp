// eddy/es/detail/memory_checkpoint_table.hpp - the table of eddy::memory_checkpoint_store in a
// memory storage, and the checkpoint saves a unit of work holds for it.
#pragma once

#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t
#include <functional> // std::less
#include <map>        // std::map
#include <string>     // std::string
#include <utility>    // std::move, std::pair
#include <vector>     // std::vector

#include <eddy/es/commit_result.hpp>
#include <eddy/es/detail/memory_storage_state.hpp>

namespace eddy::detail {

// Templates only to defer their instantiation to the files that use them (the umbrella's
// compile cost): there is one instantiation, with `void`.
template <class = void>
struct basic_memory_checkpoint_table : memory_table {
    explicit basic_memory_checkpoint_table(memory_storage_state& storage) : m_storage(&storage) {}

    memory_storage_state* m_storage; // owns this table; its mutex guards everything here
    std::map<std::string, std::uint64_t, std::less<>> m_positions;
    std::size_t m_saves = 0;

    void save_locked(std::string name, std::uint64_t position) {
        m_positions[std::move(name)] = position;
        ++m_saves;
    }
};

template <class Unused = void>
class basic_memory_checkpoint_changes final : public memory_changes {
public:
    explicit basic_memory_checkpoint_changes(basic_memory_checkpoint_table<Unused>& table) noexcept
        : m_table(&table) {}

    void add(std::string name, std::uint64_t position) {
        m_saves.emplace_back(std::move(name), position);
    }

    void check(commit_result&) override {}

    void apply() override {
        for (auto& [name, position] : m_saves) {
            m_table->save_locked(std::move(name), position);
        }
    }

private:
    basic_memory_checkpoint_table<Unused>* m_table;
    std::vector<std::pair<std::string, std::uint64_t>> m_saves;
};

} // namespace eddy::detail
