// eddy/bus/event_bus.hpp - eddy::event_bus<Scheduler>, the in-process event bus: typed
// partitioned topics, consumer groups, retries with backoff and dead-letter topics.
#pragma once

#include <algorithm>   // std::max, std::min
#include <atomic>      // std::memory_order (the lock-free checks of batches and idle spins)
#include <cassert>     // assert
#include <chrono>      // std::chrono::steady_clock
#include <coroutine>   // std::coroutine_handle (publish_awaitable)
#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint64_t
#include <exception>   // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <functional>  // std::invoke, std::less
#include <map>         // std::map (topics by name)
#include <memory>      // std::shared_ptr, std::unique_ptr, std::make_shared, std::make_unique
#include <mutex>       // std::mutex, std::lock_guard
#include <optional>    // std::optional
#include <stop_token>  // std::stop_token
#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view
#include <type_traits> // std::is_invocable_v, std::invoke_result_t, std::is_copy_constructible_v
#include <typeindex>   // std::type_index
#include <typeinfo>    // typeid
#include <utility>     // std::move, std::exchange, std::pair
#include <vector>      // std::vector

#include <eddy/bus/bus_observer.hpp>
#include <eddy/bus/consumer_options.hpp>
#include <eddy/bus/dead_letter.hpp>
#include <eddy/bus/dead_letter_entry.hpp>
#include <eddy/bus/detail/fnv1a.hpp>
#include <eddy/bus/detail/group_member.hpp>
#include <eddy/bus/detail/record_bytes.hpp>
#include <eddy/bus/detail/spin_mutex.hpp>
#include <eddy/bus/detail/topic_log.hpp>
#include <eddy/bus/detail/transaction_state.hpp>
#include <eddy/bus/headers.hpp>
#include <eddy/bus/offset_out_of_range.hpp>
#include <eddy/bus/producer_fenced.hpp>
#include <eddy/bus/producer_sequence.hpp>
#include <eddy/bus/record.hpp>
#include <eddy/bus/record_too_large.hpp>
#include <eddy/bus/subscription.hpp>
#include <eddy/bus/topic_config.hpp>
#include <eddy/bus/transaction.hpp>
#include <eddy/core/awaitable.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/retry_policy.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// An in-process event bus in Kafka's model: named topics of typed records split into
/// partitions; producers `publish`; consumer groups share a topic's partitions among their
/// members, each group with its own committed offsets; failing handlers are retried with a
/// `retry_policy` and then dead-lettered. The same member names are meant for a bus on a real
/// broker, so service code written against `event_bus` compiles against it.
///
/// Topics: `create_topic<T>(name, config)` creates `name` (records of type `T`, moved in and
/// never serialized) and its dead-letter topic `name.DLQ` (same type and configuration).
/// Creating a topic again with the same type and configuration does nothing; with another,
/// or publishing/subscribing to an unknown topic or with another type, throws `eddy::error`.
/// Partitions: a record goes to partition `fnv1a_64(key) % partitions` (FNV-1a over the key's
/// bytes: the same on every run and platform; `partition_for` tells it). Offsets count from
/// 0 per partition and keep growing when retention drops records (`topic_config`).
/// Idempotent producer: `publish(topic, key, value, headers, producer_sequence)` lands once
/// however often it is retried with the same producer id and sequence (`producer_sequence`).
///
/// Guarantees:
/// - Order: per partition. Records of one key keep their publish order, as seen by every
///   group (a group handles one record of a partition at a time, in offset order); nothing is
///   ordered across partitions.
/// - Delivery: at-least-once per group. A record is committed after its handler succeeded, or
///   after it was dead-lettered. A record whose member left mid-record (`subscription::cancel`
///   with a handler that ends in `eddy::operation_cancelled`, or a pull consumer destroyed
///   before pulling again) is delivered again, to a remaining or later member. Without such
///   departures every record is delivered to each group exactly once (a handler retried by the
///   retry policy runs more than once on the same delivery). Every group sees every retained
///   record, independently of other groups.
/// - Rebalance: partition `p` belongs to the group's `p % n`th member in join order; every
///   join and leave recomputes that, and a partition changes hands only between records:
///   never do two members of one group handle the same partition at once. Members beyond
///   the number of partitions stay idle until a member leaves.
/// - Backpressure: records stay in the topic's log (bounded by retention) until a member takes
///   one; a member holds at most `max_in_flight` records, so a slow consumer makes nothing
///   buffer. Publishing never waits for consumers; with no retention limits the log grows.
///   A record retention drops while a handler has it stays valid until the handler is done.
/// - Hot path (what makes a push member cheap per record; no effect on what it sees): a
///   worker of a member that owns a single partition of the topic reserves up to 64
///   consecutive deliverable records with one claim (none are copied), hands them to the
///   handler one at a time, and commits the handled ones when it claims again (at once after
///   the last, or earlier when a join, leave, parking, discard, transactional commit or
///   retention drop makes it stop and give the rest back). So `lag` may still count records
///   of a batch in progress, and `topic_stats::delivered` counts a reservation at once. On a
///   scheduler with parallel threads (`thread_pool`), a worker that finds nothing yields to
///   it up to 1024 times, watching for appends, before it parks: a steady producer then
///   wakes no thread per record; once records come, it yields 64 more times before it
///   claims them (well under a microsecond), so they come in batches rather than one claim per
///   append. A worker whose batch emptied its partition yields before its next claim too,
///   adaptively (up to 1024 times, ~10 us on a pool): a consumer as fast as its producer then
///   takes tens of records per claim, not one or two; the handled records' offsets are
///   committed by that next claim. Virtual time never spins.
/// - Errors in handlers: retried on the bus scheduler after the policy's backoff (the
///   partition waits meanwhile: blocking retries keep the order); errors the policy marks
///   non-retryable are not retried; after the last attempt the record goes to `<topic>.DLQ`,
///   same partition number, with the `dead_letter_header` entries, the observer is alerted, and
///   the offset is committed, so a poison record never blocks its partition for good.
///
/// - Dead-letter reprocessing: `dead_letters(filter)` lists them, `reprocess` (one or a batch)
///   republishes to the original topic for the failing group only, `discard` drops one; each
///   action is in `audit_log()`. With `consumer_options::ordered_dead_letters`, a
///   dead-lettered key's later records are parked (per group) until its dead letter is
///   reprocessed and succeeds (or is discarded), then handled in order before later ones.
/// - Transactions (exactly-once inside the bus): `begin_transaction(producer_id)` returns an
///   `eddy::transaction`; what it publishes (to any topics) and the group offsets it commits
///   become visible together at its commit, and never after an abort. Members read with their
///   `consumer_options::isolation` (`read_committed` by default: they wait at a record of an
///   open transaction and skip aborted ones). A push member whose handler fails after its
///   transaction committed the record's offset treats the record as done (no retry).
///
/// Lazy/eager: `publish` and `publish_batch` return lazy awaitables (no coroutine frame; they
/// convert to tasks), the stop of a subscription is a lazy task; topic creation, `subscribe`,
/// `consume` (joining the group), `lag` and `stats` act at once.
/// Where awaiters resume: `publish` completes synchronously, without suspending (the caller
/// continues on its own thread). Handlers run on the bus scheduler (`co_await
/// scheduler.schedule()` before the first record and after each wait for records; a backoff
/// resumes there too).
/// Lifetime: the scheduler must outlive the bus; the bus must outlive every subscription's
/// completed stop and every stream returned by `consume` (assert in the destructor).
/// Thread-safety: every member may be called from any thread concurrently (one lock guards
/// the bus's state; handlers and alerts run outside it).
///
///     eddy::event_bus bus(pool);
///     bus.create_topic<order>("orders", {.partitions = 8});
///     auto sub = bus.subscribe<order>("orders", "billing", bill, {.retry = {.max_attempts = 3}});
///     eddy::publish_result r = co_await bus.publish("orders", o.customer, o);
///     co_await sub.stop();
template <class Scheduler>
class event_bus {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::event_bus<Scheduler>: the type does not model eddy::scheduler (it needs "
                  "schedule(), schedule_after(duration) and now())");

public:
    using scheduler_type = Scheduler;
    using time_point = std::chrono::steady_clock::time_point;
    using duration = std::chrono::steady_clock::duration;

    /// A bus whose handlers, timestamps and backoff run on `s`; `observer` gets its alerts.
    explicit event_bus(Scheduler& s, bus_observer observer = {})
        : m_scheduler(&s), m_observer(std::move(observer)) {}
    event_bus(const event_bus&) = delete;
    event_bus& operator=(const event_bus&) = delete;
    ~event_bus() {
#ifndef NDEBUG
        for (const auto& [name, t] : m_topics) {
            for (const auto& [group, g] : t->groups) {
                assert(g.members.empty() &&
                       "eddy::event_bus destroyed while a subscription or consume stream of it "
                       "is still active");
            }
        }
#endif
    }

    /// The scheduler given at construction.
    [[nodiscard]] Scheduler& scheduler() const noexcept { return *m_scheduler; }

    /// Creates topic `name` of records of type `T`, and its dead-letter topic `name.DLQ`.
    /// Eager. Errors: `eddy::error` for an invalid `config`, a `max_record_bytes` limit on a
    /// type that cannot be measured (see `topic_config`), or when `name` (or `name.DLQ`)
    /// exists with another value type or configuration; creating it again the same way does
    /// nothing. `T` must be copy constructible (dead letters and pull consumers copy it).
    ///
    ///     bus.create_topic<order>("orders", {.partitions = 4, .retention_count = 1000});
    template <class T>
    void create_topic(std::string name, topic_config config = {}) {
        static_assert(std::is_object_v<T> && !std::is_const_v<T>,
                      "eddy::event_bus::create_topic<T>: T must be a non-const object type");
        static_assert(std::is_copy_constructible_v<T>,
                      "eddy::event_bus::create_topic<T>: T must be copy constructible (dead "
                      "letters and pull consumers copy the value)");
        config.validate();
        if (config.max_record_bytes != 0 && !detail::measurable_payload<T>) {
            throw error("eddy::event_bus::create_topic: topic '" + name + "' has a " +
                        "max_record_bytes limit, but its values of type " + typeid(T).name() +
                        " cannot be measured (give them a record_bytes(const T&) function, "
                        "found by argument-dependent lookup)");
        }
        std::lock_guard lock(m_mutex);
        detail::topic_log<T>& t = make_topic<T>(name, config, false);
        if (!t.is_dead_letter && t.dead_letters == nullptr) {
            t.dead_letters = &make_topic<T>(dead_letter_topic(name), config, true);
        }
    }

