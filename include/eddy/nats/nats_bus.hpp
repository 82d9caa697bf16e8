// eddy/nats/nats_bus.hpp - eddy::nats_bus, the eddy::message_bus on NATS JetStream (libnats):
// topics as partition streams, consumer groups as durable pull consumers, retries as delayed
// negative acknowledgements, dead letters as a topic of their own.
#pragma once

#include <algorithm>   // std::sort
#include <atomic>      // std::atomic
#include <chrono>      // std::chrono
#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint64_t, std::int64_t
#include <exception>   // std::exception_ptr, std::rethrow_exception
#include <functional>  // std::function, std::invoke
#include <map>         // std::map
#include <memory>      // std::shared_ptr, std::unique_ptr, std::make_shared
#include <mutex>       // std::mutex, std::lock_guard
#include <optional>    // std::optional
#include <random>      // std::minstd_rand
#include <stop_token>  // std::stop_token
#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view
#include <type_traits> // std::is_invocable_v
#include <typeinfo>    // typeid
#include <utility>     // std::move
#include <vector>      // std::vector

#include <eddy/bus/consumer_options.hpp>
#include <eddy/bus/dead_letter.hpp>
#include <eddy/bus/dead_letter_entry.hpp>
#include <eddy/bus/detail/fnv1a.hpp>
#include <eddy/bus/detail/group_member.hpp>
#include <eddy/bus/headers.hpp>
#include <eddy/bus/producer_sequence.hpp>
#include <eddy/bus/record.hpp>
#include <eddy/bus/record_too_large.hpp>
#include <eddy/bus/subscription.hpp>
#include <eddy/bus/topic_config.hpp>
#include <eddy/core/async_semaphore.hpp>
#include <eddy/core/detail/detached_task.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/codec.hpp>
#include <eddy/nats/detail/libnats.hpp>
#include <eddy/nats/detail/nats_names.hpp>
#include <eddy/nats/detail/nats_worker.hpp>
#include <eddy/nats/nats_bus_options.hpp>
#include <eddy/nats/nats_error.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// The headers eddy adds to a record on NATS, beside the record's own (which travel as NATS
/// headers, values escaped: `%`, CR, LF, NUL and blanks at either end as `%XX`).
namespace nats_header {
/// The record's key (escaped like a value); the subject's last token carries it too.
inline constexpr std::string_view key = "Eddy-Key";
/// JetStream's de-duplication id; set from a record's `message-id` header (the outbox relay's)
/// or from a `producer_sequence`.
inline constexpr std::string_view msg_id = "Nats-Msg-Id";
} // namespace nats_header

/// `eddy::message_bus` on NATS JetStream, so a service written against the concept runs on
/// several machines by swapping `eddy::event_bus` for this type. Values cross the broker as
/// bytes of `Codec` (an `eddy::value_codec` of every payload type used, e.g. `eddy::json_codec`).
///
/// Layout (every name below starts with `options.prefix`, P = `topic_config::partitions`):
/// - A topic is P streams `<prefix>_<topic>_P<p>`, one per partition, with the subjects
///   `<prefix>.<topic>.<p>.>`; a record of key K goes to partition `fnv1a(K) % P` (the same
///   function as `event_bus`) on subject `<prefix>.<topic>.<p>.<K>` (names as tokens: letters,
///   digits and `-` as is, other bytes `_XX`), with K also in the `Eddy-Key` header. Its offset
///   is its stream sequence - 1, so offsets count per partition from 0 as in process.
///   `create_topic` creates the streams of the topic and of `<topic>.DLQ` (storage, replicas,
///   retention of the options; `retention_count` -> MaxMsgs, `retention_age` -> MaxAge) or
///   validates them: each stream's description records the value type, the configuration and
///   whether it is a dead-letter topic.
/// - A consumer group is, per partition stream, a durable pull consumer named after the group,
///   with explicit acks and MaxAckPending 1. Members of a group (in any process) fetch from
///   the same consumers: each partition hands out one record at a time, to whichever member
///   asks first, so the partition's order holds across members and redeliveries.
///
/// Ordering: JetStream keeps a stream's order, and a consumer delivers in stream order except
/// for redeliveries (a negative ack, an ack wait that expired); with more than one record in
/// flight a redelivery overtakes. eddy adds MaxAckPending 1 per partition consumer: a group
/// handles one record of a partition at a time, so a redelivered record is handled again
/// before the next one, and records of one key (one partition) are handled in publish order,
/// in every group. Across partitions there is no order.
/// Delivery: at least once. A record is acknowledged (waiting for the server's confirmation)
/// after its handler succeeded; a failed attempt is negatively acknowledged with the retry
/// policy's delay (the server redelivers it then); the attempt number is JetStream's delivery
/// count (a member that takes a record over after another member's failure continues the
/// count; `retry_policy::max_elapsed` is measured from the first attempt the member saw).
/// After the last attempt (or a non-retryable error, or a payload the codec cannot
/// decode) the record is published to `<topic>.DLQ` (same partition, same key and payload,
/// the `dead_letter_header` entries as in process, times from this bus's scheduler), and then
/// terminated (+TERM) on the source. A member that dies mid-record leaves it unacknowledged:
/// it is redelivered after `options.ack_wait`.
/// Idempotent publish: a record's `message-id` header (or the `producer_sequence`, as
/// `<producer>:<partition>:<sequence>`) becomes `Nats-Msg-Id`: JetStream stores a publish
/// with an id it saw within `options.duplicate_window` once, and yields the original offset.
/// Unlike `event_bus` there is no gap check of sequences and no window by count.
/// Backpressure: publishes are asynchronous; at most `options.max_pending_publishes` await the
/// server's acknowledgement; further ones suspend until one completes.
/// Not supported (an `eddy::error` at `subscribe`/`consume`): `ordered_dead_letters`.
/// `consumer_options::on_out_of_range` and `isolation` have no effect: a JetStream consumer
/// skips records that retention dropped, and there are no transactions.
///
/// Lazy/eager: `publish`, `reprocess` and a subscription's stop are lazy tasks; topic
/// creation, `has_topic`, `subscribe`, `consume` (the consumers are created or found), `lag`,
/// `dead_letters` and `discard` act at once and block the calling thread on requests to the
/// servers (at most `options.request_timeout` each).
/// Where awaiters resume: on `scheduler` (`co_await scheduler.schedule()` after libnats' thread
/// or a fetch thread finished the call). Handlers run on `scheduler`. Every group member owns
/// a fetch thread per partition (push) or one (pull): libnats 3.4's fetch blocks its thread.
/// Use a real-time scheduler (`eddy::thread_pool`): `virtual_time_scheduler` cannot see the
/// servers' work and would jump its clock meanwhile; the retry delays run on the servers.
/// Errors: `eddy::error` for bad input (unknown topic, another value type, invalid options,
/// reserved header names); `eddy::record_too_large` as in process (measured on the encoded
/// payload); `eddy::nats_error` for what the servers or the connection fail (naming libnats'
/// status text). A member's fetch that fails (connection lost) is retried after `fetch_wait`,
/// so consumption goes on after a reconnect.
/// Lifetime: the scheduler must outlive the bus; the bus must outlive every subscription's
/// completed stop and every stream returned by `consume`.
/// Thread-safety: every member may be called from any thread concurrently.
///
///     eddy::thread_pool pool(2);
///     eddy::nats_bus bus(pool, eddy::json_codec{}, {.urls = {"nats://127.0.0.1:4222"}});
///     bus.create_topic<order>("orders", {.partitions = 4});
///     auto sub = bus.subscribe<order>("orders", "billing", bill, {.retry = {.max_attempts = 3}});
///     co_await bus.publish("orders", o.customer, o);
///     co_await sub.stop();
template <class Scheduler, class Codec>
class nats_bus {
    static_assert(eddy::scheduler<Scheduler>,
                  "eddy::nats_bus<Scheduler, Codec>: the type does not model eddy::scheduler (it "
                  "needs schedule(), schedule_after(duration) and now())");

public:
    using scheduler_type = Scheduler;
    using codec_type = Codec;
    using time_point = std::chrono::steady_clock::time_point;
    using duration = std::chrono::steady_clock::duration;

