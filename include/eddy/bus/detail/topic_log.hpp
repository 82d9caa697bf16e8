// eddy/bus/detail/topic_log.hpp - the in-memory state of one bus topic: its partitions' logs
// and its consumer groups. Everything here is guarded by the owning bus's lock.
#pragma once

#include <atomic>     // std::atomic (generations a push worker checks between records)
#include <chrono>     // std::chrono::steady_clock
#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t
#include <deque>      // std::deque (a partition's log: append at the back, drop at the front)
#include <functional> // std::less
#include <map>        // std::map (groups: stable addresses, heterogeneous lookup)
#include <memory>     // std::shared_ptr, std::make_shared
#include <string>     // std::string
#include <typeindex>  // std::type_index
#include <utility>    // std::move, std::pair
#include <vector>     // std::vector

#include <eddy/bus/bus_observer.hpp>
#include <eddy/bus/detail/chunked_log.hpp>
#include <eddy/bus/detail/group_member.hpp>
#include <eddy/bus/detail/record_bytes.hpp>
#include <eddy/bus/headers.hpp>
#include <eddy/bus/record.hpp>
#include <eddy/bus/topic_config.hpp>

namespace eddy::detail {

struct topic_base;

// A consumer group of one topic. At most one record of a partition is in flight in the group
// (`busy`), so order per partition holds and a partition changes hands only between records.
struct consumer_group {
    consumer_group() = default;
    consumer_group(const consumer_group&) = delete;
    consumer_group& operator=(const consumer_group&) = delete;

    // Bumped (under the lock) by whatever may change what the group's next claim returns apart
    // from appends: a join or leave, parking, a discard, a transaction committing its offsets.
    // A push worker reads it without the lock between the records of a batch it reserved and
    // gives the rest back when it moved (see event_bus::push_worker).
    std::atomic<std::uint64_t> gen{0};
    void bump() noexcept { gen.fetch_add(1, std::memory_order_release); }

    std::vector<std::uint64_t> committed; // per partition: the next offset to deliver
    std::vector<char> busy;               // per partition: a record is in flight
    std::vector<std::uint64_t> pin; // per busy partition: the first offset in hand (max: none)
    topic_base* topic = nullptr;    // the group's topic
    std::vector<std::shared_ptr<group_member>> members; // join order

    // Ordered dead-lettering: a key whose record was dead-lettered, and the records of it that
    // came later, held back in order (type-erased record_ptr of the topic's type).
    struct parked_key {
        enum class state { waiting, head_in_flight, releasing };
        state st = state::waiting;
        std::size_t partition = 0;
        std::string head;              // dead_letter_id::str() of the dead letter holding the key
        std::uint64_t head_offset = 0; // head_in_flight: the republished head's offset
        std::deque<std::shared_ptr<const void>> successors; // copies (the log may drop them)
    };
    std::map<std::string, parked_key, std::less<>> parked;

    // Partition p belongs to members[p % n]: round robin in join order, recomputed on every
    // join and leave (the rebalance).
    [[nodiscard]] group_member* owner(std::size_t p) const noexcept {
        return members.empty() ? nullptr : members[p % members.size()].get();
    }
};

// What a topic remembers of an idempotent producer in one partition.
struct producer_partition {
    bool any = false;                                           // a sequence was accepted
    std::uint64_t last = 0;                                     // the last accepted sequence
    std::deque<std::pair<std::uint64_t, std::uint64_t>> recent; // (sequence, offset), oldest first
};

// Whether the records of one transaction are visible to read_committed consumers. Shared by
// the transaction and each record it wrote (a non-transactional record has none: committed).
enum class txn_status { open, committed, aborted };
struct txn_marker {
    txn_status status = txn_status::open;
    // The partitions the transaction wrote to (woken when it ends), without repeats in a row.
    std::vector<std::pair<topic_base*, std::size_t>> touched;
};

struct topic_base {
    using time_point = std::chrono::steady_clock::time_point;

