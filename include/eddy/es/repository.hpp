// eddy/es/repository.hpp - eddy::repository<Aggregate, Store, Snapshots>: load an aggregate
// (snapshot + the events after it) and save its new events with optimistic concurrency.
#pragma once

#include <chrono>   // std::chrono::system_clock
#include <concepts> // std::same_as
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint32_t, std::uint64_t
#include <limits>   // std::numeric_limits
#include <optional> // std::optional
#include <string>   // std::string, std::to_string
#include <utility>  // std::move
#include <vector>   // std::vector

#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/event_metadata.hpp>
#include <eddy/es/event_sourced.hpp>
#include <eddy/es/event_store.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/es/snapshot_policy.hpp>
#include <eddy/es/snapshot_store.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// The `Snapshots` of a repository that takes none.
struct no_snapshots {};

/// Loads and saves event-sourced aggregates of type `Aggregate` in an `eddy::event_store`
/// whose `event_type` is the aggregate's `events_type`; optionally with an
/// `eddy::snapshot_store` of `Aggregate` states.
///
/// `load(id)`: the latest snapshot with the aggregate's snapshot schema version
/// (`Aggregate::snapshot_schema_version` or 1; others are ignored), then the stream's events
/// after it. `save(a, metadata)`: appends `a.uncommitted()` (each with `metadata`) expecting
/// `a.version()` (no stream for a new aggregate), then `a.mark_committed()`, then a snapshot if
/// the policy says so (`eddy::snapshot_policy`: every N events, after a load that replayed more
/// than a threshold, or when a predicate holds; `save_snapshot(a)` writes one by hand). `update(id,
/// fn, attempts)`: load, `fn(a)`, save; on `concurrency_conflict` reloads and runs `fn` again, up
/// to `attempts` times in all. Time travel: `load_at_version(id, v)` is the state after event `v`
/// (0: the initial state; a snapshot is used only when it is not newer than `v`; a `v` beyond the
/// stream's version is an `eddy::error`); `load_at_time(id, t)` is the state after the events
/// recorded at or before `t`, replaying up to the first event recorded later (a snapshot is used
/// only when the event it was taken at was recorded at or before `t`). The result is a read-only
/// view of the past: saving it conflicts unless it is the current version. Soft-deleted and
/// truncated streams: when the first event read (without a snapshot) is not version 1, the stream's
/// history starts there (`a.rebase(version - 1)`, when the aggregate has it: `eddy::aggregate` and
/// `eddy::decider_aggregate` do), so a recreated stream loads and saves with its continuing
/// versions. Lazy: every operation is a task. Where the awaiter resumes: where the store's
/// operations resumed (the memory stores: synchronously on the awaiting thread). Errors:
/// `eddy::concurrency_conflict` from `save` (the aggregate is left unchanged, its events still
/// uncommitted); `eddy::error` for an empty id or a stream whose versions have a gap; store errors
/// propagate. Lifetime: the store (and snapshot store) must outlive the repository and its tasks;
/// the aggregate passed to `save` must outlive the task. Thread-safety: as the stores' (the
/// repository holds nothing mutable).
///
///     eddy::repository<account, eddy::memory_event_store<account_events>> repo(store);
///     account a = co_await repo.load("acc-1");
///     a.deposit(10);
///     co_await repo.save(a);
template <event_sourced Aggregate, class Store, class Snapshots = no_snapshots>
class repository {
    static_assert(detail::check_event_store<Store>());
    static_assert(std::same_as<typename Store::event_type, typename Aggregate::events_type>,
                  "eddy::repository: the store's event_type is not the aggregate's events_type");

public:
    /// A repository without snapshots.
    explicit repository(Store& store) noexcept : m_store(&store) {}

    /// A repository writing snapshots to `snapshots` according to `policy`.
    repository(Store& store, Snapshots& snapshots, snapshot_policy<Aggregate> policy)
        : m_store(&store), m_snapshots(&snapshots), m_policy(std::move(policy)) {
        static_assert(snapshot_store<Snapshots> &&
                          std::same_as<typename Snapshots::state_type, Aggregate>,
                      "eddy::repository: Snapshots must model eddy::snapshot_store of the "
                      "Aggregate type");
    }