    /// Connects to `options.urls`. Eager. Errors: `eddy::error` for invalid options,
    /// `eddy::nats_error` when no server can be reached.
    nats_bus(Scheduler& s, Codec codec, nats_bus_options options = {})
        : m_scheduler(&s), m_codec(std::move(codec)), m_options(validated(std::move(options))),
          m_client(
              std::make_unique<detail::nats_client>(m_options, &nats_bus::post_completed, this)),
          m_admin(std::make_unique<detail::nats_worker>()),
          m_publish_slots(static_cast<std::ptrdiff_t>(m_options.max_pending_publishes)) {}
    nats_bus(const nats_bus&) = delete;
    nats_bus& operator=(const nats_bus&) = delete;

    /// The scheduler given at construction.
    [[nodiscard]] Scheduler& scheduler() const noexcept { return *m_scheduler; }
    /// The options given at construction.
    [[nodiscard]] const nats_bus_options& options() const noexcept { return m_options; }

    /// Creates topic `name` of values `T` and its dead-letter topic `name.DLQ` (their partition
    /// streams), or validates existing ones. Eager, blocking. Errors: `eddy::error` for an
    /// invalid `config` or when a stream exists with another value type or configuration;
    /// `eddy::nats_error` when the servers refuse (e.g. more replicas than servers).
    ///
    ///     bus.create_topic<order>("orders", {.partitions = 4, .retention_count = 1'000'000});
    template <class T>
    void create_topic(std::string name, topic_config config = {}) {
        static_assert(detail::check_value_codec<Codec, T>());
        config.validate();
        const std::string type = detail::nats_type_name<T>();
        ensure_topic(name, {type, config, false});
        ensure_topic(dead_letter_topic(name), {type, config, true});
    }

    /// Whether topic `name` exists on the servers (created by any bus with this prefix).
    [[nodiscard]] bool has_topic(std::string_view name) const {
        return find_descriptor(std::string(name)).has_value();
    }

    /// The partition a record with `key` goes to in `topic`. Errors: unknown topic.
    [[nodiscard]] std::size_t partition_for(std::string_view topic, std::string_view key) const {
        const detail::nats_topic_descriptor d = descriptor(std::string(topic), "partition_for");
        return static_cast<std::size_t>(detail::fnv1a_64(key) % d.config.partitions);
    }

    /// `co_await bus.publish(topic, key, value, headers)` publishes a record and yields its
    /// partition and offset once the stream stored it. A `message-id` header becomes its
    /// `Nats-Msg-Id`. Lazy. Errors: `eddy::error` for an unknown topic, another type than the
    /// topic's, a header name NATS cannot carry or that is reserved (`Eddy-Key`, `Nats-*`);
    /// `eddy::record_too_large`; `eddy::nats_error` (timeout, connection lost).
    template <class T>
    [[nodiscard]] task<publish_result> publish(std::string topic, std::string key, T value,
                                               headers h = {}) {
        return start_publish<T>(std::move(topic), std::move(key), std::move(value), std::move(h),
                                std::string());
    }

    /// The idempotent form: `Nats-Msg-Id` is `<producer>:<partition>:<sequence>`, so a retry
    /// within the duplicate window lands once and yields where the original landed.
    template <class T>
    [[nodiscard]] task<publish_result> publish(std::string topic, std::string key, T value,
                                               headers h, producer_sequence seq) {
        std::string id = std::move(seq.producer);
        id += ":";
        id += std::to_string(seq.sequence);
        return start_publish<T>(std::move(topic), std::move(key), std::move(value), std::move(h),
                                std::move(id));
    }

    /// Joins consumer group `group` of `topic` as a push member: `co_await handler(record)` for
    /// each record it fetches, acknowledged when the handler succeeds, retried and
    /// dead-lettered per `options.retry` (see the class comment). Eager: the group's consumers
    /// are created (a new group starts at `options.start`) and one fetch loop per partition is
    /// started; each handles one record at a time, at most `options.max_in_flight` handlers
    /// run at once. A record republished by `reprocess` for another group is acknowledged
    /// without a call. `subscription::cancel()`: a handler that ends with
    /// `eddy::operation_cancelled` leaves its record to be redelivered at once. A record of a
    /// dead-letter topic that exhausts its attempts ends the member (its `stop()` rethrows).
    /// Errors: `eddy::error` for an unknown topic, another type, invalid or unsupported
    /// options; `eddy::nats_error`.
    template <class T, class Handler>
    [[nodiscard]] subscription subscribe(std::string topic, std::string group, Handler handler,
                                         consumer_options options = {}) {
        static_assert(std::is_invocable_v<Handler&, record<T>&>,
                      "eddy::nats_bus::subscribe<T>: the handler must be callable with a const "
                      "eddy::record<T>& (or an eddy::record<T>&)");
        static_assert(detail::check_value_codec<Codec, T>());
        check_options(options, "subscribe");
        const detail::nats_topic_descriptor d = typed_descriptor<T>(topic, "subscribe");
        join_group(topic, group, d, options);
        auto member = std::make_shared<push_member<Handler>>(std::move(topic), std::move(group),
                                                             std::move(handler), options, d);
        for (std::size_t p = 0; p < d.config.partitions; ++p) {
            member->scope.spawn(fetch_loop<T, Handler>(this, member.get(), p));
        }
        return subscription(std::move(member));
    }