    /// Whether topic `name` exists.
    [[nodiscard]] bool has_topic(std::string_view name) const {
        std::lock_guard lock(m_mutex);
        return m_topics.find(name) != m_topics.end();
    }

    /// The partition a record with `key` goes to in `topic`. Errors: unknown topic.
    [[nodiscard]] std::size_t partition_for(std::string_view topic, std::string_view key) const {
        std::lock_guard lock(m_mutex);
        const detail::topic_base& t = find_topic(topic, "partition_for");
        return static_cast<std::size_t>(detail::fnv1a_64(key) % t.config.partitions);
    }

    /// What `publish` returns: an awaitable that appends the record when it is awaited and
    /// yields where it landed, without suspending (`await_ready` is true) and without a coroutine
    /// frame. It holds the arguments given to `publish` (moved in), so it may be stored and
    /// awaited later. Await it once: a second await publishes the moved-from values again.
    /// Converts (as an rvalue) to `task<publish_result>` for code that names that type; the
    /// task publishes when awaited, as this does.
    /// Lifetime: the bus must outlive it. Thread-safety: one awaiter at a time.
    ///
    ///     auto op = bus.publish("orders", key, o); // nothing published yet
    ///     eddy::publish_result r = co_await op;    // now
    ///     eddy::task<eddy::publish_result> t = bus.publish("orders", key, o);
    template <class T>
    class [[nodiscard]] publish_awaitable {
    public:
        publish_awaitable(event_bus* bus, std::string topic, std::string key, T value, headers h,
                          std::optional<producer_sequence> seq)
            : m_bus(bus), m_topic(std::move(topic)), m_key(std::move(key)),
              m_value(std::move(value)), m_headers(std::move(h)), m_seq(std::move(seq)) {}

        [[nodiscard]] bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<> /*unused*/) const noexcept {}
        publish_result await_resume() {
            return m_bus->template append_to<T>(m_topic, m_key, m_headers, m_value,
                                                m_seq ? &*m_seq : nullptr);
        }

        // NOLINTNEXTLINE(google-explicit-constructor): source compatibility with task
        operator task<publish_result>() && {
            return as_task(m_bus, std::move(m_topic), std::move(m_key), std::move(m_value),
                           std::move(m_headers), std::move(m_seq));
        }

    private:
        static task<publish_result> as_task(event_bus* bus, std::string topic, std::string key,
                                            T value, headers h,
                                            std::optional<producer_sequence> seq) {
            co_return bus->template append_to<T>(topic, key, h, value, seq ? &*seq : nullptr);
        }