    topic_base(std::string n, std::type_index t, const char* tn, topic_config c, bool dlq)
        : name(std::move(n)), type(t), type_name(tn), config(c), is_dead_letter(dlq),
          begin(c.partitions, 0), end(c.partitions, 0) {}
    topic_base(const topic_base&) = delete;
    topic_base& operator=(const topic_base&) = delete;
    virtual ~topic_base() = default;

    // Drops what age retention says is gone at `now`.
    virtual void prune(time_point now) = 0;
    // Frees dropped records of partition `p` that no group has in hand any more.
    virtual void trim(std::size_t p) = 0;
    // `append` for a value of the topic's type given as `void*` (moved from): the typed path
    // of a transaction, which is not a template. The caller checked the type.
    virtual publish_result append_erased(std::size_t p, std::string key, eddy::headers h,
                                         void* value, time_point now,
                                         std::shared_ptr<txn_marker> txn) = 0;
    // Appends a copy of the value at `from`'s `p`/`offset` (`from` holds the same type).
    virtual publish_result append_copy(const topic_base& from, std::size_t p, std::uint64_t offset,
                                       std::string key, eddy::headers h, time_point now) = 0;
    // The size of a record (see topic_config::max_record_bytes) of a value of the topic's type
    // at `value`; zero when the type cannot be measured (create_topic refused a limit then).
    [[nodiscard]] virtual std::size_t bytes_of(const std::string& key, const eddy::headers& h,
                                               const void* value) const = 0;
    // The key and headers of the retained record at `p`/`offset`.
    [[nodiscard]] virtual const std::string& key_at(std::size_t p, std::uint64_t offset) const = 0;
    [[nodiscard]] virtual const eddy::headers& headers_at(std::size_t p,
                                                          std::uint64_t offset) const = 0;

    std::string name;
    std::type_index type;
    const char* type_name; // for error messages
    topic_config config;
    bool is_dead_letter;              // a `<topic>.DLQ` created with its topic
    std::vector<std::uint64_t> begin; // per partition: the earliest retained offset
    std::vector<std::uint64_t> end;   // per partition: the next offset to assign
    std::map<std::string, consumer_group, std::less<>> groups;
    std::map<std::string, std::vector<producer_partition>, std::less<>> producers;
    topic_stats stats;
    // Bumped (under the lock) whenever retention drops a record; read without the lock by a
    // push worker between the records of a batch (a dropped record ends the batch). On a cache
    // line of its own: it is read per record handled, and nothing a producer writes per record
    // may share its line (each such write would then miss the cache).
    alignas(64) std::atomic<std::uint64_t> drops{0};
};

template <class T>
struct topic_log final : topic_base {
    // A parked or released record held outside the log (ordered dead-lettering): a copy.
    using record_ptr = std::shared_ptr<const record<T>>;
    // A record in a partition's log, in place, with its transaction (null: not transactional).
    struct entry {
        // Built in place from the pieces `publish` was given: each is moved once, into its
        // final place in the log.
        entry(std::string&& topic, std::size_t p, std::uint64_t offset, std::string&& key,
              eddy::headers&& h, time_point timestamp, T&& value, std::shared_ptr<txn_marker>&& t)
            : rec{std::move(topic), p,         offset,          std::move(key),
                  std::move(h),     timestamp, std::move(value)},
              txn(std::move(t)) {}
        record<T> rec;
        std::shared_ptr<txn_marker> txn;
    };

    topic_log(std::string n, std::type_index t, const char* tn, topic_config c, bool dlq)
        : topic_base(std::move(n), t, tn, c, dlq), logs(c.partitions), first(c.partitions, 0),
          marked_end(c.partitions, 0) {}