    /// Joins consumer group `group` of `topic` as a pull member: the stream yields the records
    /// its fetch thread gets, sweeping the partitions; a record is acknowledged when the next
    /// one is pulled; destroying the stream gives the last one back (redelivered at once to
    /// another member). No retries or dead letters in this form. Eager: the consumers are
    /// created; the stream is lazy and endless (`next()` waits for a record; a stop request on
    /// the awaiting coroutine's token ends it with `eddy::operation_cancelled`, seen within
    /// `fetch_wait`). Errors: as `subscribe`; `next()` throws `eddy::nats_error` when a fetch
    /// or an acknowledgement fails (the stream has ended then; its record in flight comes
    /// again to a later member).
    template <class T>
    [[nodiscard]] stream<record<T>> consume(std::string topic, std::string group,
                                            consumer_options options = {}) {
        static_assert(detail::check_value_codec<Codec, T>());
        check_options(options, "consume");
        const detail::nats_topic_descriptor d = typed_descriptor<T>(topic, "consume");
        join_group(topic, group, d, options);
        auto m = std::make_shared<pull_member>();
        m->topic = std::move(topic);
        m->group = std::move(group);
        m->partitions = d.config.partitions;
        m->client = m_client.get();
        return pull<T>(this, std::move(m));
    }

    /// Per partition of `topic`: the records group `group` has not acknowledged (not yet
    /// delivered, or delivered and in flight). Blocking. Errors: `eddy::error` for an unknown
    /// topic or a group that never had a member; `eddy::nats_error`.
    [[nodiscard]] std::vector<std::uint64_t> lag(std::string_view topic,
                                                 std::string_view group) const {
        const detail::nats_topic_descriptor d = descriptor(std::string(topic), "lag");
        std::vector<std::uint64_t> out(d.config.partitions);
        bool any = false;
        for (std::size_t p = 0; p < out.size(); ++p) {
            const detail::nats_consumer_state c =
                m_client->consumer_info(stream_of(topic, p), detail::nats_token(group));
            any = any || c.exists;
            out[p] = c.pending + c.ack_pending;
        }
        if (!any) {
            throw error("eddy::nats_bus::lag: topic '" + std::string(topic) +
                        "' has no consumer group '" + std::string(group) + "'");
        }
        return out;
    }

    /// Lists the retained dead letters matching `filter`, by dead-letter topic, partition and
    /// offset; their status is kept in the key-value bucket `<prefix>_dead-letter-marks`
    /// (shared by every process). Eager, blocking (one read per dead letter).
    [[nodiscard]] std::vector<dead_letter_entry> dead_letters(dead_letter_filter filter = {}) {
        std::vector<std::string> topics;
        if (!filter.topic.empty()) {
            const std::string dlq = dead_letter_topic(filter.topic);
            if (find_descriptor(dlq)) {
                topics.push_back(dlq);
            }
        } else {
            topics = dead_letter_topics();
        }
        std::vector<dead_letter_entry> out;
        for (const std::string& t : topics) {
            const detail::nats_topic_descriptor d = descriptor(t, "dead_letters");
            for (std::size_t p = 0; p < d.config.partitions; ++p) {
                const std::string stream = stream_of(t, p);
                const detail::nats_stream_state st = m_client->stream_info(stream);
                if (!st.exists || st.last_sequence == 0 || st.last_sequence < st.first_sequence) {
                    continue; // empty
                }
                for (std::uint64_t seq = std::max<std::uint64_t>(st.first_sequence, 1);
                     seq <= st.last_sequence; ++seq) {
                    std::optional<detail::nats_received> m = m_client->get_message(stream, seq);
                    if (!m) {
                        continue;
                    }
                    dead_letter_entry e = entry_of(t, p, *m);
                    if ((!filter.topic.empty() && filter.topic != e.topic) ||
                        (!filter.error_type.empty() && filter.error_type != e.error_type)) {
                        continue;
                    }
                    e.status = status_of(m_client->mark(mark_key(e.id)));
                    if (filter.status && *filter.status != e.status) {
                        continue;
                    }
                    out.push_back(std::move(e));
                }
            }
        }
        return out;
    }

    /// `co_await bus.reprocess(id, who)` republishes dead letter `id` to its original topic
    /// (same key; its headers without the failure's, keeping the history, plus
    /// `dead_letter_header::reprocess_of` and `reprocess_for`: only the group that
    /// dead-lettered it handles it) with `Nats-Msg-Id` `eddy-reprocess:<id>`, then marks it
    /// reprocessed (naming `who`). Lazy. Errors: `eddy::error` for an unknown, dropped,
    /// already reprocessed or discarded dead letter (nothing is published then);
    /// `eddy::nats_error`.
    [[nodiscard]] task<publish_result> reprocess(dead_letter_id id, std::string who) {
        return reprocess_one(this, std::move(id), std::move(who));
    }

    /// The batch form: every dead letter of `ids` in order; all are checked before any is
    /// republished.
    [[nodiscard]] task<std::vector<publish_result>> reprocess(std::vector<dead_letter_id> ids,
                                                              std::string who) {
        return reprocess_many(this, std::move(ids), std::move(who));
    }

    /// Marks dead letter `id` discarded (naming `who`). Eager, blocking. Errors: as
    /// `reprocess`.
    void discard(const dead_letter_id& id, const std::string& who) {
        located l = locate(id, "discard");
        if (!m_client->set_mark(l.mark, "discarded|" + who + "|" + now_ns())) {
            throw error("eddy::nats_bus::discard: dead letter " + id.str() + " was already " +
                        "reprocessed or discarded");
        }
    }

private:
    // ----- topics -----

    static nats_bus_options validated(nats_bus_options o) {
        o.validate();
        return o;
    }

    [[nodiscard]] std::string stream_of(std::string_view topic, std::size_t p) const {
        return detail::nats_stream_name(m_options.prefix, topic, p);
    }

    [[nodiscard]] std::string subject_of(std::string_view topic, std::size_t p) const {
        return detail::nats_partition_subject(m_options.prefix, topic, p);
    }

