// eddy/es/memory_unit_of_work.hpp - eddy::memory_unit_of_work, the intents of one step, to be
// committed together by an eddy::memory_storage.
#pragma once

#include <cstddef>    // std::size_t
#include <functional> // std::function
#include <memory>     // std::shared_ptr, std::unique_ptr
#include <utility>    // std::move, std::pair
#include <vector>     // std::vector

#include <eddy/core/error.hpp>
#include <eddy/es/detail/memory_storage_state.hpp>

namespace eddy {

class memory_storage;

/// The unit of work of an `eddy::memory_storage`: a plain value collecting what one step wants
/// to write (appends, checkpoints, later outbox messages and inbox marks, each added through
/// the store it belongs to, e.g. `events.append(unit, ...)`) and `on_commit` callbacks (the
/// read-model writes). Nothing happens until `co_await storage.commit(std::move(unit))`;
/// dropping the unit discards every intent.
///
/// Eager, synchronous. `on_commit(f)`: `f()` runs once, under the storage's commit lock, after
/// every check of the unit passed and before its writes become visible; it must not call the
/// storage (the lock is not recursive) and should not throw (if it does, the unit is aborted:
/// nothing of the storage is written, callbacks already run keep their effects).
/// Errors: adding intents of a store attached to another storage is bad input (`eddy::error`
/// from that store's call).
/// Lifetime: the unit keeps its storage's state alive; what `on_commit` callbacks reference
/// must outlive the commit. Thread-safety: none; one owner at a time (move it between threads).
///
///     auto unit = storage.begin();
///     events.append(unit, "order-1", eddy::expected_version::exact(3), batch);
///     unit.on_commit([&] { summary.orders += 1; });
///     co_await storage.commit(std::move(unit));
class memory_unit_of_work {
public:
    memory_unit_of_work(memory_unit_of_work&&) noexcept = default;
    memory_unit_of_work& operator=(memory_unit_of_work&&) noexcept = default;

    /// Runs `f` when the unit commits (see above).
    void on_commit(std::function<void()> f) {
        if (!f) {
            throw error("eddy::memory_unit_of_work::on_commit: empty function");
        }
        m_on_commit.push_back(std::move(f));
    }

    /// True when the unit holds no intent and no callback.
    [[nodiscard]] bool empty() const noexcept { return m_changes.empty() && m_on_commit.empty(); }

    // For memory stores (and the memory stores of the layers above): the changes object of
    // `table`, made with `make()` on first use. Throws when the table belongs to another storage.
    template <class Changes, class Make>
    Changes& changes_for(const detail::memory_storage_state& owner,
                         const detail::memory_table& table, Make make) {
        if (&owner != m_state.get()) {
            throw error("eddy: a unit of work of one memory_storage was given to a store of "
                        "another");
        }
        for (auto& [t, c] : m_changes) {
            if (t == &table) {
                return static_cast<Changes&>(*c);
            }
        }
        std::unique_ptr<Changes> made = make();
        Changes& out = *made;
        m_changes.emplace_back(&table, std::move(made));
        return out;
    }

    // For memory stores: reserves the next entry of `commit_result::appends`.
    [[nodiscard]] std::size_t add_append_slot() noexcept { return m_appends++; }

private:
    friend class memory_storage;

    explicit memory_unit_of_work(std::shared_ptr<detail::memory_storage_state> state) noexcept
        : m_state(std::move(state)) {}

    std::shared_ptr<detail::memory_storage_state> m_state;
    std::vector<std::pair<const detail::memory_table*, std::unique_ptr<detail::memory_changes>>>
        m_changes;
    std::vector<std::function<void()>> m_on_commit;
    std::size_t m_appends = 0;
};

} // namespace eddy