    void prune(time_point now) override {
        if (config.retention_age == topic_config::duration::zero()) {
            return;
        }
        for (std::size_t p = 0; p < logs.size(); ++p) {
            // Gone once now >= timestamp + retention_age (written without overflow).
            bool dropped = false;
            while (begin[p] < end[p] &&
                   now - at(p, begin[p]).rec.timestamp >= config.retention_age) {
                ++begin[p];
                dropped = true;
            }
            if (dropped) {
                drops.store(drops.load(std::memory_order_relaxed) + 1, std::memory_order_release);
                trim(p);
            }
        }
    }

    // Frees the records of `p` that retention dropped, up to the first one a group still has
    // in hand (a consumer reads it without the lock: it must stay where it is until then).
    void trim(std::size_t p) override {
        std::uint64_t floor = begin[p];
        for (const auto& [name, g] : groups) {
            if (g.busy[p] != 0 && g.pin[p] < floor) {
                floor = g.pin[p];
            }
        }
        auto& log = logs[p];
        while (first[p] < floor) {
            log.pop_front();
            ++first[p];
        }
    }

    publish_result append(std::size_t p, std::string key, eddy::headers h, T value, time_point now,
                          std::shared_ptr<txn_marker> txn = nullptr) {
        std::string topic = name;
        return append_parts(p, topic, key, h, value, now, std::move(txn));
    }

    // Appends a record of `topic` (this one's name), `key`, `h` and `value` (each moved from)
    // stamped `now` to partition `p`, in place.
    publish_result append_parts(std::size_t p, std::string& topic, std::string& key,
                                eddy::headers& h, T& value, time_point now,
                                std::shared_ptr<txn_marker> txn) {
        const std::uint64_t offset = end[p];
        if (txn || !h.empty()) {
            marked_end[p] = offset + 1;
        }
        logs[p].emplace_back(std::move(topic), p, offset, std::move(key), std::move(h), now,
                             std::move(value), std::move(txn));
        ++end[p];
        ++stats.published;
        if (config.retention_count != 0 && end[p] - begin[p] > config.retention_count) {
            ++begin[p];
            drops.store(drops.load(std::memory_order_relaxed) + 1, std::memory_order_release);
            trim(p);
        }
        prune(now);
        return publish_result{p, offset};
    }

    publish_result append_erased(std::size_t p, std::string key, eddy::headers h, void* value,
                                 time_point now, std::shared_ptr<txn_marker> txn) override {
        return append(p, std::move(key), std::move(h), std::move(*static_cast<T*>(value)), now,
                      std::move(txn));
    }

    publish_result append_copy(const topic_base& from, std::size_t p, std::uint64_t offset,
                               std::string key, eddy::headers h, time_point now) override {
        T value(static_cast<const topic_log&>(from).at(p, offset).rec.value);
        return append(p, std::move(key), std::move(h), std::move(value), now);
    }
    std::size_t bytes_of(const std::string& key, const eddy::headers& h,
                         const void* value) const override {
        if constexpr (measurable_payload<T>) {
            return record_size(key, h, *static_cast<const T*>(value));
        } else {
            return 0;
        }
    }
    const std::string& key_at(std::size_t p, std::uint64_t offset) const override {
        return at(p, offset).rec.key;
    }
    const eddy::headers& headers_at(std::size_t p, std::uint64_t offset) const override {
        return at(p, offset).rec.headers;
    }

    // Precondition: first[p] <= offset < end[p] (retained, or dropped but still pinned).
    [[nodiscard]] const entry& at(std::size_t p, std::uint64_t offset) const {
        return logs[p][static_cast<std::size_t>(offset - first[p])];
    }

    std::vector<chunked_log<entry>> logs;
    std::vector<std::uint64_t> first; // per partition: the offset of logs[p].front()
    // Per partition: one past the last record with a transaction or headers (0: none). A
    // consumer's claim reserves the plain records after it without reading them under the
    // lock (they are on lines the producer just wrote: each read would miss there).
    std::vector<std::uint64_t> marked_end;
    topic_log* dead_letters = nullptr; // the `<topic>.DLQ`; none for a dead-letter topic
};

} // namespace eddy::detail