    void ensure_topic(const std::string& name, const detail::nats_topic_descriptor& want) {
        const std::string text = want.str();
        for (std::size_t p = 0; p < want.config.partitions; ++p) {
            const std::string stream = stream_of(name, p);
            const detail::nats_stream_state st = m_client->stream_info(stream);
            if (st.exists) {
                if (st.description != text) {
                    std::string what = "eddy::nats_bus::create_topic: topic '" + name;
                    what += "' exists with another value type or configuration (stream '";
                    what += stream;
                    what += "' is '" + st.description;
                    what += "', wanted '" + text + "')";
                    throw error(what);
                }
                continue;
            }
            detail::nats_stream_spec spec;
            spec.name = stream;
            spec.subjects = subject_of(name, p) + ".>";
            spec.description = text;
            spec.max_msgs = want.config.retention_count == 0
                                ? -1
                                : static_cast<std::int64_t>(want.config.retention_count);
            spec.max_age_ns =
                std::chrono::duration_cast<std::chrono::nanoseconds>(want.config.retention_age)
                    .count();
            m_client->add_stream(spec);
        }
        std::lock_guard lock(m_mutex);
        m_topics.insert_or_assign(name, want);
    }

    // The descriptor of topic `name`, from the cache or its first partition stream.
    [[nodiscard]] std::optional<detail::nats_topic_descriptor>
    find_descriptor(const std::string& name) const {
        {
            std::lock_guard lock(m_mutex);
            auto it = m_topics.find(name);
            if (it != m_topics.end()) {
                return it->second;
            }
        }
        const detail::nats_stream_state st = m_client->stream_info(stream_of(name, 0));
        if (!st.exists) {
            return std::nullopt;
        }
        std::optional<detail::nats_topic_descriptor> d =
            detail::nats_topic_descriptor::parse(st.description);
        if (d) {
            std::lock_guard lock(m_mutex);
            m_topics.insert_or_assign(name, *d);
        }
        return d;
    }

    [[nodiscard]] detail::nats_topic_descriptor descriptor(const std::string& name,
                                                           const char* op) const {
        std::optional<detail::nats_topic_descriptor> d = find_descriptor(name);
        if (!d) {
            throw error(std::string("eddy::nats_bus::") + op + ": unknown topic '" + name +
                        "' (create it with create_topic)");
        }
        return *d;
    }

    template <class T>
    [[nodiscard]] detail::nats_topic_descriptor typed_descriptor(const std::string& name,
                                                                 const char* op) const {
        detail::nats_topic_descriptor d = descriptor(name, op);
        const std::string type = detail::nats_type_name<T>();
        if (d.type != type) {
            throw error(std::string("eddy::nats_bus::") + op + ": topic '" + name +
                        "' holds values of type " + d.type + ", not " + type);
        }
        return d;
    }