        event_bus* m_bus;
        std::string m_topic;
        std::string m_key;
        T m_value;
        headers m_headers;
        std::optional<producer_sequence> m_seq;
    };

    /// `co_await bus.publish(topic, key, value, headers)` appends a record to the partition of
    /// `key` and yields where it landed. The record's timestamp is the scheduler's `now()` when
    /// the publish is awaited (read before the bus's lock: concurrent publishers to one
    /// partition may land in the other order than their timestamps, by the time the lock took).
    /// Lazy (a `publish_awaitable`: nothing happens until it is awaited); completes
    /// synchronously when awaited (never waits for consumers, never suspends); idle members
    /// owning the partition are woken (they continue on the bus scheduler).
    /// Errors: `eddy::error` when `topic` does not exist or holds another type than `T`;
    /// `eddy::record_too_large` when the record exceeds `topic_config::max_record_bytes`.
    /// Thread-safety: concurrent publishes to one partition are ordered by the bus's lock.
    ///
    ///     eddy::publish_result r = co_await bus.publish("orders", "customer-7", o, {{"v", "2"}});
    template <class T>
    [[nodiscard]] publish_awaitable<T> publish(std::string topic, std::string key, T value,
                                               headers h = {}) {
        return publish_awaitable<T>(this, std::move(topic), std::move(key), std::move(value),
                                    std::move(h), std::nullopt);
    }

    /// The idempotent form: as above, but a publish retried with the same `seq` lands once
    /// (see `producer_sequence` for the rules); a duplicate yields where the original landed.
    /// Errors: as above, and `eddy::error` for a sequence gap or a duplicate older than
    /// `producer_sequence::window` (nothing is appended then).
    ///
    ///     auto r = co_await bus.publish("orders", key, o, {}, {"relay-1", 17});
    template <class T>
    [[nodiscard]] publish_awaitable<T> publish(std::string topic, std::string key, T value,
                                               headers h, producer_sequence seq) {
        return publish_awaitable<T>(this, std::move(topic), std::move(key), std::move(value),
                                    std::move(h), std::move(seq));
    }

    /// What `publish_batch` returns: as `publish_awaitable`, for a batch (yields a
    /// `std::vector<publish_result>`; converts to `task<std::vector<publish_result>>`).
    template <class T>
    class [[nodiscard]] publish_batch_awaitable {
    public:
        publish_batch_awaitable(event_bus* bus, std::string topic,
                                std::vector<producer_record<T>> records)
            : m_bus(bus), m_topic(std::move(topic)), m_records(std::move(records)) {}

        [[nodiscard]] bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<> /*unused*/) const noexcept {}
        std::vector<publish_result> await_resume() {
            return m_bus->template append_batch<T>(m_topic, m_records);
        }

        // NOLINTNEXTLINE(google-explicit-constructor): source compatibility with task
        operator task<std::vector<publish_result>>() && {
            return as_task(m_bus, std::move(m_topic), std::move(m_records));
        }

    private:
        static task<std::vector<publish_result>> as_task(event_bus* bus, std::string topic,
                                                         std::vector<producer_record<T>> records) {
            co_return bus->template append_batch<T>(topic, records);
        }

        event_bus* m_bus;
        std::string m_topic;
        std::vector<producer_record<T>> m_records;
    };

    /// `co_await bus.publish_batch(topic, records)` appends `records` to `topic` as one
    /// `publish` each would (partition by key, offsets, retention, consumers woken), with one
    /// lock and one clock read for the whole batch, and yields where each landed, in order.
    /// Differences from publishing one at a time: every record of the batch gets the same
    /// timestamp (the scheduler's `now()` when the batch is awaited); no other publish lands
    /// between two records of the batch in a partition; a record that is too large or a wrong
    /// topic appends none of the batch. No idempotent form (use `publish` with a
    /// `producer_sequence`) and not part of `message_bus` (an addition of this bus).
    /// Lazy (nothing happens until awaited); completes synchronously when awaited.
    /// Errors: as `publish`, checked for every record before any is appended (an allocation
    /// failure while appending may leave a prefix of the batch appended).
    /// Thread-safety: as `publish`.
    ///
    ///     std::vector<eddy::producer_record<order>> batch;
    ///     for (const order& o : orders) batch.push_back({o.customer, o});
    ///     auto where = co_await bus.publish_batch("orders", std::move(batch)); // in order
    template <class T>
    [[nodiscard]] publish_batch_awaitable<T>
    publish_batch(std::string topic, std::vector<producer_record<T>> records) {
        return publish_batch_awaitable<T>(this, std::move(topic), std::move(records));
    }

    /// Joins consumer group `group` of `topic` as a push member: the bus calls
    /// `co_await handler(record)` for each record of the partitions assigned to the member, and
    /// commits its offset when the handler succeeds. `handler` is called with a
    /// `const record<T>&` (the stored record, shared by all groups; valid until the returned
    /// awaitable finishes) or, if it only accepts `record<T>&`, with a copy made per attempt;
    /// it returns an awaitable (typically `eddy::task<void>`). With `max_in_flight > 1` it is
    /// called concurrently (for different partitions).
    /// Eager: the member joins (a rebalance) before `subscribe` returns; a new group starts at
    /// `options.start`. Handlers run on the bus scheduler with the subscription's stop token.
    /// Retries and dead letters: see the class comment and `consumer_options`. An
    /// `eddy::operation_cancelled` from a handler after `subscription::cancel()` abandons the
    /// record (redelivered); otherwise it is an error like any other (never retried). A
    /// record of a dead-letter topic (which has none of its own) that exhausts its attempts
    /// is not committed: the member stops, and `subscription::stop()` rethrows its error.
    /// Errors: `eddy::error` for an unknown topic, another type, or invalid `options` (eager).
    /// Lifetime: the handler is moved into the member and lives until its stop completes. A
    /// capturing lambda must not itself be a coroutine (g++ 12 miscompiles those): let it
    /// return the task of a coroutine that takes its state by value, as below.
    ///
    ///     auto sub = bus.subscribe<order>("orders", "billing",
    ///                                     [&ledger](const eddy::record<order>& r) {
    ///                                         return bill(&ledger, r.value); });
    template <class T, class Handler>
    [[nodiscard]] subscription subscribe(std::string topic, std::string group, Handler handler,
                                         consumer_options options = {}) {
        constexpr bool by_const = std::is_invocable_v<Handler&, const record<T>&>;
        constexpr bool by_ref = std::is_invocable_v<Handler&, record<T>&>;
        static_assert(by_const || by_ref,
                      "eddy::event_bus::subscribe<T>: the handler must be callable with a "
                      "const eddy::record<T>& (or an eddy::record<T>&)");
        if constexpr (by_const || by_ref) {
            using result =
                std::invoke_result_t<Handler&,
                                     std::conditional_t<by_const, const record<T>&, record<T>&>>;
            static_assert(eddy::awaitable<result>,
                          "eddy::event_bus::subscribe<T>: the handler must return an awaitable "
                          "(e.g. eddy::task<void>)");
        }
        options.validate();
        auto member = std::make_shared<push_member<T, Handler>>(this, std::move(group),
                                                                std::move(handler), options);
        {
            std::lock_guard lock(m_mutex);
            member->topic = &typed_topic<T>(topic, "subscribe");
            member->group = &join(*member->topic, member->group_name, member, options.start);
        }
        wake_group(*member->group);
        for (std::size_t i = 0; i < options.max_in_flight; ++i) {
            member->scope.spawn(push_worker<T, Handler>(this, member.get()));
        }
        return subscription(std::move(member));
    }

    /// Joins consumer group `group` of `topic` as a pull member: the stream yields copies of
    /// the records of the partitions assigned to it, in order per partition. A record's offset
    /// is committed when the consumer pulls the next one (`next()`); destroying the stream
    /// leaves the group and does NOT commit the last record yielded, which is delivered again
    /// to another (or a later) member. One record in flight (no look-ahead); no retries or
    /// dead letters in this form (the consumer handles its errors).
    /// Eager: joins (a rebalance) before returning; the stream is lazy and endless: `next()`
    /// waits for a record (on the awaiting coroutine's stop token: a stop request ends it with
    /// `eddy::operation_cancelled`) and then resumes on the bus scheduler; a record already
    /// there is yielded without suspending.
    /// Errors: `eddy::error` for an unknown topic, another type or invalid options (eager);
    /// `next()` throws `eddy::offset_out_of_range` when the group is behind retention and
    /// `options.on_out_of_range` is `none`. A stream that ended that way (or by cancellation)
    /// has left the group at once; its partitions go to the remaining members.
    /// Lifetime: the bus must outlive the stream. Thread-safety: see `eddy::stream`.
    ///
    ///     auto s = bus.consume<order>("orders", "audit");
    ///     for (auto r = co_await s.next(); r; r = co_await s.next()) audit(r->value);
    template <class T>
    [[nodiscard]] stream<record<T>> consume(std::string topic, std::string group,
                                            consumer_options options = {}) {
        options.validate();
        pull_membership<T> m;
        m.bus = this;
        m.group_name = std::move(group);
        m.member = std::make_shared<detail::group_member>();
        {
            std::lock_guard lock(m_mutex);
            m.topic = &typed_topic<T>(topic, "consume");
            m.group = &join(*m.topic, m.group_name, m.member, options.start);
        }
        wake_group(*m.group);
        return pull<T>(std::move(m), options.on_out_of_range, options.isolation);
    }

    /// Per partition of `topic`: how many records group `group` has not committed yet (the
    /// partition's end offset minus the group's committed offset; records in flight count,
    /// and so do records retention dropped before the group read them).
    /// Errors: `eddy::error` for an unknown topic or a group that never had a member.
    [[nodiscard]] std::vector<std::uint64_t> lag(std::string_view topic,
                                                 std::string_view group) const {
        std::lock_guard lock(m_mutex);
        const detail::topic_base& t = find_topic(topic, "lag");
        auto it = t.groups.find(group);
        if (it == t.groups.end()) {
            throw error("eddy::event_bus::lag: topic '" + std::string(topic) +
                        "' has no consumer group '" + std::string(group) + "'");
        }
        std::vector<std::uint64_t> out(t.config.partitions);
        for (std::size_t p = 0; p < out.size(); ++p) {
            out[p] = t.end[p] - it->second.committed[p];
        }
        return out;
    }

    /// Per partition of `topic`: the earliest retained offset (after applying age retention at
    /// `now()`). Errors: unknown topic.
    [[nodiscard]] std::vector<std::uint64_t> begin_offsets(std::string_view topic) {
        std::lock_guard lock(m_mutex);
        detail::topic_base& t = find_topic(topic, "begin_offsets");
        t.prune(m_scheduler->now());
        return t.begin;
    }

    /// Per partition of `topic`: the offset the next record will get. Errors: unknown topic.
    [[nodiscard]] std::vector<std::uint64_t> end_offsets(std::string_view topic) const {
        std::lock_guard lock(m_mutex);
        return find_topic(topic, "end_offsets").end;
    }

    /// A snapshot of the counters of `topic` (see `topic_stats`). Errors: unknown topic.
    [[nodiscard]] topic_stats stats(std::string_view topic) const {
        std::lock_guard lock(m_mutex);
        return find_topic(topic, "stats").stats;
    }

    /// Lists the retained dead letters of every dead-letter topic that match `filter` (by
    /// original topic, error type and status; pending ones by default), by dead-letter topic,
    /// partition and offset. Eager snapshot. Thread-safety: any thread.
    ///
    ///     for (const auto& d : bus.dead_letters({.topic = "orders"})) ...
    [[nodiscard]] std::vector<dead_letter_entry> dead_letters(dead_letter_filter filter = {}) {
        std::lock_guard lock(m_mutex);
        std::vector<dead_letter_entry> out;
        for (auto& [name, t] : m_topics) {
            if (!t->is_dead_letter) {
                continue;
            }
            t->prune(m_scheduler->now());
            for (std::size_t p = 0; p < t->config.partitions; ++p) {
                for (std::uint64_t o = t->begin[p]; o < t->end[p]; ++o) {
                    const eddy::headers& h = t->headers_at(p, o);
                    auto text = [&h](std::string_view k) {
                        const auto v = h.get(k);
                        return v ? std::string(*v) : std::string();
                    };
                    dead_letter_entry e;
                    e.id = {name, p, o};
                    e.topic = text(dead_letter_header::topic);
                    e.error_type = text(dead_letter_header::error_type);
                    auto st = m_dead_letter_status.find(e.id.str());
                    e.status =
                        st == m_dead_letter_status.end() ? dead_letter_status::pending : st->second;
                    if ((!filter.topic.empty() && filter.topic != e.topic) ||
                        (!filter.error_type.empty() && filter.error_type != e.error_type) ||
                        (filter.status && *filter.status != e.status)) {
                        continue;
                    }
                    e.partition = std::stoul(text(dead_letter_header::partition));
                    e.offset = std::stoull(text(dead_letter_header::offset));
                    e.group = text(dead_letter_header::group);
                    e.key = t->key_at(p, o);
                    e.error_message = text(dead_letter_header::error_message);
                    e.attempts = std::stoul(text(dead_letter_header::attempts));
                    e.history = text(dead_letter_header::history);
                    out.push_back(std::move(e));
                }
            }
        }
        return out;
    }

    /// `co_await bus.reprocess(id, who)` republishes dead letter `id` to its original topic
    /// (same key, so the same partition; its headers without the failure's, plus
    /// `dead_letter_header::reprocess_of` and `reprocess_for`: only the group that
    /// dead-lettered it gets it), marks it reprocessed, counts `topic_stats::reprocessed` on the
    /// original topic and appends an audit record naming `who`. If it fails again it returns
    /// to the DLQ as a new dead letter whose `history` header lists every failure. Lazy;
    /// completes synchronously. Errors: `eddy::error` for an unknown, dropped, already
    /// reprocessed or discarded dead letter (nothing is done then).
    [[nodiscard]] task<publish_result> reprocess(dead_letter_id id, std::string who) {
        wake_list woken;
        publish_result r;
        {
            std::lock_guard lock(m_mutex);
            r = reprocess_locked(id, who, woken);
        }
        wake(woken);
        co_return r;
    }

    /// The batch form: every dead letter of `ids` in order, or none (all are checked first).
    [[nodiscard]] task<std::vector<publish_result>> reprocess(std::vector<dead_letter_id> ids,
                                                              std::string who) {
        wake_list woken;
        std::vector<publish_result> out;
        {
            std::lock_guard lock(m_mutex);
            for (std::size_t i = 0; i < ids.size(); ++i) {
                locate(ids[i], "reprocess");
                for (std::size_t j = 0; j < i; ++j) {
                    if (ids[j] == ids[i]) {
                        throw error("eddy::event_bus::reprocess: dead letter " + ids[i].str() +
                                    " is given twice");
                    }
                }
            }
            for (const dead_letter_id& id : ids) {
                out.push_back(reprocess_locked(id, who, woken));
            }
        }
        wake(woken);
        co_return out;
    }

    /// Discards dead letter `id` (marks it discarded, counts `topic_stats::discarded`, appends
    /// an audit record naming `who`). With ordered dead-lettering, records parked behind it are
    /// released (handled in order). Eager. Errors: as `reprocess`.
    void discard(const dead_letter_id& id, const std::string& who) {
        wake_list woken;
        {
            std::lock_guard lock(m_mutex);
            located_dead_letter d = locate(id, "discard");
            ++d.original->stats.discarded;
            m_dead_letter_status.emplace(id.str(), dead_letter_status::discarded);
            m_audit.push_back({dead_letter_audit::action::discard, who, m_scheduler->now(), id,
                               d.original->name, publish_result{}});
            auto g = d.original->groups.find(d.group);
            if (g != d.original->groups.end()) {
                for (auto& [key, pk] : g->second.parked) {
                    if (pk.head == id.str()) {
                        pk.st = detail::consumer_group::parked_key::state::releasing;
                        g->second.bump();
                        if (g->second.busy[pk.partition] == 0) {
                            notify_owner(g->second, pk.partition, woken);
                        }
                    }
                }
            }
        }
        wake(woken);
    }

    /// Every reprocess and discard so far, oldest first.
    [[nodiscard]] std::vector<dead_letter_audit> audit_log() const {
        std::lock_guard lock(m_mutex);
        return m_audit;
    }

    /// Per error type (`dead_letter_header::error_type`): records of `topic` dead-lettered.
    [[nodiscard]] std::map<std::string, std::uint64_t>
    dead_lettered_by_error(std::string_view topic) const {
        std::lock_guard lock(m_mutex);
        find_topic(topic, "dead_lettered_by_error");
        auto it = m_dead_lettered_by_error.find(topic);
        return it == m_dead_lettered_by_error.end() ? std::map<std::string, std::uint64_t>{}
                                                    : it->second;
    }

    /// Begins a transaction of producer `producer_id` (see `eddy::transaction`): records it
    /// publishes and offsets it commits become visible together at `co_await tx.commit()`.
    /// Eager: bumps the id's epoch, which fences the id's previous transactions (their
    /// `publish`/`commit` throw `eddy::producer_fenced`) and aborts the one still open.
    /// Errors: `eddy::error` for an empty id.
    /// Lifetime: the bus must outlive the transaction. Thread-safety: any thread.
    ///
    ///     auto tx = bus.begin_transaction("relay-1");
    ///     co_await tx.publish("orders", key, o);
    ///     co_await tx.commit();
    [[nodiscard]] transaction begin_transaction(std::string producer_id) {
        if (producer_id.empty()) {
            throw error("eddy::event_bus::begin_transaction: the producer id must not be empty");
        }
        auto tx = std::make_shared<txn_impl>(this, std::move(producer_id));
        wake_list woken;
        {
            std::lock_guard lock(m_mutex);
            producer_epoch& pe = m_producers[tx->id];
            ++pe.epoch;
            if (pe.open) {
                end_marker(*pe.open, detail::txn_status::aborted, woken);
            }
            tx->ep = pe.epoch;
            pe.open = tx->marker;
        }
        wake(woken);
        return transaction(std::move(tx));
    }