    /// A repository writing a snapshot every `policy.every` events.
    repository(Store& store, Snapshots& snapshots, snapshot_every policy)
        : repository(store, snapshots, snapshot_policy<Aggregate>{.every = policy.every}) {}

    /// Writes a snapshot of `a` now (its committed state: `a` must have no uncommitted
    /// events, else `eddy::error`).
    [[nodiscard]] task<void> save_snapshot(const Aggregate& a) const {
        static_assert(snapshot_store<Snapshots>,
                      "eddy::repository::save_snapshot: the repository has no snapshot store");
        if (!a.uncommitted().empty()) {
            throw error("eddy::repository::save_snapshot: aggregate '" + a.id() +
                        "' has uncommitted events");
        }
        return write_snapshot(m_snapshots, a);
    }

    [[nodiscard]] task<Aggregate> load(std::string id) const {
        return load_impl(m_store, m_snapshots, m_policy.after_replaying, std::move(id),
                         load_limit{});
    }

    /// The aggregate as it was after event `version` of its stream.
    [[nodiscard]] task<Aggregate> load_at_version(std::string id, std::uint64_t version) const {
        return load_impl(m_store, m_snapshots, 0, std::move(id), load_limit{version, {}, true});
    }

    /// The aggregate as it was at `time` (by the events' `recorded_at`).
    [[nodiscard]] task<Aggregate> load_at_time(std::string id,
                                               std::chrono::system_clock::time_point time) const {
        return load_impl(m_store, m_snapshots, 0, std::move(id),
                         load_limit{std::numeric_limits<std::uint64_t>::max(), time, false});
    }

    [[nodiscard]] task<append_result> save(Aggregate& a, event_metadata metadata = {}) const {
        return save_impl(m_store, m_snapshots, m_policy, &a, std::move(metadata));
    }

    /// Loads `id`, calls `fn(aggregate&)`, saves; retries on a conflict (`attempts` in all).
    template <class Fn>
    [[nodiscard]] task<Aggregate> update(std::string id, Fn fn, std::size_t attempts = 3,
                                         event_metadata metadata = {}) const {
        if (attempts == 0) {
            throw error("eddy::repository::update: attempts must be at least 1");
        }
        return update_impl(*this, std::move(id), std::move(fn), attempts, std::move(metadata));
    }

private:
    static constexpr std::uint32_t snapshot_schema() noexcept {
        if constexpr (requires { Aggregate::snapshot_schema_version; }) {
            return static_cast<std::uint32_t>(Aggregate::snapshot_schema_version);
        } else {
            return 1;
        }
    }

    // How far a load replays: up to `version`, and up to the first event recorded after
    // `until`; `exact`: the stream must reach `version`.
    struct load_limit {
        std::uint64_t version = std::numeric_limits<std::uint64_t>::max();
        std::optional<std::chrono::system_clock::time_point> until;
        bool exact = false;
    };

    static task<void> write_snapshot(Snapshots* snapshots, const Aggregate& a) {
        if constexpr (snapshot_store<Snapshots>) {
            // g++ 12 mis-copies an aggregate temporary built inside a co_await expression (its
            // strings end up pointing into the frame): build it first.
            snapshot<Aggregate> snap{a.version(), snapshot_schema(), a};
            std::string id = a.id();
            co_await snapshots->save_snapshot(std::move(id), std::move(snap));
        }
    }