    // Names of the dead-letter topics of this prefix, sorted.
    [[nodiscard]] std::vector<std::string> dead_letter_topics() const {
        std::vector<std::string> out;
        const std::string head = m_options.prefix + "_";
        for (const std::string& s : m_client->stream_names(head)) {
            if (s.size() < head.size() + 3 || s.compare(s.size() - 3, 3, "_P0") != 0) {
                continue;
            }
            std::optional<std::string> topic = detail::nats_untoken(
                std::string_view(s).substr(head.size(), s.size() - head.size() - 3));
            if (!topic) {
                continue;
            }
            std::optional<detail::nats_topic_descriptor> d = find_descriptor(*topic);
            if (d && d->dead_letter) {
                out.push_back(std::move(*topic));
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    static void check_options(const consumer_options& options, const char* op) {
        options.validate();
        if (options.ordered_dead_letters) {
            throw error(std::string("eddy::nats_bus::") + op +
                        ": ordered_dead_letters is not supported on NATS JetStream");
        }
    }

    void join_group(const std::string& topic, const std::string& group,
                    const detail::nats_topic_descriptor& d, const consumer_options& options) {
        for (std::size_t p = 0; p < d.config.partitions; ++p) {
            m_client->ensure_consumer(stream_of(topic, p), detail::nats_token(group),
                                      subject_of(topic, p) + ".>",
                                      options.start == offset_reset::latest);
        }
    }

    // ----- records -----

    [[nodiscard]] std::string now_ns() const {
        return std::to_string(
            std::chrono::nanoseconds(m_scheduler->now().time_since_epoch()).count());
    }

    // The headers of a record as NATS carries them (escaped, with the key).
    static detail::nats_outgoing outgoing(std::string subject, const std::string& key,
                                          const headers& h) {
        detail::nats_outgoing out;
        out.subject = std::move(subject);
        for (const auto& [k, v] : h) {
            out.headers.set(k, detail::nats_escape_header(v));
        }
        out.headers.set(std::string(nats_header::key), detail::nats_escape_header(key));
        return out;
    }

    static void check_header_names(const headers& h, const std::string& topic) {
        for (const auto& [k, v] : h) {
            bool ok = !k.empty() && k != nats_header::key && k.rfind("Nats-", 0) != 0;
            for (const char c : k) {
                ok = ok && c > ' ' && c < 127 && c != ':';
            }
            if (!ok) {
                std::string what = "eddy::nats_bus::publish: header name '" + k;
                what += "' of a record to '" + topic;
                what += "' cannot be carried (printable ASCII without ':' or blanks; Eddy-Key and "
                        "Nats-* are reserved)";
                throw error(what);
            }
        }
    }

    // A record as a consumer sees it (`offset` = stream sequence - 1); Nats-* headers (broker
    // metadata) and Eddy-Key are not among its headers.
    template <class T>
    record<T> to_record(const std::string& topic, std::size_t p,
                        const detail::nats_received& m) const {
        headers h;
        std::string key;
        for (const auto& [k, v] : m.headers) {
            if (k == nats_header::key) {
                key = detail::nats_unescape_header(v);
            } else if (k.rfind("Nats-", 0) != 0) {
                h.set(k, detail::nats_unescape_header(v));
            }
        }
        // The stream's UTC time, placed on this process's steady clock.
        const auto age = std::chrono::system_clock::now().time_since_epoch() -
                         std::chrono::nanoseconds(m.time_ns);
        const time_point at = m_scheduler->now() - std::chrono::duration_cast<duration>(age);
        return record<T>{topic,
                         p,
                         m.stream_sequence - 1,
                         std::move(key),
                         std::move(h),
                         at,
                         m_codec.template decode_value<T>(m.data)};
    }

    // ----- publishing -----

    // Awaits the server's acknowledgement of one async publish (resumed on libnats' thread).
    struct publish_awaiter {
        detail::nats_client* client;
        const detail::nats_outgoing* message;
        detail::nats_publish_wait* wait;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) {
            wait->waiter = h;
            client->publish_async(*message, wait); // may resume h before returning
        }
        void await_resume() const noexcept {}
    };

    // Resumes a burst of acknowledged publishes on the scheduler: one hop for the burst.
    static void post_completed(void* bus) {
        detail::start_detached(resume_completed(static_cast<nats_bus*>(bus)));
    }

    static task<void> resume_completed(nats_bus* bus) {
        co_await bus->m_scheduler->schedule(); // off libnats' thread
        bus->m_client->resume_completed();
    }

    // Publishes `m` to partition `p` of `topic`, within the bound of pending publishes.
    // Acknowledged publishes resume on the scheduler (resume_completed), where they release
    // their slot to the next waiter inline: that one only sends and suspends again, so the
    // stack stays flat; a publish that fails at once hops before releasing, so a run of
    // failures (a closed connection) does not recurse through the waiters.
    static task<publish_result> send(nats_bus* bus, detail::nats_outgoing m, std::string topic,
                                     std::size_t p) {
        if (!bus->m_publish_slots.try_acquire()) {
            co_await bus->m_publish_slots.acquire();
        }
        detail::nats_publish_wait w;
        std::exception_ptr failure;
        try {
            co_await publish_awaiter{bus->m_client.get(), &m, &w};
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) {
            co_await bus->m_scheduler->schedule();
            bus->m_publish_slots.release();
            std::rethrow_exception(failure);
        }
        bus->m_publish_slots.release();
        if (w.status != NATS_OK) {
            throw nats_error("publishing to topic '" + topic + "' partition " + std::to_string(p),
                             static_cast<int>(w.status), natsStatus_GetText(w.status), w.js_code,
                             w.error_text);
        }
        co_return publish_result{p, w.sequence - 1};
    }

    // What a publish needs of its topic's descriptor.
    struct publish_route {
        std::size_t partitions = 1;
        std::size_t max_record_bytes = 0;
    };

    // A record ready to send.
    struct prepared_publish {
        detail::nats_outgoing message;
        std::size_t partition = 0;
    };

    template <class T>
    static const std::string& type_name_of() {
        static const std::string name = detail::nats_type_name<T>();
        return name;
    }

    template <class T>
    static publish_route route_of(const detail::nats_topic_descriptor& d,
                                  const std::string& topic) {
        const std::string& type = type_name_of<T>();
        if (d.type != type) {
            throw error("eddy::nats_bus::publish: topic '" + topic + "' holds values of type " +
                        d.type + ", not " + type);
        }
        return publish_route{d.config.partitions, d.config.max_record_bytes};
    }

    // The route of a topic whose descriptor this bus has read; none before the first use.
    template <class T>
    std::optional<publish_route> cached_route(const std::string& topic) const {
        std::lock_guard lock(m_mutex);
        auto it = m_topics.find(topic);
        if (it == m_topics.end()) {
            return std::nullopt;
        }
        return route_of<T>(it->second, topic);
    }

    template <class T>
    prepared_publish prepare(publish_route r, const std::string& topic, std::string key,
                             const T& value, headers h, std::string msg_id) const {
        check_header_names(h, topic);
        std::string bytes = m_codec.encode_value(value);
        if (r.max_record_bytes != 0) {
            std::size_t size = key.size() + bytes.size();
            for (const auto& [k, v] : h) {
                size += k.size() + v.size();
            }
            if (size > r.max_record_bytes) {
                throw record_too_large(topic, size, r.max_record_bytes);
            }
        }
        const auto p = static_cast<std::size_t>(detail::fnv1a_64(key) % r.partitions);
        if (msg_id.empty()) {
            if (const auto id = h.get("message-id")) {
                msg_id = std::string(*id);
            }
        } else {
            // producer:sequence -> producer:partition:sequence (sequences count per partition)
            const std::size_t colon = msg_id.rfind(':');
            msg_id.insert(colon, ":" + std::to_string(p));
        }
        std::string subject;
        subject.reserve(m_options.prefix.size() + 3 * (topic.size() + key.size()) + 24);
        subject += m_options.prefix;
        subject += '.';
        detail::nats_append_token(subject, topic);
        subject += '.';
        subject += std::to_string(p);
        subject += '.';
        detail::nats_append_token(subject, key);
        prepared_publish out{outgoing(std::move(subject), key, h), p};
        out.message.data = std::move(bytes);
        out.message.msg_id = std::move(msg_id);
        return out;
    }

    static task<publish_result> failed_publish(std::exception_ptr e) {
        std::rethrow_exception(e);
        co_return publish_result{};
    }

    // A topic this bus knows already costs one coroutine frame (send's): the record is
    // prepared here, its errors kept for the awaiter (publish is lazy in what it reports).
    template <class T>
    task<publish_result> start_publish(std::string topic, std::string key, T value, headers h,
                                       std::string msg_id) {
        static_assert(detail::check_value_codec<Codec, T>());
        std::optional<prepared_publish> ready;
        try {
            if (const std::optional<publish_route> r = cached_route<T>(topic)) {
                ready.emplace(
                    prepare<T>(*r, topic, std::move(key), value, std::move(h), std::move(msg_id)));
            }
        } catch (...) {
            return failed_publish(std::current_exception());
        }
        if (ready) {
            return send(this, std::move(ready->message), std::move(topic), ready->partition);
        }
        return publish_impl<T>(this, std::move(topic), std::move(key), std::move(value),
                               std::move(h), std::move(msg_id));
    }

    // The first publish to a topic: reads its descriptor from the servers first.
    template <class T>
    static task<publish_result> publish_impl(nats_bus* bus, std::string topic, std::string key,
                                             T value, headers h, std::string msg_id) {
        std::function<detail::nats_topic_descriptor()> f = [bus, &topic] {
            return bus->template typed_descriptor<T>(topic, "publish");
        };
        const detail::nats_topic_descriptor d =
            co_await blocking<detail::nats_topic_descriptor>(bus, bus->m_admin.get(), std::move(f));
        prepared_publish ready = bus->template prepare<T>(
            route_of<T>(d, topic), topic, std::move(key), value, std::move(h), std::move(msg_id));
        co_return co_await send(bus, std::move(ready.message), std::move(topic), ready.partition);
    }

    // Runs `f` on `w` (a dedicated thread) and resumes on the scheduler with its result.
    template <class R>
    static task<R> blocking(nats_bus* bus, detail::nats_worker* w, std::function<R()> f) {
        std::optional<R> out;
        std::function<void()> job = [&out, &f] { out.emplace(f()); };
        const std::exception_ptr e = co_await w->run(std::move(job));
        co_await bus->m_scheduler->schedule();
        if (e) {
            std::rethrow_exception(e);
        }
        co_return std::move(*out);
    }

    // ----- push members -----

    template <class Handler>
    struct push_member final : detail::subscription_state {
        push_member(std::string t, std::string g, Handler h, consumer_options o,
                    detail::nats_topic_descriptor d)
            : topic(std::move(t)), group(std::move(g)), handler(std::move(h)),
              options(std::move(o)), desc(std::move(d)),
              slots(static_cast<std::ptrdiff_t>(options.max_in_flight)) {}
        void leave() override { leaving.store(true, std::memory_order_release); }
        [[nodiscard]] bool left() const { return leaving.load(std::memory_order_acquire); }

        std::string topic;
        std::string group;
        Handler handler;
        consumer_options options;
        detail::nats_topic_descriptor desc;
        async_semaphore slots; // handlers at once
        std::atomic<bool> leaving{false};
        std::mutex rng_mutex;
        std::minstd_rand rng{std::random_device{}()}; // jitter; guarded by rng_mutex
    };

    // Acknowledges `reply` with `body` on `w`, waiting for the server.
    static task<bool> acknowledge(nats_bus* bus, detail::nats_worker* w, std::string reply,
                                  std::string body) {
        std::function<bool()> f = [bus, &reply, &body] {
            bus->m_client->acknowledge(reply, body);
            return true;
        };
        co_return co_await blocking<bool>(bus, w, std::move(f));
    }

    static std::string nak_body(duration delay) {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(delay).count();
        if (ns <= 0) {
            return "-NAK";
        }
        return "-NAK {\"delay\": " + std::to_string(ns) + "}";
    }

    // One partition of a push member: fetch (on its own thread), handle, acknowledge; until
    // the member leaves. Never throws: what ends the member early is its failure.
    template <class T, class Handler>
    static task<void> fetch_loop(nats_bus* bus, push_member<Handler>* m, std::size_t p) {
        detail::nats_worker worker;
        std::unique_ptr<detail::nats_pull> pull;
        const std::string stream = bus->stream_of(m->topic, p);
        const std::string durable = detail::nats_token(m->group);
        const std::string filter = bus->subject_of(m->topic, p) + ".>";
        std::exception_ptr failure;
        try {
            std::function<bool()> bind = [bus, &pull, &stream, &durable, &filter] {
                pull = std::make_unique<detail::nats_pull>(*bus->m_client, stream, durable, filter);
                return true;
            };
            co_await blocking<bool>(bus, &worker, std::move(bind));
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) {
            m->set_failure(failure);
            m->leave();
            co_return;
        }
        const std::chrono::milliseconds wait = bus->m_options.fetch_wait;
        // The record being retried: its sequence, when its first attempt started and failed.
        std::uint64_t tracked = 0;
        time_point first_start{};
        time_point first_failure{};
        // A handled record's acknowledgement goes to the worker with the next fetch: one
        // round trip to the worker thread per record instead of two. It fails like a fetch
        // (the connection is down): the record is redelivered after the ack wait.
        std::string ack_first;
        while (!m->left()) {
            std::optional<detail::nats_received> got;
            std::exception_ptr fetch_error;
            try {
                std::string ack = std::move(ack_first);
                ack_first.clear();
                std::function<std::optional<detail::nats_received>()> f = [bus, &pull, wait, &ack] {
                    if (!ack.empty()) {
                        bus->m_client->acknowledge(ack, "+ACK");
                    }
                    return pull->fetch(wait);
                };
                got = co_await blocking<std::optional<detail::nats_received>>(bus, &worker,
                                                                              std::move(f));
            } catch (...) {
                fetch_error = std::current_exception();
            }
            const std::stop_token token = co_await get_stop_token();
            if (fetch_error) {
                // The connection is down or the server busy: libnats reconnects meanwhile.
                bool cancelled = false;
                try {
                    co_await bus->m_scheduler->schedule_after(wait);
                } catch (const operation_cancelled&) {
                    cancelled = true;
                }
                if (cancelled) {
                    co_return;
                }
                continue;
            }
            if (!got) {
                continue;
            }
            if (m->left() || token.stop_requested()) { // taken after leaving: give it back
                bus->m_client->acknowledge_async(got->reply, "-NAK");
                break;
            }
            if (const auto for_group = got->headers.get(dead_letter_header::reprocess_for);
                for_group && detail::nats_unescape_header(*for_group) != m->group) {
                co_await acknowledge(bus, &worker, got->reply, "+ACK");
                continue;
            }
            const time_point start = bus->m_scheduler->now();
            std::exception_ptr error;
            bool decodable = true;
            std::optional<record<T>> rec;
            try {
                rec.emplace(bus->template to_record<T>(m->topic, p, *got));
            } catch (...) {
                error = std::current_exception();
                decodable = false;
            }
            if (rec) {
                if (!m->slots.try_acquire()) {
                    co_await m->slots.acquire();
                    co_await bus->m_scheduler->schedule();
                }
                try {
                    co_await std::invoke(m->handler, *rec);
                } catch (...) {
                    error = std::current_exception();
                }
                m->slots.release();
            }
            std::exception_ptr outcome; // a failed acknowledgement: the record comes again
            try {
                if (!error) {
                    ack_first = std::move(got->reply);
                    continue;
                }
                if (token.stop_requested()) { // cancel(): redelivered at once, not committed
                    bus->m_client->acknowledge_async(got->reply, "-NAK");
                    break;
                }
                const time_point now = bus->m_scheduler->now();
                const std::size_t attempt = static_cast<std::size_t>(got->delivered);
                if (got->stream_sequence != tracked || attempt == 1) {
                    tracked = got->stream_sequence;
                    first_start = attempt == 1 ? start : now;
                    first_failure = now;
                }
                std::optional<duration> delay;
                if (decodable) {
                    delay = bus->retry_delay(m, attempt, now - first_start, error);
                }
                if (delay) {
                    co_await acknowledge(bus, &worker, got->reply, nak_body(*delay));
                    continue;
                }
                if (m->desc.dead_letter) {
                    // A dead-letter topic has none: the member ends, the record stays.
                    m->set_failure(error);
                    bus->m_client->acknowledge_async(got->reply, "-NAK");
                    m->leave();
                    break;
                }
                co_await dead_letter<T>(bus, m, p, *got, rec, error, attempt, first_failure, now);
                co_await acknowledge(bus, &worker, got->reply, "+TERM");
            } catch (...) {
                outcome = std::current_exception();
            }
            if (outcome) {
                // Publishing the dead letter or acknowledging failed (connection lost): the
                // record is redelivered after the ack wait; nothing is lost.
                bool cancelled = false;
                try {
                    co_await bus->m_scheduler->schedule_after(wait);
                } catch (const operation_cancelled&) {
                    cancelled = true;
                }
                if (cancelled) {
                    co_return;
                }
            }
        }
        if (!ack_first.empty()) { // left after handling a record: it is still acknowledged
            bool acked = false;
            try {
                acked = co_await acknowledge(bus, &worker, ack_first, "+ACK");
            } catch (...) {
                acked = false;
            }
            if (!acked) {
                bus->m_client->acknowledge_async(ack_first, "+ACK");
            }
        }
    }

    // The wait before the next attempt, or empty to give up (see retry_policy::should_retry).
    template <class Handler>
    std::optional<duration> retry_delay(push_member<Handler>* m, std::size_t attempt,
                                        duration elapsed, const std::exception_ptr& e) {
        const retry_policy& policy = m->options.retry;
        double random = 0.5;
        if (policy.jitter > 0.0) {
            std::lock_guard lock(m->rng_mutex);
            random = std::uniform_real_distribution<double>(0.0, 1.0)(m->rng);
        }
        const duration delay = policy.delay_before(attempt + 1, random);
        try {
            if (!policy.should_retry(attempt, elapsed, delay, e)) {
                return std::nullopt;
            }
        } catch (...) { // the non_retryable predicate threw: give up
            return std::nullopt;
        }
        return delay;
    }

    // Publishes a failed record to the dead-letter topic (same partition, key and payload
    // bytes) with the dead_letter_header entries of event_bus.
    template <class T, class Handler>
    static task<void> dead_letter(nats_bus* bus, push_member<Handler>* m, std::size_t p,
                                  detail::nats_received got, std::optional<record<T>> rec,
                                  std::exception_ptr failure, std::size_t attempts,
                                  time_point first_failure, time_point last_failure) {
        std::string error_type = "unknown";
        std::string error_message;
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            error_type = typeid(e).name();
            error_message = e.what();
        } catch (...) {
        }
        // The record's own headers (undecodable payloads: as they came).
        headers h;
        std::string key;
        for (const auto& [k, v] : got.headers) {
            if (k == nats_header::key) {
                key = detail::nats_unescape_header(v);
            } else if (k.rfind("Nats-", 0) != 0) {
                h.set(k, detail::nats_unescape_header(v));
            }
        }
        if (rec) {
            key = rec->key;
        }
        auto ns = [](time_point t) {
            return std::to_string(std::chrono::nanoseconds(t.time_since_epoch()).count());
        };
        h.erase(dead_letter_header::reprocess_of); // stale once it failed again
        h.erase(dead_letter_header::reprocess_for);
        std::string entry = std::to_string(attempts) + "x " + error_type + " @" + ns(last_failure);
        const auto previous = h.get(dead_letter_header::history);
        std::string history = previous ? std::string(*previous) + ";" : std::string();
        history += entry;
        h.set(std::string(dead_letter_header::history), std::move(history));
        h.set(std::string(dead_letter_header::topic), m->topic);
        h.set(std::string(dead_letter_header::partition), std::to_string(p));
        h.set(std::string(dead_letter_header::offset), std::to_string(got.stream_sequence - 1));
        h.set(std::string(dead_letter_header::group), m->group);
        h.set(std::string(dead_letter_header::error_type), error_type);
        h.set(std::string(dead_letter_header::error_message), error_message);
        h.set(std::string(dead_letter_header::attempts), std::to_string(attempts));
        h.set(std::string(dead_letter_header::first_failure), ns(first_failure));
        h.set(std::string(dead_letter_header::last_failure), ns(last_failure));
        const std::string dlq = dead_letter_topic(m->topic);
        detail::nats_outgoing out =
            outgoing(bus->subject_of(dlq, p) + "." + detail::nats_token(key), key, h);
        out.data = std::move(got.data);
        // A member that dies between this publish and the +TERM makes the record come again:
        // the id makes its second dead letter (within the window) land once.
        out.msg_id = "eddy-dlq:" + m->group + ":" + bus->stream_of(m->topic, p) + ":" +
                     std::to_string(got.stream_sequence);
        co_await send(bus, std::move(out), dlq, p);
    }

    // ----- pull members -----

    struct pull_member {
        pull_member() = default;
        pull_member(const pull_member&) = delete;
        pull_member& operator=(const pull_member&) = delete;
        // Gives the record in flight back (redelivered at once), then drops the bindings (the
        // group's consumers stay) and stops the fetch thread.
        ~pull_member() {
            if (!in_flight.empty()) {
                client->acknowledge_async(in_flight, "-NAK");
            }
            pulls.clear();
        }

        std::string topic;
        std::string group;
        std::size_t partitions = 1;
        detail::nats_client* client = nullptr;
        detail::nats_worker worker;                            // the fetch thread
        std::vector<std::unique_ptr<detail::nats_pull>> pulls; // per partition, bound lazily
        std::size_t cursor = 0;                                // next partition to look at
        std::string in_flight;                                 // its ack subject, if any
    };

    // One sweep over the partitions (on the fetch thread): the first record found, with its
    // partition. Waits `wait / partitions` (at least 5 ms) on each.
    std::optional<std::pair<std::size_t, detail::nats_received>> sweep(pull_member& m) {
        if (m.pulls.empty()) {
            m.pulls.resize(m.partitions);
        }
        const std::string durable = detail::nats_token(m.group);
        const auto slice = std::max<std::chrono::milliseconds>(
            std::chrono::milliseconds(5),
            m_options.fetch_wait / static_cast<std::int64_t>(m.partitions));
        for (std::size_t i = 0; i < m.partitions; ++i) {
            const std::size_t p = (m.cursor + i) % m.partitions;
            if (!m.pulls[p]) {
                m.pulls[p] = std::make_unique<detail::nats_pull>(
                    *m_client, stream_of(m.topic, p), durable, subject_of(m.topic, p) + ".>");
            }
            std::optional<detail::nats_received> got = m.pulls[p]->fetch(slice);
            if (got) {
                m.cursor = (p + 1) % m.partitions;
                return std::pair<std::size_t, detail::nats_received>{p, std::move(*got)};
            }
        }
        return std::nullopt;
    }

    template <class T>
    static stream<record<T>> pull(nats_bus* bus, std::shared_ptr<pull_member> m) {
        using found = std::optional<std::pair<std::size_t, detail::nats_received>>;
        for (;;) {
            if (!m->in_flight.empty()) { // pulled again: the record before is done
                const std::string reply = std::move(m->in_flight);
                m->in_flight.clear();
                co_await acknowledge(bus, &m->worker, reply, "+ACK");
            }
            std::function<found()> f = [bus, &m] { return bus->sweep(*m); };
            found got = co_await blocking<found>(bus, &m->worker, std::move(f));
            if (!got) {
                const std::stop_token token = co_await get_stop_token();
                if (token.stop_requested()) {
                    throw operation_cancelled();
                }
                continue;
            }
            const detail::nats_received& msg = got->second;
            if (const auto for_group = msg.headers.get(dead_letter_header::reprocess_for);
                for_group && detail::nats_unescape_header(*for_group) != m->group) {
                co_await acknowledge(bus, &m->worker, msg.reply, "+ACK");
                continue;
            }
            m->in_flight = msg.reply;
            co_yield bus->template to_record<T>(m->topic, got->first, msg);
        }
    }

    // ----- dead-letter reprocessing -----

    [[nodiscard]] std::string mark_key(const dead_letter_id& id) const {
        return stream_of(id.topic, id.partition) + "." + std::to_string(id.offset + 1);
    }

    static dead_letter_status status_of(const std::optional<std::string>& mark) {
        if (!mark) {
            return dead_letter_status::pending;
        }
        return mark->rfind("reprocessed", 0) == 0 ? dead_letter_status::reprocessed
                                                  : dead_letter_status::discarded;
    }

    static dead_letter_entry entry_of(const std::string& dlq, std::size_t p,
                                      const detail::nats_received& m) {
        auto text = [&m](std::string_view k) {
            const auto v = m.headers.get(k);
            return v ? detail::nats_unescape_header(*v) : std::string();
        };
        auto number = [&text](std::string_view k) -> std::uint64_t {
            const std::string v = text(k);
            try {
                return v.empty() ? 0 : std::stoull(v);
            } catch (const std::exception&) {
                return 0;
            }
        };
        dead_letter_entry e;
        e.id = {dlq, p, m.stream_sequence - 1};
        e.topic = text(dead_letter_header::topic);
        e.partition = static_cast<std::size_t>(number(dead_letter_header::partition));
        e.offset = number(dead_letter_header::offset);
        e.group = text(dead_letter_header::group);
        e.key = text(nats_header::key);
        e.error_type = text(dead_letter_header::error_type);
        e.error_message = text(dead_letter_header::error_message);
        e.attempts = static_cast<std::size_t>(number(dead_letter_header::attempts));
        e.history = text(dead_letter_header::history);
        return e;
    }

    // A pending dead letter, ready to republish.
    struct located {
        std::string mark;
        std::string original;
        std::size_t partition = 0;
        detail::nats_outgoing message;
    };

    located locate(const dead_letter_id& id, const char* op) const {
        const std::string where =
            std::string("eddy::nats_bus::") + op + ": dead letter " + id.str();
        std::optional<detail::nats_topic_descriptor> d = find_descriptor(id.topic);
        if (!d || !d->dead_letter) {
            throw error(where + ": '" + id.topic + "' is not a dead-letter topic");
        }
        std::optional<detail::nats_received> m;
        if (id.partition < d->config.partitions) {
            m = m_client->get_message(stream_of(id.topic, id.partition), id.offset + 1);
        }
        if (!m) {
            throw error(where + " does not exist (or was dropped by retention)");
        }
        located l;
        l.mark = mark_key(id);
        if (const std::optional<std::string> mark = m_client->mark(l.mark)) {
            throw error(
                where + " was already " +
                (status_of(mark) == dead_letter_status::reprocessed ? "reprocessed" : "discarded"));
        }
        const dead_letter_entry e = entry_of(id.topic, id.partition, *m);
        l.original = e.topic;
        const detail::nats_topic_descriptor od = descriptor(e.topic, op);
        l.partition = static_cast<std::size_t>(detail::fnv1a_64(e.key) % od.config.partitions);
        headers h;
        for (const auto& [k, v] : m->headers) {
            // The failure's headers go; the history stays (it returns to the DLQ with it).
            if (k.rfind("Nats-", 0) == 0 || k == nats_header::key ||
                (k.rfind("eddy.dlq.", 0) == 0 && k != dead_letter_header::history)) {
                continue;
            }
            h.set(k, detail::nats_unescape_header(v));
        }
        h.set(std::string(dead_letter_header::reprocess_of), id.str());
        h.set(std::string(dead_letter_header::reprocess_for), e.group);
        l.message =
            outgoing(subject_of(e.topic, l.partition) + "." + detail::nats_token(e.key), e.key, h);
        l.message.data = std::move(m->data);
        l.message.msg_id = "eddy-reprocess:" + id.str();
        return l;
    }

    static task<publish_result> republish(nats_bus* bus, located l, std::string who) {
        const publish_result r = co_await send(bus, std::move(l.message), l.original, l.partition);
        std::function<bool()> mark = [bus, &l, &who] {
            bus->m_client->set_mark(l.mark, "reprocessed|" + who + "|" + bus->now_ns());
            return true;
        };
        co_await blocking<bool>(bus, bus->m_admin.get(), std::move(mark));
        co_return r;
    }

    static task<publish_result> reprocess_one(nats_bus* bus, dead_letter_id id, std::string who) {
        std::function<located()> f = [bus, &id] { return bus->locate(id, "reprocess"); };
        located l = co_await blocking<located>(bus, bus->m_admin.get(), std::move(f));
        co_return co_await republish(bus, std::move(l), std::move(who));
    }

    static task<std::vector<publish_result>>
    reprocess_many(nats_bus* bus, std::vector<dead_letter_id> ids, std::string who) {
        std::function<std::vector<located>()> f = [bus, &ids] {
            std::vector<located> out;
            for (std::size_t i = 0; i < ids.size(); ++i) {
                for (std::size_t j = 0; j < i; ++j) {
                    if (ids[j] == ids[i]) {
                        throw error("eddy::nats_bus::reprocess: dead letter " + ids[i].str() +
                                    " is given twice");
                    }
                }
                out.push_back(bus->locate(ids[i], "reprocess"));
            }
            return out;
        };
        std::vector<located> all =
            co_await blocking<std::vector<located>>(bus, bus->m_admin.get(), std::move(f));
        std::vector<publish_result> out;
        out.reserve(all.size());
        for (located& l : all) {
            out.push_back(co_await republish(bus, std::move(l), who));
        }
        co_return out;
    }

    Scheduler* m_scheduler;
    Codec m_codec;
    nats_bus_options m_options;
    std::unique_ptr<detail::nats_client> m_client;
    std::unique_ptr<detail::nats_worker> m_admin; // blocking calls of coroutines (lookups)
    async_semaphore m_publish_slots;              // publishes awaiting their ack
    mutable std::mutex m_mutex;                   // guards m_topics
    mutable std::map<std::string, detail::nats_topic_descriptor, std::less<>> m_topics;
};

} // namespace eddy