private:
    using wake_list = std::vector<std::shared_ptr<detail::group_member>>;

    // ----- topics (callers hold m_mutex) -----

    template <class T>
    detail::topic_log<T>& make_topic(const std::string& name, const topic_config& config,
                                     bool dead_letter) {
        auto it = m_topics.find(name);
        if (it == m_topics.end()) {
            auto t = std::make_unique<detail::topic_log<T>>(name, std::type_index(typeid(T)),
                                                            typeid(T).name(), config, dead_letter);
            it = m_topics.emplace(name, std::move(t)).first;
            return static_cast<detail::topic_log<T>&>(*it->second);
        }
        detail::topic_base& existing = *it->second;
        if (existing.type != std::type_index(typeid(T))) {
            throw error("eddy::event_bus::create_topic: topic '" + name +
                        "' exists with values of type " + existing.type_name + ", not " +
                        typeid(T).name());
        }
        if (!(existing.config == config)) {
            throw error("eddy::event_bus::create_topic: topic '" + name +
                        "' exists with another configuration (partitions " +
                        std::to_string(existing.config.partitions) + ", retention_count " +
                        std::to_string(existing.config.retention_count) + ")");
        }
        return static_cast<detail::topic_log<T>&>(existing);
    }

    detail::topic_base& find_topic(std::string_view name, const char* op) const {
        auto it = m_topics.find(name);
        if (it == m_topics.end()) {
            throw error(std::string("eddy::event_bus::") + op + ": unknown topic '" +
                        std::string(name) + "' (create it with create_topic first)");
        }
        return *it->second;
    }

    template <class T>
    detail::topic_log<T>& typed_topic(std::string_view name, const char* op) const {
        detail::topic_base& t = find_topic(name, op);
        if (t.type != std::type_index(typeid(T))) {
            throw error(std::string("eddy::event_bus::") + op + ": topic '" + std::string(name) +
                        "' holds values of type " + t.type_name + ", not " + typeid(T).name());
        }
        return static_cast<detail::topic_log<T>&>(t);
    }

    // Without the lock: the body of both publish forms (the pieces are moved from once the
    // record goes in). The key is hashed and the timestamp read before the lock, which then
    // only moves the pieces into the log: the critical section producers and consumers contend
    // for stays short.
    template <class T>
    publish_result append_to(std::string& topic, std::string& key, headers& h, T& value,
                             const producer_sequence* seq) {
        const std::uint64_t hash = detail::fnv1a_64(key);
        const time_point now = m_scheduler->now();
        wake_list woken;
        publish_result result;
        {
            std::lock_guard lock(m_mutex);
            detail::topic_log<T>& t = typed_topic<T>(topic, "publish");
            check_size(t, key, h, &value);
            const auto p = static_cast<std::size_t>(hash % t.config.partitions);
            detail::producer_partition* producer = nullptr;
            if (seq != nullptr) {
                auto it = t.producers.find(seq->producer);
                if (it == t.producers.end()) {
                    it = t.producers
                             .emplace(seq->producer,
                                      std::vector<detail::producer_partition>(t.config.partitions))
                             .first;
                }
                producer = &it->second[p];
                if (std::optional<publish_result> original = duplicate(t, *producer, *seq, p)) {
                    ++t.stats.deduplicated;
                    return *original;
                }
            }
            result = t.append_parts(p, topic, key, h, value, now, nullptr);
            if (producer != nullptr) {
                producer->any = true;
                producer->last = seq->sequence;
                producer->recent.emplace_back(seq->sequence, result.offset);
                if (producer->recent.size() > producer_sequence::window) {
                    producer->recent.pop_front();
                }
            }
            collect_owner(t, p, woken);
        }
        wake(woken);
        return result;
    }

    // Without the lock: the body of publish_batch (the records are moved from once appended).
    template <class T>
    std::vector<publish_result> append_batch(const std::string& topic,
                                             std::vector<producer_record<T>>& records) {
        // Each key's hash waits in its result's offset until the lock gives the partition count.
        std::vector<publish_result> out(records.size());
        for (std::size_t i = 0; i < records.size(); ++i) {
            out[i].offset = detail::fnv1a_64(records[i].key);
        }
        const time_point now = m_scheduler->now();
        wake_list woken;
        {
            std::lock_guard lock(m_mutex);
            detail::topic_log<T>& t = typed_topic<T>(topic, "publish_batch");
            for (producer_record<T>& r : records) {
                check_size(t, r.key, r.headers, &r.value);
            }
            for (std::size_t i = 0; i < records.size(); ++i) {
                const auto p = static_cast<std::size_t>(out[i].offset % t.config.partitions);
                std::string name = t.name;
                out[i] = t.append_parts(p, name, records[i].key, records[i].headers,
                                        records[i].value, now, nullptr);
            }
            for (std::size_t i = 0; i < out.size(); ++i) {
                if (i == 0 || out[i].partition != out[i - 1].partition) {
                    collect_owner(t, out[i].partition, woken);
                }
            }
        }
        wake(woken);
        return out;
    }

    // Under the lock: throws record_too_large when the record exceeds the topic's limit.
    static void check_size(const detail::topic_base& t, const std::string& key, const headers& h,
                           const void* value) {
        if (t.config.max_record_bytes == 0) {
            return;
        }
        const std::size_t size = t.bytes_of(key, h, value);
        if (size > t.config.max_record_bytes) {
            throw record_too_large(t.name, size, t.config.max_record_bytes);
        }
    }

    // Under the lock: where the original of a duplicate landed, nothing for the next sequence,
    // or an error (a gap, a duplicate too old to tell).
    static std::optional<publish_result> duplicate(const detail::topic_base& t,
                                                   const detail::producer_partition& producer,
                                                   const producer_sequence& seq, std::size_t p) {
        if (!producer.any || seq.sequence == producer.last + 1) {
            return std::nullopt;
        }
        for (const auto& [sequence, offset] : producer.recent) {
            if (sequence == seq.sequence) {
                return publish_result{p, offset};
            }
        }
        const std::string where = "producer '" + seq.producer + "' on topic '" + t.name +
                                  "' partition " + std::to_string(p) + ": sequence " +
                                  std::to_string(seq.sequence) + ", last accepted " +
                                  std::to_string(producer.last);
        if (seq.sequence > producer.last) {
            throw error("eddy::event_bus::publish: sequence gap for " + where +
                        " (each sequence must be the last + 1)");
        }
        throw error("eddy::event_bus::publish: duplicate older than the remembered window for " +
                    where);
    }

    // ----- groups (callers hold m_mutex unless said otherwise) -----

    detail::consumer_group& join(detail::topic_base& t, const std::string& group,
                                 std::shared_ptr<detail::group_member> member, offset_reset start) {
        auto it = t.groups.find(group);
        if (it == t.groups.end()) {
            t.prune(m_scheduler->now());
            it = t.groups.try_emplace(group).first;
            detail::consumer_group& g = it->second;
            g.committed = start == offset_reset::latest ? t.end : t.begin;
            g.busy.assign(t.config.partitions, 0);
            g.pin.assign(t.config.partitions, no_pin);
            g.topic = &t;
        }
        it->second.members.push_back(std::move(member));
        it->second.bump();
        return it->second;
    }

    // Without the lock: wakes every member of the group (after a join: partitions moved).
    void wake_group(detail::consumer_group& g) {
        wake_list woken;
        {
            std::lock_guard lock(m_mutex);
            woken = g.members;
        }
        wake(woken);
    }

    // Without the lock: `member` leaves the group (idempotent); its in-flight records are not
    // touched (their worker finishes them); everyone left is woken (a rebalance).
    void leave(detail::consumer_group& g, detail::group_member& member) {
        wake_list woken;
        {
            std::lock_guard lock(m_mutex);
            member.leaving = true;
            for (auto it = g.members.begin(); it != g.members.end(); ++it) {
                if (it->get() == &member) {
                    g.members.erase(it);
                    break;
                }
            }
            g.bump();
            woken = g.members;
        }
        member.wake.set();
        wake(woken);
    }

    // Under the lock: the members owning partition `p` of `t` in each group, if the partition
    // is free there and the member is idle (see group_member::idle).
    void collect_owner(detail::topic_base& t, std::size_t p, wake_list& woken) {
        for (auto& [name, g] : t.groups) {
            if (g.busy[p] == 0) {
                notify_owner(g, p, woken);
            }
        }
    }

    // Under the lock: the owner of `p` in `g` if it is idle (its idle -> ready transition; a
    // member that is not idle claims again after this change anyway).
    static void notify_owner(detail::consumer_group& g, std::size_t p, wake_list& woken) {
        if (g.members.empty()) {
            return;
        }
        const std::shared_ptr<detail::group_member>& m = g.members[p % g.members.size()];
        if (m->idle.load(std::memory_order_relaxed)) {
            m->idle.store(false, std::memory_order_release);
            woken.push_back(m);
        }
    }

    static void wake(wake_list& woken) {
        for (auto& m : woken) {
            m->wake.set();
        }
    }

    // consumer_group::pin of a partition whose record in hand is not in the log (parked).
    static constexpr std::uint64_t no_pin = ~std::uint64_t{0};

    template <class T>
    struct claim_result {
        enum class kind { work, idle, leave, out_of_range };
        kind what = kind::idle;
        std::size_t partition = 0;
        // In the log (pinned there while its partition is busy in the group), or in `holder`.
        const eddy::record<T>* record = nullptr;
        std::exception_ptr error;
        bool parked = false; // a record released from the group's parking (ordered DLQ)
        typename detail::topic_log<T>::record_ptr holder{}; // parked: owns `record`
    };

    // The records a push worker reserved with one claim: consecutive offsets of one partition,
    // all deliverable to its group, handed to the handler one at a time. The worker handles
    // them while the group's and the topic's generations stay what they were at the claim
    // (no join, leave, parking, discard, transactional commit or retention drop since); when
    // one moved, it settles and claims again, so what it handles is exactly what one claim per
    // record would have given it.
    template <class T>
    struct batch {
        std::vector<const record<T>*> records; // in the log, pinned from records[0]
        std::size_t partition = 0;
        std::size_t handled = 0; // committed at the settlement: records[0, handled)
        bool open = false;       // reserved and not settled yet (the partition is busy)
        bool drained = false;    // shorter than max_batch only because the partition ended
        std::uint64_t gen = 0;   // consumer_group::gen at the claim
        std::uint64_t drops = 0; // topic_base::drops at the claim

        [[nodiscard]] bool valid(const detail::consumer_group& g,
                                 const detail::topic_base& t) const noexcept {
            return g.gen.load(std::memory_order_acquire) == gen &&
                   t.drops.load(std::memory_order_acquire) == drops;
        }
    };

    // Most records one claim reserves: bounds how long a reservation delays a settlement.
    static constexpr std::size_t max_batch = 64;

    // An idle push worker re-checks for this many yields before it parks, on schedulers whose
    // threads run in parallel (they tell their `thread_count()`): waking a parked pool thread
    // costs a futex call per record otherwise. A deterministic scheduler (virtual time) never
    // spins: it would only reorder its run queue.
    static constexpr bool spins_when_idle = requires(Scheduler & s) { s.thread_count(); };
    static constexpr std::size_t idle_spins = 1024;
    // Once records arrive for an idle worker, it yields this many more times before it
    // claims, so they come in batches: a worker that claimed each record as it landed would
    // take the bus's lock as often as the producer, and each claim moves the lock's and the
    // topic's cache lines between the two threads (the producer's next append then misses).
    // Bounded delay: well under a microsecond on a thread pool (a yield there costs ~10 ns).
    static constexpr std::size_t gather_yields = 64;
    // A busy worker whose claim emptied its partition (a consumer as fast as its producer)
    // would otherwise claim again at once and get a record or two per claim, with the same
    // lock and cache-line traffic per record. It yields before that claim, adapting how long:
    // twice as long after a drained batch under half of max_batch, half as long after a full
    // one, and from none again after a claim that found nothing (records that come one at a
    // time, a request and then its reply, are not held back). Measured, 1 partition 1 group:
    // ~2 records per claim became ~40, and the throughput tripled. The cap bounds the added
    // latency to ~10 us on a thread pool; a handled record's offset is committed by the claim
    // that follows.
    static constexpr std::size_t max_gather = 1024;

    // Under the lock: commits the handled records of `b`, gives the rest back and frees its
    // partition (unless `keep_busy`: the worker goes on with the next record itself).
    template <class T>
    void settle_locked(detail::topic_log<T>& t, detail::consumer_group& g, batch<T>& b,
                       bool keep_busy, wake_list& woken) {
        if (!b.open) {
            return;
        }
        b.open = false;
        const std::size_t p = b.partition;
        if (b.handled != 0) { // max: a transaction may have committed them already
            g.committed[p] = std::max(g.committed[p], b.records[b.handled - 1]->offset + 1);
        }
        t.stats.delivered -= b.records.size() - b.handled - (keep_busy ? 1 : 0);
        if (!keep_busy) {
            g.busy[p] = 0;
            t.trim(p);
            notify_owner(g, p, woken);
        }
    }

    // Without the lock: as settle_locked with keep_busy: records[handled] stays in hand (it
    // failed and goes on in `process`), the ones after it are given back.
    template <class T>
    void settle_before_failure(detail::topic_log<T>& t, detail::consumer_group& g, batch<T>& b) {
        wake_list woken;
        std::lock_guard lock(m_mutex);
        settle_locked(t, g, b, true, woken);
    }

    // Without the lock: the next record for `member`, from a partition it owns that has no
    // record in flight in the group (round robin over partitions); marks that partition busy.
    // `idle` marks the member idle and resets its wake event under the lock (see
    // group_member::wake and idle). A push worker passes its batch `b`: the previous one is
    // settled first (same lock), and a member owning a single partition of the topic reserves
    // up to `max_batch` consecutive deliverable records (`record` is then records[0]).
    template <class T>
    claim_result<T> claim(detail::topic_log<T>& t, detail::consumer_group& g,
                          const std::string& group, detail::group_member& member,
                          offset_reset on_out_of_range, isolation iso, batch<T>* b = nullptr) {
        wake_list woken;
        claim_result<T> c;
        {
            std::lock_guard lock(m_mutex);
            if (b != nullptr) {
                settle_locked(t, g, *b, false, woken);
                b->records.clear();
                b->handled = 0;
            }
            c = claim_locked(t, g, group, member, on_out_of_range, iso, b);
        }
        wake(woken);
        return c;
    }

    template <class T>
    claim_result<T> claim_locked(detail::topic_log<T>& t, detail::consumer_group& g,
                                 const std::string& group, detail::group_member& member,
                                 offset_reset on_out_of_range, isolation iso, batch<T>* b) {
        using kind = typename claim_result<T>::kind;
        if (member.leaving) {
            return {kind::leave, 0, nullptr, nullptr};
        }
        if (t.config.retention_age != topic_config::duration::zero()) {
            t.prune(m_scheduler->now());
        }
        const std::size_t n = t.config.partitions;
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t p = (member.cursor + i) % n;
            if (g.owner(p) != &member || g.busy[p] != 0) {
                continue;
            }
            if (!g.parked.empty()) { // released parked records go before the log
                if (auto rec = release_parked<T>(g, p)) {
                    g.busy[p] = 1;
                    g.pin[p] = no_pin;
                    member.cursor = p + 1;
                    ++t.stats.delivered;
                    const record<T>* r = rec.get();
                    return {kind::work, p, r, nullptr, true, std::move(rec)};
                }
            }
            std::uint64_t& position = g.committed[p];
            if (position < t.begin[p]) {
                if (on_out_of_range == offset_reset::none) {
                    return {kind::out_of_range, p, nullptr,
                            std::make_exception_ptr(
                                offset_out_of_range(t.name, group, p, position, t.begin[p]))};
                }
                position = on_out_of_range == offset_reset::earliest ? t.begin[p] : t.end[p];
            }
            // Skips (in order) what this member must not get: aborted records (read_committed;
            // it stops at an open one), records reprocessed for another group, and records of
            // a parked key (kept in the parking, behind their dead-lettered head).
            const record<T>* found = nullptr;
            for (; position < t.end[p]; ++position) {
                const auto& e = t.at(p, position);
                if (iso == isolation::read_committed && e.txn &&
                    e.txn->status != detail::txn_status::committed) {
                    if (e.txn->status == detail::txn_status::open) {
                        break;
                    }
                    continue;
                }
                const record<T>& r = e.rec;
                std::optional<std::string_view> of;
                if (!r.headers.empty()) {
                    const auto for_group = r.headers.get(dead_letter_header::reprocess_for);
                    if (for_group && *for_group != group) {
                        continue;
                    }
                    of = r.headers.get(dead_letter_header::reprocess_of);
                }
                if (!g.parked.empty()) {
                    auto it = g.parked.find(r.key);
                    if (it != g.parked.end()) {
                        auto& pk = it->second;
                        if (!of || *of != pk.head ||
                            pk.st == detail::consumer_group::parked_key::state::releasing) {
                            pk.successors.push_back(std::make_shared<const record<T>>(r));
                            ++t.stats.parked;
                            continue;
                        }
                        pk.st = detail::consumer_group::parked_key::state::head_in_flight;
                        pk.head_offset = position;
                    }
                }
                found = &r;
                break;
            }
            if (!found) {
                continue;
            }
            g.busy[p] = 1;
            g.pin[p] = found->offset;
            member.cursor = p + 1;
            ++t.stats.delivered;
            if (b != nullptr) {
                reserve_batch(t, g, group, iso, p, found, *b);
            }
            return {kind::work, p, found, nullptr};
        }
        member.idle.store(true, std::memory_order_relaxed);
        member.wake.reset();
        return {kind::idle, 0, nullptr, nullptr};
    }

    // Under the lock: `first` (just claimed from `p`) and the deliverable records right after
    // it go into `b`, if the member owns no other partition of the topic (so round robin
    // between its partitions is unaffected), ages do not expire records and the group parks
    // nothing. It stops before anything the claim loop would skip or stop at.
    template <class T>
    void reserve_batch(detail::topic_log<T>& t, detail::consumer_group& g, const std::string& group,
                       isolation iso, std::size_t p, const record<T>* first, batch<T>& b) {
        b.records.push_back(first);
        b.partition = p;
        b.open = true;
        b.drained = false;
        b.gen = g.gen.load(std::memory_order_relaxed);
        b.drops = t.drops.load(std::memory_order_relaxed);
        const std::size_t n = t.config.partitions;
        const std::size_t m = g.members.size();
        // This member owns the partitions q with q % m == p % m: only p when p % m + m >= n.
        if (p % m + m < n || !g.parked.empty() ||
            t.config.retention_age != topic_config::duration::zero()) {
            return;
        }
        const std::uint64_t last = std::min<std::uint64_t>(t.end[p], first->offset + max_batch);
        for (std::uint64_t o = first->offset + 1; o < last; ++o) {
            const auto& e = t.at(p, o);
            if (o >= t.marked_end[p]) { // plain: neither transactional nor with headers
                b.records.push_back(&e.rec);
                continue;
            }
            if (iso == isolation::read_committed && e.txn &&
                e.txn->status != detail::txn_status::committed) {
                break;
            }
            if (!e.rec.headers.empty()) {
                const auto for_group = e.rec.headers.get(dead_letter_header::reprocess_for);
                if (for_group && *for_group != group) {
                    break;
                }
            }
            b.records.push_back(&e.rec);
        }
        t.stats.delivered += b.records.size() - 1;
        b.drained = b.records.size() < max_batch && first->offset + b.records.size() == t.end[p];
    }

    // Under the lock: the next parked record of partition `p` that is released (its key's
    // republished head succeeded: the group moved past it), or null.
    template <class T>
    typename detail::topic_log<T>::record_ptr release_parked(detail::consumer_group& g,
                                                             std::size_t p) {
        using state = detail::consumer_group::parked_key::state;
        for (auto it = g.parked.begin(); it != g.parked.end();) {
            auto& pk = it->second;
            if (pk.partition != p) {
                ++it;
                continue;
            }
            if (pk.st == state::head_in_flight && g.committed[p] > pk.head_offset) {
                pk.st = state::releasing;
            }
            if (pk.st != state::releasing) {
                ++it;
                continue;
            }
            if (pk.successors.empty()) {
                it = g.parked.erase(it);
                continue;
            }
            auto rec = std::static_pointer_cast<const record<T>>(pk.successors.front());
            pk.successors.pop_front();
            return rec;
        }
        return nullptr;
    }

    // Without the lock: a released parked record given back (its member left mid-record)
    // goes back to the front of its key's parking.
    template <class T>
    void unpark_front(detail::consumer_group& g,
                      const typename detail::topic_log<T>::record_ptr& rec) {
        std::lock_guard lock(m_mutex);
        g.bump();
        auto& pk = g.parked[rec->key];
        pk.partition = rec->partition;
        pk.st = detail::consumer_group::parked_key::state::releasing;
        pk.successors.push_front(rec);
    }

    // Without the lock: a record a member did not finish goes back (a released parked one to
    // its parking, the others stay in the log uncommitted).
    template <class T>
    void give_back(detail::consumer_group& g, const record<T>& rec,
                   const typename detail::topic_log<T>::record_ptr& holder) {
        const std::size_t p = rec.partition;
        const std::uint64_t offset = rec.offset;
        if (holder) {
            unpark_front<T>(g, holder);
        }
        finish(g, p, offset, false);
    }

    // Without the lock: the record at `offset` of `p` is done (committed) or given back.
    void finish(detail::consumer_group& g, std::size_t p, std::uint64_t offset, bool commit) {
        wake_list woken;
        {
            std::lock_guard lock(m_mutex);
            if (commit) { // max: a transaction may have committed it already
                g.committed[p] = std::max(g.committed[p], offset + 1);
            }
            g.busy[p] = 0;
            g.topic->trim(p);
            notify_owner(g, p, woken);
        }
        wake(woken);
    }

    bool committed_past(const detail::consumer_group& g, std::size_t p, std::uint64_t offset) {
        std::lock_guard lock(m_mutex);
        return g.committed[p] > offset;
    }

    void count_retry(detail::topic_base& t) {
        std::lock_guard lock(m_mutex);
        ++t.stats.retried;
    }

    // Without the lock: sends `rec` to the topic's dead-letter topic (same partition), commits
    // it, and returns the alert for the observer.
    template <class T>
    dead_letter_alert dead_letter(detail::topic_log<T>& t, detail::consumer_group& g,
                                  const std::string& group, const record<T>& rec,
                                  const std::exception_ptr& failure, std::size_t attempts,
                                  time_point first_failure, time_point last_failure, bool ordered) {
        dead_letter_alert alert;
        alert.topic = t.name;
        alert.group = group;
        alert.partition = rec.partition;
        alert.offset = rec.offset;
        alert.error_type = "unknown";
        alert.attempts = attempts;
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            alert.error_type = typeid(e).name();
            alert.error_message = e.what();
        } catch (...) {
        }
        eddy::headers h = rec.headers;
        h.erase(dead_letter_header::reprocess_of); // stale once it failed again
        h.erase(dead_letter_header::reprocess_for);
        {
            std::string entry =
                std::to_string(attempts) + "x " + alert.error_type + " @" +
                std::to_string(std::chrono::nanoseconds(last_failure.time_since_epoch()).count());
            const auto previous = rec.headers.get(dead_letter_header::history);
            std::string history = previous ? std::string(*previous) + ";" : std::string();
            history += entry;
            h.set(std::string(dead_letter_header::history), std::move(history));
        }
        h.set(std::string(dead_letter_header::topic), t.name);
        h.set(std::string(dead_letter_header::partition), std::to_string(rec.partition));
        h.set(std::string(dead_letter_header::offset), std::to_string(rec.offset));
        h.set(std::string(dead_letter_header::group), group);
        h.set(std::string(dead_letter_header::error_type), alert.error_type);
        h.set(std::string(dead_letter_header::error_message), alert.error_message);
        h.set(std::string(dead_letter_header::attempts), std::to_string(attempts));
        h.set(std::string(dead_letter_header::first_failure),
              std::to_string(std::chrono::nanoseconds(first_failure.time_since_epoch()).count()));
        h.set(std::string(dead_letter_header::last_failure),
              std::to_string(std::chrono::nanoseconds(last_failure.time_since_epoch()).count()));
        T value(rec.value);
        wake_list woken;
        {
            std::lock_guard lock(m_mutex);
            detail::topic_log<T>& dlq = *t.dead_letters;
            const publish_result r = dlq.append(rec.partition, rec.key, std::move(h),
                                                std::move(value), m_scheduler->now());
            alert.dlq_offset = r.offset;
            ++t.stats.dead_lettered;
            collect_owner(dlq, rec.partition, woken);
            // max: a released parked record has an offset the group already moved past.
            g.committed[rec.partition] = std::max(g.committed[rec.partition], rec.offset + 1);
            ++m_dead_lettered_by_error[t.name][alert.error_type];
            if (ordered) { // park the key behind this dead letter (or move its head here)
                auto& pk = g.parked[rec.key];
                pk.partition = rec.partition;
                pk.head = dead_letter_id{dlq.name, rec.partition, r.offset}.str();
                pk.st = detail::consumer_group::parked_key::state::waiting;
            }
            const std::size_t p = rec.partition;
            g.busy[p] = 0;
            t.trim(p); // `rec` may be gone from here on
            g.bump();  // parking may have changed what the group's next claim returns
            notify_owner(g, p, woken);
        }
        wake(woken);
        return alert;
    }

    // ----- dead-letter reprocessing (callers hold m_mutex) -----

    // Where `id` is and what it says; throws `eddy::error` unless it is a retained, pending
    // dead letter whose original topic exists.
    struct located_dead_letter {
        detail::topic_base* dlq;
        detail::topic_base* original;
        std::string group;
    };
    located_dead_letter locate(const dead_letter_id& id, const char* op) {
        const std::string where =
            std::string("eddy::event_bus::") + op + ": dead letter " + id.str();
        detail::topic_base& dlq = find_topic(id.topic, op);
        if (!dlq.is_dead_letter) {
            throw error(where + ": '" + id.topic + "' is not a dead-letter topic");
        }
        dlq.prune(m_scheduler->now());
        if (id.partition >= dlq.config.partitions || id.offset < dlq.begin[id.partition] ||
            id.offset >= dlq.end[id.partition]) {
            throw error(where + " does not exist (or was dropped by retention)");
        }
        auto st = m_dead_letter_status.find(id.str());
        if (st != m_dead_letter_status.end()) {
            throw error(
                where + " was already " +
                (st->second == dead_letter_status::reprocessed ? "reprocessed" : "discarded"));
        }
        const eddy::headers& h = dlq.headers_at(id.partition, id.offset);
        const auto topic = h.get(dead_letter_header::topic);
        const auto group = h.get(dead_letter_header::group);
        detail::topic_base& original = find_topic(topic ? *topic : std::string_view(), op);
        return {&dlq, &original, group ? std::string(*group) : std::string()};
    }

    publish_result reprocess_locked(const dead_letter_id& id, const std::string& who,
                                    wake_list& woken) {
        located_dead_letter d = locate(id, "reprocess");
        eddy::headers h;
        for (const auto& [k, v] : d.dlq->headers_at(id.partition, id.offset)) {
            // The failure's headers go; the history stays (it returns to the DLQ with it).
            if (k.rfind("eddy.dlq.", 0) != 0 || k == dead_letter_header::history) {
                h.set(k, v);
            }
        }
        h.set(std::string(dead_letter_header::reprocess_of), id.str());
        h.set(std::string(dead_letter_header::reprocess_for), d.group);
        const std::string& key = d.dlq->key_at(id.partition, id.offset);
        const publish_result r = d.original->append_copy(*d.dlq, id.partition, id.offset, key,
                                                         std::move(h), m_scheduler->now());
        ++d.original->stats.reprocessed;
        m_dead_letter_status.emplace(id.str(), dead_letter_status::reprocessed);
        m_audit.push_back({dead_letter_audit::action::reprocess, who, m_scheduler->now(), id,
                           d.original->name, r});
        collect_owner(*d.original, r.partition, woken);
        return r;
    }

    // ----- transactions -----

    struct producer_epoch {
        std::uint64_t epoch = 0;
        std::shared_ptr<detail::txn_marker> open; // the id's open transaction, if any
    };

    struct pending_offset {
        detail::consumer_group* group;
        std::size_t partition;
        std::uint64_t offset;
        std::string where; // for the conflict message
    };

    class txn_impl final : public detail::transaction_state {
    public:
        txn_impl(event_bus* b, std::string producer_id)
            : bus(b), id(std::move(producer_id)), marker(std::make_shared<detail::txn_marker>()) {}

        publish_result publish(const std::string& topic, std::string key, headers h,
                               std::type_index type, const char* type_name, void* value) override {
            return bus->tx_publish(*this, topic, std::move(key), std::move(h), type, type_name,
                                   value);
        }
        void commit_offset(const std::string& group, const std::string& topic,
                           std::size_t partition, std::uint64_t offset) override {
            bus->tx_commit_offset(*this, group, topic, partition, offset);
        }
        void commit() override { bus->tx_commit(*this); }
        void abort() noexcept override { bus->tx_abort(*this); }
        [[nodiscard]] bool open() const override {
            std::lock_guard lock(bus->m_mutex);
            return marker->status == detail::txn_status::open;
        }
        [[nodiscard]] const std::string& producer() const noexcept override { return id; }
        [[nodiscard]] std::uint64_t epoch() const noexcept override { return ep; }

        event_bus* bus;
        std::string id;
        std::uint64_t ep = 0; // set once by begin_transaction
        std::shared_ptr<detail::txn_marker> marker;
        std::vector<pending_offset> offsets; // guarded by the bus's lock
    };

    // Under the lock: throws unless `tx` may still act.
    void check_usable(const txn_impl& tx, const char* op) const {
        const std::uint64_t current = m_producers.find(tx.id)->second.epoch;
        if (current != tx.ep) {
            throw producer_fenced(tx.id, tx.ep, current);
        }
        if (tx.marker->status != detail::txn_status::open) {
            throw error(
                std::string("eddy::transaction::") + op + ": the transaction was already " +
                (tx.marker->status == detail::txn_status::committed ? "committed" : "aborted"));
        }
    }

    // Under the lock: ends a transaction with `status`; its partitions' owners are woken.
    void end_marker(detail::txn_marker& marker, detail::txn_status status, wake_list& woken) {
        marker.status = status;
        for (const auto& [t, p] : marker.touched) {
            collect_owner(*t, p, woken);
        }
        marker.touched.clear();
    }

    publish_result tx_publish(txn_impl& tx, const std::string& topic, std::string key, headers h,
                              std::type_index type, const char* type_name, void* value) {
        wake_list woken;
        publish_result r;
        {
            std::lock_guard lock(m_mutex);
            check_usable(tx, "publish");
            detail::topic_base& t = find_topic(topic, "transaction::publish");
            if (t.type != type) {
                throw error("eddy::transaction::publish: topic '" + topic +
                            "' holds values of type " + t.type_name + ", not " + type_name);
            }
            check_size(t, key, h, value);
            const auto p = static_cast<std::size_t>(detail::fnv1a_64(key) % t.config.partitions);
            r = t.append_erased(p, std::move(key), std::move(h), value, m_scheduler->now(),
                                tx.marker);
            auto& touched = tx.marker->touched;
            if (touched.empty() ||
                touched.back() != std::pair<detail::topic_base*, std::size_t>(&t, p)) {
                touched.emplace_back(&t, p);
            }
            collect_owner(t, p, woken); // read_uncommitted members see it now
        }
        wake(woken);
        return r;
    }

    void tx_commit_offset(txn_impl& tx, const std::string& group, const std::string& topic,
                          std::size_t partition, std::uint64_t offset) {
        std::lock_guard lock(m_mutex);
        check_usable(tx, "commit_offset");
        detail::topic_base& t = find_topic(topic, "transaction::commit_offset");
        auto it = t.groups.find(group);
        if (it == t.groups.end()) {
            throw error("eddy::transaction::commit_offset: topic '" + topic +
                        "' has no consumer group '" + group + "'");
        }
        if (partition >= t.config.partitions) {
            throw error("eddy::transaction::commit_offset: topic '" + topic + "' has " +
                        std::to_string(t.config.partitions) + " partitions, not partition " +
                        std::to_string(partition));
        }
        tx.offsets.push_back({&it->second, partition, offset,
                              "group '" + group + "' topic '" + topic + "' partition " +
                                  std::to_string(partition) + " offset " + std::to_string(offset)});
    }

    void tx_commit(txn_impl& tx) {
        wake_list woken;
        std::string conflict;
        {
            std::lock_guard lock(m_mutex);
            check_usable(tx, "commit");
            for (const pending_offset& o : tx.offsets) {
                if (o.group->committed[o.partition] > o.offset) {
                    conflict = "eddy::transaction::commit: " + o.where +
                               " was already committed (another member handled the record); "
                               "the transaction was aborted";
                    break;
                }
            }
            end_marker(*tx.marker,
                       conflict.empty() ? detail::txn_status::committed
                                        : detail::txn_status::aborted,
                       woken);
            m_producers.find(tx.id)->second.open.reset();
            if (conflict.empty()) {
                for (const pending_offset& o : tx.offsets) {
                    detail::consumer_group& g = *o.group;
                    g.committed[o.partition] = std::max(g.committed[o.partition], o.offset + 1);
                    g.bump();
                    if (g.busy[o.partition] == 0) {
                        notify_owner(g, o.partition, woken);
                    }
                }
            }
            tx.offsets.clear();
        }
        wake(woken);
        if (!conflict.empty()) {
            throw error(conflict);
        }
    }

    void tx_abort(txn_impl& tx) noexcept {
        wake_list woken;
        {
            std::lock_guard lock(m_mutex);
            producer_epoch& pe = m_producers.find(tx.id)->second;
            if (pe.epoch != tx.ep || tx.marker->status != detail::txn_status::open) {
                return; // fenced (already aborted), committed or aborted
            }
            end_marker(*tx.marker, detail::txn_status::aborted, woken);
            pe.open.reset();
            tx.offsets.clear();
        }
        wake(woken);
    }

    // ----- push members -----

    template <class T, class Handler>
    class push_member final : public detail::subscription_state {
    public:
        push_member(event_bus* b, std::string g, Handler h, consumer_options o)
            : bus(b), group_name(std::move(g)), handler(std::move(h)), options(std::move(o)) {}

        void leave() override { bus->leave(*group, *this); }

        event_bus* bus;
        detail::topic_log<T>* topic = nullptr;
        detail::consumer_group* group = nullptr;
        std::string group_name;
        Handler handler;
        consumer_options options;
    };

    // One of a push member's `max_in_flight` loops. Static, parameters by value: coroutine
    // state never lives in lambda captures (g++ 12 bug 100611 pattern); the member is owned by
    // its subscription, which outlives this (its scope joins us).
    // The hot path: one claim (one lock) reserves a batch of records, each handled by one
    // handler call; the next claim settles (commits) the batch under the same lock. A failing
    // record settles what came before it and goes on in `process` (retries, dead letters).
    template <class T, class Handler>
    static task<void> push_worker(event_bus* bus, push_member<T, Handler>* m) {
        using kind = typename claim_result<T>::kind;
        co_await bus->m_scheduler->schedule();
        batch<T> b;
        std::size_t gather = 0; // yields before a claim after a drained batch (adaptive)
        for (;;) {
            claim_result<T> c = bus->claim(*m->topic, *m->group, m->group_name, *m,
                                           m->options.on_out_of_range, m->options.isolation, &b);
            if (c.what == kind::leave) {
                co_return;
            }
            if (c.what == kind::out_of_range) {
                m->set_failure(c.error);
                bus->leave(*m->group, *m);
                co_return;
            }
            if (c.what == kind::work && c.parked) {
                co_await process<T, Handler>(bus, m, c.record, std::move(c.holder), nullptr, {});
                continue;
            }
            if (c.what == kind::work) {
                co_await handle_batch<T, Handler>(bus, m, &b);
                if constexpr (spins_when_idle) {
                    // Let records accumulate before the next claim (see max_gather).
                    if (b.drained) {
                        if (b.records.size() < max_batch / 2) {
                            gather = std::min(std::max<std::size_t>(gather * 2, 1), max_gather);
                        }
                        const std::uint64_t gen = m->group->gen.load(std::memory_order_acquire);
                        task<void> pause =
                            yield_while_stable(bus->m_scheduler, m->group, gen, gather);
                        co_await std::move(pause);
                    } else {
                        gather /= 2;
                    }
                }
                continue;
            }
            gather = 0; // it found nothing: records come one at a time, do not wait for more
            if constexpr (spins_when_idle) {
                // Before parking, yield to the scheduler a few times watching the member's idle
                // flag (a producer clears it when it appends to a partition the member owns)
                // and the group's generation (a join or leave): a steady producer then finds
                // the worker awake, and pays no cross-thread wake-up per record. Anything else
                // that concerns the member set its wake event meanwhile (it is marked idle),
                // so parking then passes at once. The flag changes once per idle -> ready
                // transition, not per record: polling it leaves the producer's cache alone.
                bool changed = false;
                const std::uint64_t gen = m->group->gen.load(std::memory_order_acquire);
                for (std::size_t i = 0; i < idle_spins && !changed; ++i) {
                    co_await bus->m_scheduler->schedule();
                    changed = !m->idle.load(std::memory_order_acquire) ||
                              m->group->gen.load(std::memory_order_acquire) != gen;
                }
                if (changed) {
                    task<void> pause =
                        yield_while_stable(bus->m_scheduler, m->group, gen, gather_yields);
                    co_await std::move(pause);
                    continue;
                }
            }
            bool cancelled = false;
            try {
                co_await m->wake.wait();
            } catch (const operation_cancelled&) {
                cancelled = true; // cancel(): it also leaves the group
            }
            if (cancelled) {
                co_return;
            }
            co_await bus->m_scheduler->schedule();
        }
    }

    // Yields to `s` up to `n` times while group `g`'s generation stays `gen` (a join, leave,
    // parking or discard ends it early: the worker must claim again at once).
    static task<void> yield_while_stable(Scheduler* s, const detail::consumer_group* g,
                                         std::uint64_t gen, std::size_t n) {
        for (std::size_t i = 0; i < n && g->gen.load(std::memory_order_acquire) == gen; ++i) {
            co_await s->schedule();
        }
    }

    // Hands the records of `b` to the handler in order while the batch stays valid; leaves `b`
    // open with `handled` set for the next claim to settle (or settled, if a record failed).
    template <class T, class Handler>
    static task<void> handle_batch(event_bus* bus, push_member<T, Handler>* m, batch<T>* b) {
        Scheduler& s = *bus->m_scheduler;
        const bool timed = m->options.retry.max_elapsed > duration::zero();
        for (std::size_t i = 0; i < b->records.size(); ++i) {
            if (i != 0 && !b->valid(*m->group, *m->topic)) {
                co_return; // settled by the next claim: the rest is given back
            }
            const record<T>* rec = b->records[i];
            const time_point start = timed ? s.now() : time_point{};
            std::exception_ptr failure;
            try {
                if constexpr (std::is_invocable_v<Handler&, const record<T>&>) {
                    co_await std::invoke(m->handler, *rec);
                } else {
                    record<T> copy(*rec);
                    co_await std::invoke(m->handler, copy);
                }
            } catch (...) {
                failure = std::current_exception();
            }
            if (failure) {
                bus->settle_before_failure(*m->topic, *m->group, *b);
                co_await process<T, Handler>(bus, m, rec, nullptr, failure, start);
                co_return;
            }
            b->handled = i + 1;
        }
    }

    // Handles one record: attempts, backoff, then commit, give back or dead letter. Never
    // throws (everything ends in one of those). `rec` is in the log (pinned until this ends) or,
    // released from the parking, in `holder`. `first_failure` (with the `start` of its
    // attempt): the first attempt already ran and failed so.
    template <class T, class Handler>
    static task<void> process(event_bus* bus, push_member<T, Handler>* m, const record<T>* rec,
                              typename detail::topic_log<T>::record_ptr holder,
                              std::exception_ptr first_failure, time_point first_start) {
        Scheduler& s = *bus->m_scheduler;
        const bool parked = holder != nullptr;
        retry_state state;
        const time_point start = first_failure ? first_start : s.now();
        time_point first_failure_at{};
        time_point last_failure{};
        // A copy, not a move: clang-tidy 14 misreads moves of coroutine parameters.
        std::exception_ptr failure = first_failure;
        bool attempted = failure != nullptr;
        for (;;) {
            if (!attempted) {
                failure = nullptr;
                try {
                    if constexpr (std::is_invocable_v<Handler&, const record<T>&>) {
                        co_await std::invoke(m->handler, *rec);
                    } else {
                        record<T> copy(*rec);
                        co_await std::invoke(m->handler, copy);
                    }
                } catch (...) {
                    failure = std::current_exception();
                }
            }
            attempted = false;
            if (!failure) {
                bus->finish(*m->group, rec->partition, rec->offset, true);
                co_return;
            }
            if (!parked && bus->committed_past(*m->group, rec->partition, rec->offset)) {
                // A transaction committed this record's offset (the handler failed after its
                // commit): it is done; retrying would produce its output twice.
                bus->finish(*m->group, rec->partition, rec->offset, false);
                co_return;
            }
            const std::stop_token token = co_await get_stop_token();
            if (token.stop_requested()) { // cancel(): give the record back uncommitted
                bus->give_back<T>(*m->group, *rec, holder);
                co_return;
            }
            last_failure = s.now();
            if (state.attempt() == 1) {
                first_failure_at = last_failure;
            }
            std::optional<duration> wait;
            try {
                wait = state.on_failure(m->options.retry, last_failure - start, failure);
            } catch (...) {
                failure = std::current_exception(); // the non_retryable predicate threw
            }
            if (!wait) {
                break;
            }
            bus->count_retry(*m->topic);
            bool cancelled = false;
            try {
                co_await s.schedule_after(*wait);
            } catch (const operation_cancelled&) {
                cancelled = true;
            }
            if (cancelled) {
                bus->give_back<T>(*m->group, *rec, holder);
                co_return;
            }
        }
        if (m->topic->dead_letters == nullptr) {
            // A dead-letter topic has no dead-letter topic: the member stops with the error
            // and the record stays uncommitted.
            m->set_failure(failure);
            bus->give_back<T>(*m->group, *rec, holder);
            bus->leave(*m->group, *m);
            co_return;
        }
        const dead_letter_alert alert =
            bus->dead_letter(*m->topic, *m->group, m->group_name, *rec, failure, state.attempt(),
                             first_failure_at, last_failure, m->options.ordered_dead_letters);
        if (bus->m_observer.on_dead_letter) {
            try {
                bus->m_observer.on_dead_letter(alert);
            } catch (...) { // an alert must not block the partition
            }
        }
    }

    // ----- pull members -----

    // The membership of a pull consumer, a parameter of its stream's frame: destroying the
    // frame (pulled or not) leaves the group and gives back the record in flight.
    template <class T>
    struct pull_membership {
        pull_membership() = default;
        pull_membership(pull_membership&& o) noexcept
            : bus(o.bus), topic(o.topic), group(o.group), group_name(std::move(o.group_name)),
              member(std::move(o.member)), in_flight(std::exchange(o.in_flight, std::nullopt)),
              parked(std::move(o.parked)) {}
        pull_membership& operator=(pull_membership&&) = delete;
        ~pull_membership() { release(); }

        // Leaves the group now (idempotent), giving back the record in flight.
        void release() {
            if (!member || group == nullptr) {
                return;
            }
            if (in_flight) {
                if (parked) { // a released parked record goes back to its parking
                    bus->template unpark_front<T>(*group, parked);
                    parked.reset();
                }
                bus->finish(*group, in_flight->first, in_flight->second, false);
                in_flight.reset();
            }
            bus->leave(*group, *member);
            member.reset();
        }

        event_bus* bus = nullptr;
        detail::topic_log<T>* topic = nullptr;
        detail::consumer_group* group = nullptr;
        std::string group_name;
        std::shared_ptr<detail::group_member> member;
        std::optional<std::pair<std::size_t, std::uint64_t>> in_flight; // yielded, uncommitted
        typename detail::topic_log<T>::record_ptr parked; // in_flight came from the parking
    };

    template <class T>
    static stream<record<T>> pull(pull_membership<T> m, offset_reset on_out_of_range,
                                  isolation iso) {
        using kind = typename claim_result<T>::kind;
        for (;;) {
            if (m.in_flight) { // the consumer pulled again: the record it had is done
                m.bus->finish(*m.group, m.in_flight->first, m.in_flight->second, true);
                m.in_flight.reset();
                m.parked.reset();
            }
            claim_result<T> c =
                m.bus->claim(*m.topic, *m.group, m.group_name, *m.member, on_out_of_range, iso);
            if (c.what == kind::out_of_range) {
                m.release(); // an ended stream is no member: its partitions go to the others
                std::rethrow_exception(c.error);
            }
            if (c.what == kind::leave) {
                co_return;
            }
            if (c.what == kind::work) {
                m.in_flight.emplace(c.partition, c.record->offset);
                if (c.parked) {
                    m.parked = std::move(c.holder);
                }
                co_yield record<T>(*c.record);
                continue;
            }
            bool cancelled = false;
            try {
                co_await m.member->wake.wait();
            } catch (const operation_cancelled&) {
                cancelled = true;
            }
            if (cancelled) {
                m.release();
                throw operation_cancelled();
            }
            co_await m.bus->m_scheduler->schedule();
        }
    }

    Scheduler* m_scheduler;
    bus_observer m_observer;
    // On a cache line of its own: a worker's reads of m_scheduler (every yield) would otherwise
    // take the line from the producer between its locks.
    alignas(64) mutable detail::spin_mutex m_mutex; // short sections, producers and consumers
    alignas(64) std::map<std::string, std::unique_ptr<detail::topic_base>, std::less<>> m_topics;
    std::map<std::string, producer_epoch, std::less<>> m_producers; // transactional ids
    // Dead letters that are no longer pending, by dead_letter_id::str().
    std::map<std::string, dead_letter_status, std::less<>> m_dead_letter_status;
    std::vector<dead_letter_audit> m_audit;
    std::map<std::string, std::map<std::string, std::uint64_t>, std::less<>>
        m_dead_lettered_by_error; // original topic -> error type -> count
};

} // namespace eddy