    // `after_replaying`: the load-time threshold (0 for time travel: a past state is not
    // worth caching).
    static task<Aggregate> load_impl(Store* store, Snapshots* snapshots,
                                     std::uint64_t after_replaying, std::string id,
                                     load_limit limit) {
        if (id.empty()) {
            throw error("eddy::repository::load: empty stream id");
        }
        Aggregate a;
        if constexpr (snapshot_store<Snapshots>) {
            if (snapshots != nullptr) {
                std::optional<snapshot<Aggregate>> snap = co_await snapshots->load_snapshot(id);
                bool usable = snap && snap->schema_version == snapshot_schema() &&
                              snap->state.version() == snap->version &&
                              snap->version <= limit.version;
                if (usable && limit.until && snap->version > 0) {
                    // Usable for a time only if the event it was taken at is not later.
                    auto at = store->read_stream(id, snap->version);
                    auto e = co_await at.next();
                    usable =
                        e && e->stream_version == snap->version && e->recorded_at <= *limit.until;
                }
                if (usable) {
                    a = std::move(snap->state);
                }
            }
        }
        a.set_id(id);
        const std::uint64_t start = a.version();
        auto events = store->read_stream(id, a.version() + 1);
        while (a.version() < limit.version) {
            auto e = co_await events.next();
            if (!e) {
                break;
            }
            if (limit.until && e->recorded_at > *limit.until) {
                break;
            }
            if (a.version() == 0 && e->stream_version > 1) {
                // The stream's earlier events were soft-deleted or truncated: its history
                // starts here (a gap later on is still an error).
                if constexpr (requires { a.rebase(std::uint64_t{0}); }) {
                    a.rebase(e->stream_version - 1);
                }
            }
            if (e->stream_version != a.version() + 1) {
                throw error("eddy::repository::load: stream '" + id + "' jumps from version " +
                            std::to_string(a.version()) + " to " +
                            std::to_string(e->stream_version));
            }
            a.replay(e->payload);
        }
        if (limit.exact && a.version() != limit.version) {
            throw error("eddy::repository::load_at_version: stream '" + id + "' has " +
                        std::to_string(a.version()) + " events, not version " +
                        std::to_string(limit.version));
        }
        if constexpr (snapshot_store<Snapshots>) {
            if (snapshots != nullptr && after_replaying > 0 &&
                a.version() - start > after_replaying) {
                co_await write_snapshot(snapshots, a);
            }
        }
        co_return a;
    }

    static task<append_result> save_impl(Store* store, Snapshots* snapshots,
                                         snapshot_policy<Aggregate> policy, Aggregate* a,
                                         event_metadata metadata) {
        if (a->id().empty()) {
            throw error("eddy::repository::save: the aggregate has no id");
        }
        const std::uint64_t before = a->version();
        std::vector<proposed_event<typename Aggregate::events_type>> batch;
        batch.reserve(a->uncommitted().size());
        for (const auto& e : a->uncommitted()) {
            batch.emplace_back(e, metadata);
        }
        if (batch.empty()) {
            co_return append_result{before, 0, 0};
        }
        std::string id = a->id();
        append_result result = co_await store->append(
            std::move(id), expected_version::exact(before), std::move(batch));
        a->mark_committed();
        if constexpr (snapshot_store<Snapshots>) {
            const std::uint64_t after = a->version();
            const bool crossed = policy.every > 0 && before / policy.every != after / policy.every;
            const bool asked = policy.when && policy.when(*a);
            if (snapshots != nullptr && (crossed || asked)) {
                co_await write_snapshot(snapshots, *a);
            }
        }
        co_return result;
    }

    template <class Fn>
    static task<Aggregate> update_impl(repository self, std::string id, Fn fn, std::size_t attempts,
                                       event_metadata metadata) {
        for (std::size_t attempt = 1;; ++attempt) {
            Aggregate a = co_await self.load(id);
            fn(a);
            bool conflict = false;
            try {
                co_await self.save(a, metadata);
            } catch (const concurrency_conflict&) {
                if (attempt >= attempts) {
                    throw;
                }
                conflict = true;
            }
            if (!conflict) {
                co_return a;
            }
        }
    }

    Store* m_store;
    Snapshots* m_snapshots = nullptr;
    snapshot_policy<Aggregate> m_policy;
};

} // namespace eddy
