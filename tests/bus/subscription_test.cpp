// Tests of push members (eddy::event_bus::subscribe and eddy::subscription): delivery in order
// per partition and commit after success; stop() finishing the record in hand; cancel()
// abandoning it to another member; a member joining mid-stream taking partitions over between
// records; the exact backoff schedule of retries in virtual time; non-retryable errors; a
// bounded number of records in flight; handlers taking a mutable record; and a multi-threaded
// stress on a thread_pool (N producers, two groups, exact counts, order per partition).
#include <eddy/bus/subscription.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/async_event.hpp>
#include <eddy/core/async_latch.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>

using eddy::record;
using eddy::subscription;
using eddy::task;
using eddy::virtual_time_scheduler;
using bus_t = eddy::event_bus<virtual_time_scheduler>;
using duration = virtual_time_scheduler::duration;
using time_point = virtual_time_scheduler::time_point;
using namespace std::chrono_literals;

namespace {

constexpr time_point epoch{};

struct delivery {
    int member;
    std::size_t partition;
    std::uint64_t offset;
    time_point started;
    friend bool operator==(const delivery&, const delivery&) = default;
};

// What the handlers of a test did (all on the virtual-time thread).
struct journal {
    std::vector<delivery> done;      // handled successfully, in completion order
    std::vector<delivery> abandoned; // ended by cancellation
    std::map<std::size_t, int> active;
    int overlaps = 0; // a partition handled by two handlers at once
    int remaining = 0;
    eddy::async_event all_done;

    void begin(std::size_t p) {
        if (++active[p] > 1) {
            ++overlaps;
        }
    }
};

task<void> handle(journal* j, virtual_time_scheduler* vt, int member, duration work, std::size_t p,
                  std::uint64_t offset) {
    const time_point started = vt->now();
    j->begin(p);
    try {
        if (work > duration::zero()) {
            co_await vt->schedule_after(work);
        }
    } catch (const eddy::operation_cancelled&) {
        --j->active[p];
        j->abandoned.push_back({member, p, offset, started});
        throw;
    }
    --j->active[p];
    j->done.push_back({member, p, offset, started});
    if (--j->remaining == 0) {
        j->all_done.set();
    }
}

// A handler that takes `work` of virtual time per record.
struct worker {
    journal* j;
    virtual_time_scheduler* vt;
    int member;
    duration work = duration::zero();
    task<void> operator()(const record<int>& r) const {
        return handle(j, vt, member, work, r.partition, r.offset);
    }
};

// Keys that land in partition 0 and 1 of a 2-partition topic.
std::pair<std::string, std::string> keys_for_two(const bus_t& bus, const std::string& topic) {
    std::string k0;
    std::string k1;
    for (int i = 0; k0.empty() || k1.empty(); ++i) {
        std::string k = "key-" + std::to_string(i);
        (bus.partition_for(topic, k) == 0 ? k0 : k1) = k;
    }
    return {k0, k1};
}

task<void> publish_n(bus_t* bus, std::string topic, std::string key, int n) {
    for (int i = 0; i < n; ++i) {
        co_await bus->publish(topic, key, i);
    }
}

task<void> wait_and_stop(journal* j, subscription* sub) {
    co_await j->all_done.wait();
    co_await sub->stop();
}

} // namespace

TEST_CASE("subscribe: every record handled once, in order per partition, then committed",
          "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 4});
    journal j;
    j.remaining = 20;
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, journal* jr) -> task<void> {
        subscription sub = b->subscribe<int>("t", "g", worker{jr, v, 1});
        CHECK(sub.active());
        for (int i = 0; i < 20; ++i) {
            co_await b->publish("t", "key-" + std::to_string(i % 7), i);
        }
        co_await wait_and_stop(jr, &sub);
        CHECK_FALSE(sub.active());
    };
    vt.run(scenario(&bus, &vt, &j));
    REQUIRE(j.done.size() == 20);
    std::map<std::size_t, std::uint64_t> next;
    for (const auto& d : j.done) {
        REQUIRE(d.offset == next[d.partition]++);
    }
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0, 0, 0, 0});
    REQUIRE(bus.stats("t").delivered == 20);
    REQUIRE(j.overlaps == 0);
}

TEST_CASE("stop() lets the record in hand finish and commits it, then takes no more",
          "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    journal j;
    j.remaining = 100;
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, journal* jr) -> task<time_point> {
        subscription sub = b->subscribe<int>("t", "g", worker{jr, v, 1, 10s});
        co_await publish_n(b, "t", "k", 2);
        co_await v->schedule_after(5s);
        co_await sub.stop();
        co_return v->now();
    };
    REQUIRE(vt.run(scenario(&bus, &vt, &j)) == epoch + 10s);
    REQUIRE(j.done == std::vector<delivery>{{1, 0, 0, epoch}});
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{1});
}

TEST_CASE("cancel(): the record in hand is abandoned and redelivered to a remaining member",
          "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    journal j;
    j.remaining = 2;
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, journal* jr) -> task<void> {
        // A joins first and owns the only partition; its handler would take an hour.
        subscription a = b->subscribe<int>("t", "g", worker{jr, v, 1, 1h});
        subscription c = b->subscribe<int>("t", "g", worker{jr, v, 2, 1s});
        co_await publish_n(b, "t", "k", 2);
        co_await v->schedule_after(1s);
        co_await a.cancel(); // A "dies" mid-record
        co_await wait_and_stop(jr, &c);
    };
    vt.run(scenario(&bus, &vt, &j));
    REQUIRE(j.abandoned == std::vector<delivery>{{1, 0, 0, epoch}});
    REQUIRE(j.done == std::vector<delivery>{{2, 0, 0, epoch + 1s}, {2, 0, 1, epoch + 2s}});
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0});
    REQUIRE(bus.stats("t").delivered == 3); // record 0 twice
    REQUIRE(j.overlaps == 0);
}

TEST_CASE("a member joining mid-stream takes its partitions over between records",
          "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 2});
    const auto [k0, k1] = keys_for_two(bus, "t");
    journal j;
    j.remaining = 8;
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, journal* jr, std::string key0,
                       std::string key1) -> task<void> {
        subscription a = b->subscribe<int>("t", "g", worker{jr, v, 1, 1s});
        co_await publish_n(b, "t", key0, 4);
        co_await publish_n(b, "t", key1, 4);
        co_await v->schedule_after(1500ms);
        // Partition 1 moves to B (1 % 2 == 1), but only once A's record of it is done (at 2s).
        subscription c = b->subscribe<int>("t", "g", worker{jr, v, 2, 1s});
        co_await jr->all_done.wait();
        co_await a.stop();
        co_await c.stop();
    };
    vt.run(scenario(&bus, &vt, &j, k0, k1));
    std::vector<delivery> by_a;
    std::vector<delivery> by_b;
    for (const auto& d : j.done) {
        (d.member == 1 ? by_a : by_b).push_back(d);
    }
    REQUIRE(by_a == std::vector<delivery>{{1, 0, 0, epoch},
                                          {1, 1, 0, epoch + 1s},
                                          {1, 0, 1, epoch + 2s},
                                          {1, 0, 2, epoch + 3s},
                                          {1, 0, 3, epoch + 4s}});
    REQUIRE(by_b == std::vector<delivery>{
                        {2, 1, 1, epoch + 2s}, {2, 1, 2, epoch + 3s}, {2, 1, 3, epoch + 4s}});
    REQUIRE(j.overlaps == 0);
    REQUIRE(j.abandoned.empty());
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0, 0});
}

namespace {

struct attempts_log {
    std::vector<std::pair<int, time_point>> attempts; // value, when
    int remaining = 0;
    eddy::async_event all_done;
};

// Fails for negative values (std::runtime_error, or std::invalid_argument for -2), records
// every attempt.
task<void> picky(attempts_log* log, virtual_time_scheduler* vt, int v) {
    log->attempts.emplace_back(v, vt->now());
    if (v == -2) {
        throw std::invalid_argument("bad input");
    }
    if (v < 0) {
        throw std::runtime_error("negative");
    }
    if (--log->remaining == 0) {
        log->all_done.set();
    }
    co_return;
}

struct picky_handler {
    attempts_log* log;
    virtual_time_scheduler* vt;
    task<void> operator()(const record<int>& r) const { return picky(log, vt, r.value); }
};

task<void> publish_values(bus_t* bus, std::vector<int> values) {
    for (int v : values) {
        co_await bus->publish("t", "k", v);
    }
}

task<void> run_picky(bus_t* bus, attempts_log* log, virtual_time_scheduler* vt,
                     eddy::consumer_options options, std::vector<int> values) {
    subscription sub = bus->subscribe<int>("t", "g", picky_handler{log, vt}, std::move(options));
    co_await publish_values(bus, std::move(values));
    co_await log->all_done.wait();
    co_await sub.stop();
}

} // namespace

TEST_CASE("a failing handler is retried with the policy's exact backoff, then dead-lettered",
          "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    attempts_log log;
    log.remaining = 1;
    eddy::consumer_options options{
        .retry = {
            .initial_interval = 1s, .multiplier = 2.0, .max_interval = 4s, .max_attempts = 6}};
    vt.run(run_picky(&bus, &log, &vt, options, {-1, 7}));
    // Waits 1s, 2s, 4s, 4s, 4s (capped): attempts at 0, 1, 3, 7, 11, 15; then the next record.
    REQUIRE(log.attempts == std::vector<std::pair<int, time_point>>{{-1, epoch},
                                                                    {-1, epoch + 1s},
                                                                    {-1, epoch + 3s},
                                                                    {-1, epoch + 7s},
                                                                    {-1, epoch + 11s},
                                                                    {-1, epoch + 15s},
                                                                    {7, epoch + 15s}});
    REQUIRE(bus.stats("t") ==
            eddy::topic_stats{.published = 2, .delivered = 2, .retried = 5, .dead_lettered = 1});
    REQUIRE(bus.end_offsets("t.DLQ") == std::vector<std::uint64_t>{1});
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0});
}

TEST_CASE("errors the policy marks non-retryable are dead-lettered at once",
          "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    attempts_log log;
    log.remaining = 1;
    eddy::consumer_options options{
        .retry = {.initial_interval = 1s,
                  .max_attempts = 3,
                  .non_retryable = eddy::retry_policy::error_types<std::invalid_argument>()}};
    vt.run(run_picky(&bus, &log, &vt, options, {-2, -1, 3}));
    REQUIRE(log.attempts ==
            std::vector<std::pair<int, time_point>>{
                {-2, epoch}, {-1, epoch}, {-1, epoch + 1s}, {-1, epoch + 3s}, {3, epoch + 3s}});
    REQUIRE(bus.stats("t").retried == 2);
    REQUIRE(bus.stats("t").dead_lettered == 2);
    REQUIRE(bus.end_offsets("t.DLQ") == std::vector<std::uint64_t>{2});
}

TEST_CASE("cancel() during a backoff wait gives the record back uncommitted",
          "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    attempts_log log;
    auto scenario = [](bus_t* b, attempts_log* l, virtual_time_scheduler* v) -> task<void> {
        eddy::consumer_options options{.retry = {.initial_interval = 10s, .max_attempts = 5}};
        subscription sub = b->subscribe<int>("t", "g", picky_handler{l, v}, options);
        std::vector<int> values{-1}; // g++ 12: no braced list inside a co_await expression
        co_await publish_values(b, std::move(values));
        co_await v->schedule_after(15s); // attempts at 0 and 10s; waiting for 30s
        co_await sub.cancel();
    };
    vt.run(scenario(&bus, &log, &vt));
    REQUIRE(vt.now() == epoch + 15s);
    REQUIRE(log.attempts.size() == 2);
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{1});
    REQUIRE(bus.stats("t").dead_lettered == 0);
    REQUIRE(bus.end_offsets("t.DLQ") == std::vector<std::uint64_t>{0});
}

TEST_CASE("max_in_flight bounds the records a member handles at once", "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t", {.partitions = 4});
    journal j;
    j.remaining = 12;
    std::vector<std::string> keys;
    for (int i = 0; keys.size() < 4; ++i) { // one key per partition
        std::string k = "key-" + std::to_string(i);
        if (std::none_of(keys.begin(), keys.end(), [&](const std::string& o) {
                return bus.partition_for("t", o) == bus.partition_for("t", k);
            })) {
            keys.push_back(k);
        }
    }
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, journal* jr,
                       std::vector<std::string> ks) -> task<void> {
        subscription sub = b->subscribe<int>("t", "g", worker{jr, v, 1, 1s}, {.max_in_flight = 2});
        for (const std::string& k : ks) {
            co_await publish_n(b, "t", k, 3);
        }
        co_await wait_and_stop(jr, &sub);
    };
    vt.run(scenario(&bus, &vt, &j, keys));
    // 12 records of 1s, two at a time: 6s; never more than two started at one instant.
    REQUIRE(vt.now() == epoch + 6s);
    std::map<time_point, int> started;
    for (const auto& d : j.done) {
        ++started[d.started];
    }
    REQUIRE(started.size() == 6);
    for (const auto& [at, n] : started) {
        REQUIRE(n == 2);
    }
    REQUIRE(j.overlaps == 0);
}

namespace {
task<void> bump(std::vector<int>* seen, int v) {
    seen->push_back(v);
    co_return;
}
struct mutating_handler {
    std::vector<int>* seen;
    task<void> operator()(record<int>& r) const { // a copy: changing it affects nobody else
        r.value *= 10;
        return bump(seen, r.value);
    }
};
struct const_handler {
    std::vector<int>* seen;
    task<void> operator()(const record<int>& r) const { return bump(seen, r.value); }
};
} // namespace

TEST_CASE("a handler taking record<T>& gets its own copy", "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    std::vector<int> mutated;
    std::vector<int> plain;
    auto scenario = [](bus_t* b, std::vector<int>* m, std::vector<int>* p) -> task<void> {
        subscription one = b->subscribe<int>("t", "one", mutating_handler{m});
        subscription two = b->subscribe<int>("t", "two", const_handler{p});
        std::vector<int> values{1, 2};
        co_await publish_values(b, std::move(values));
        co_await b->scheduler().schedule_after(1s); // both are idle long before
        co_await one.stop();
        co_await two.stop();
    };
    vt.run(scenario(&bus, &mutated, &plain));
    REQUIRE(mutated == std::vector<int>{10, 20});
    REQUIRE(plain == std::vector<int>{1, 2});
}

TEST_CASE("subscribe checks its arguments eagerly", "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    std::vector<int> seen;
    REQUIRE_THROWS_WITH(bus.subscribe<int>("nope", "g", const_handler{&seen}),
                        Catch::Contains("unknown topic 'nope'"));
    REQUIRE_THROWS_WITH(bus.subscribe<int>("t", "g", const_handler{&seen}, {.max_in_flight = 0}),
                        Catch::Contains("max_in_flight must be at least 1"));
    REQUIRE_THROWS_WITH(
        bus.subscribe<int>("t", "g", const_handler{&seen}, {.retry = {.max_attempts = 0}}),
        Catch::Contains("max_attempts"));
    subscription empty;
    REQUIRE_FALSE(empty.active());
}

// ----- multi-threaded stress -----
// Producers publish concurrently from pool threads; group g0 has three members (one with two
// records in flight, one leaving mid-stream), group g1 two (one joining mid-stream). Without
// failures or cancellations every record reaches each group exactly once.

namespace {

constexpr int producers = 4;
constexpr int per_producer = 1000;
constexpr int total = producers * per_producer;

struct stress_log {
    std::mutex mutex;
    // per group: deliveries per record value, and the offsets seen per partition in order
    std::vector<int> count[2]{std::vector<int>(total, 0), std::vector<int>(total, 0)};
    std::map<std::size_t, std::vector<std::uint64_t>> offsets[2];
    std::map<std::string, std::vector<int>> by_key[2];
};

task<void> count_record(stress_log* log, eddy::async_latch* done, int group, std::size_t p,
                        std::uint64_t offset, std::string key, int v) {
    {
        std::lock_guard lock(log->mutex);
        ++log->count[group][static_cast<std::size_t>(v)];
        log->offsets[group][p].push_back(offset);
        log->by_key[group][key].push_back(v);
    }
    done->count_down();
    co_return;
}

struct counting_handler {
    stress_log* log;
    eddy::async_latch* done;
    int group;
    task<void> operator()(const record<int>& r) const {
        return count_record(log, done, group, r.partition, r.offset, r.key, r.value);
    }
};

task<void> produce(eddy::event_bus<eddy::thread_pool>* bus, eddy::thread_pool* pool, int id) {
    co_await pool->schedule();
    for (int i = 0; i < per_producer; ++i) {
        // value = id * per_producer + i; 3 keys per producer, so each key's values ascend
        co_await bus->publish("s", "p" + std::to_string(id) + "-k" + std::to_string(i % 3),
                              id * per_producer + i);
    }
}

// As produce, in batches of 7 (publish_batch): the same keys and values, in the same order.
task<void> produce_batched(eddy::event_bus<eddy::thread_pool>* bus, eddy::thread_pool* pool,
                           int id) {
    co_await pool->schedule();
    for (int i = 0; i < per_producer;) {
        std::vector<eddy::producer_record<int>> batch;
        for (int j = 0; j < 7 && i < per_producer; ++j, ++i) {
            batch.push_back({"p" + std::to_string(id) + "-k" + std::to_string(i % 3),
                             id * per_producer + i,
                             {}});
        }
        co_await bus->publish_batch("s", std::move(batch));
    }
}

// `batched`: odd producers publish in batches.
task<void> stress(eddy::event_bus<eddy::thread_pool>* bus, eddy::thread_pool* pool, stress_log* log,
                  bool batched) {
    eddy::async_latch done0(total);
    eddy::async_latch done1(total);
    subscription g0a = bus->subscribe<int>("s", "g0", counting_handler{log, &done0, 0});
    subscription g0b =
        bus->subscribe<int>("s", "g0", counting_handler{log, &done0, 0}, {.max_in_flight = 2});
    subscription g1a = bus->subscribe<int>("s", "g1", counting_handler{log, &done1, 1});
    std::vector<task<void>> work;
    for (int id = 0; id < producers; ++id) {
        work.push_back(batched && id % 2 == 1 ? produce_batched(bus, pool, id)
                                              : produce(bus, pool, id));
    }
    subscription g0c = bus->subscribe<int>("s", "g0", counting_handler{log, &done0, 0});
    co_await eddy::when_all(std::move(work));
    // While records are still being handled, a member joins group 1 and one leaves group 0.
    subscription g1b = bus->subscribe<int>("s", "g1", counting_handler{log, &done1, 1});
    co_await g0c.stop();
    co_await done0.wait();
    co_await done1.wait();
    co_await g0a.stop();
    co_await g0b.stop();
    co_await g1a.stop();
    co_await g1b.stop();
}

} // namespace

namespace {

// Reads the record it was given after `work` of virtual time (the contract: the record stays
// valid until the handler's awaitable is done), then notes value and offset.
struct text_log {
    std::vector<std::string> seen;
    int remaining = 0;
    eddy::async_event all_done;
};

task<void> read_late(text_log* log, virtual_time_scheduler* vt, const record<std::string>* r) {
    co_await vt->schedule_after(1s);
    log->seen.push_back(r->value + "@" + std::to_string(r->offset));
    if (--log->remaining == 0) {
        log->all_done.set();
    }
}

struct late_reader {
    text_log* log;
    virtual_time_scheduler* vt;
    task<void> operator()(const record<std::string>& r) const { return read_late(log, vt, &r); }
};

// Long enough that the string's characters live on the heap (ASan sees a freed record).
std::string long_text(int i) {
    return "a record long enough to be on the heap #" + std::to_string(i);
}

task<void> publish_texts(bus_t* bus, int from, int to) {
    for (int i = from; i < to; ++i) {
        co_await bus->publish("t", "k", long_text(i));
    }
}

task<void> retention_under_handler(bus_t* b, virtual_time_scheduler* v, text_log* l,
                                   int first_batch, int second_batch) {
    eddy::consumer_options options{.on_out_of_range = eddy::offset_reset::earliest};
    subscription sub = b->subscribe<std::string>("t", "g", late_reader{l, v}, options);
    co_await publish_texts(b, 0, first_batch);
    co_await v->schedule_after(500ms); // the first record is in hand until 1s
    co_await publish_texts(b, first_batch, first_batch + second_batch);
    co_await l->all_done.wait();
    co_await sub.stop();
}

} // namespace

TEST_CASE("a record retention drops while its handler has it stays valid until it is done",
          "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<std::string>("t", {.retention_count = 1});
    text_log l;
    l.remaining = 2;
    vt.run(retention_under_handler(&bus, &vt, &l, 1, 3)); // 1, 2, 3 drop 0, 1, 2
    REQUIRE(l.seen == std::vector<std::string>{long_text(0) + "@0", long_text(3) + "@3"});
    REQUIRE(bus.begin_offsets("t") == std::vector<std::uint64_t>{3});
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0});
}

TEST_CASE("records reserved together are not handled once retention dropped them",
          "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<std::string>("t", {.retention_count = 3});
    text_log l;
    l.remaining = 4;
    // 0, 1 and 2 are there when the member claims; 3 and 4 (at 500ms) drop 0 and 1: after 0,
    // the member goes on at 2, as if it had claimed record by record.
    vt.run(retention_under_handler(&bus, &vt, &l, 3, 2));
    REQUIRE(l.seen == std::vector<std::string>{long_text(0) + "@0", long_text(2) + "@2",
                                               long_text(3) + "@3", long_text(4) + "@4"});
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0});
}

TEST_CASE("a member that leaves gives back the records it reserved and did not start",
          "[bus][subscription]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    journal j;
    j.remaining = 3;
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, journal* jr) -> task<void> {
        subscription a = b->subscribe<int>("t", "g", worker{jr, v, 1, 1s});
        subscription c = b->subscribe<int>("t", "g", worker{jr, v, 2, 1s}); // owns nothing
        co_await publish_n(b, "t", "k", 3);
        co_await v->schedule_after(1500ms);
        co_await a.stop(); // A finishes record 1 (at 2s); record 2 goes to C
        co_await wait_and_stop(jr, &c);
    };
    vt.run(scenario(&bus, &vt, &j));
    REQUIRE(j.done ==
            std::vector<delivery>{{1, 0, 0, epoch}, {1, 0, 1, epoch + 1s}, {2, 0, 2, epoch + 2s}});
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0});
    REQUIRE(bus.stats("t").delivered == 3);
    REQUIRE(j.overlaps == 0);
}

TEST_CASE("stress: producers and two groups on a thread_pool, exact counts, order per "
          "partition",
          "[bus][subscription][concurrency]") {
    const bool batched = GENERATE(false, true); // true: half the producers use publish_batch
    CAPTURE(batched);
    eddy::thread_pool pool(2);
    eddy::event_bus<eddy::thread_pool> bus(pool);
    bus.create_topic<int>("s", {.partitions = 5});
    stress_log log;
    eddy::sync_wait(stress(&bus, &pool, &log, batched));
    for (int g = 0; g < 2; ++g) {
        CAPTURE(g);
        REQUIRE(
            std::all_of(log.count[g].begin(), log.count[g].end(), [](int c) { return c == 1; }));
        for (const auto& [p, offsets] : log.offsets[g]) {
            for (std::size_t i = 0; i < offsets.size(); ++i) {
                REQUIRE(offsets[i] == i);
            }
        }
        for (const auto& [key, values] : log.by_key[g]) {
            REQUIRE(std::is_sorted(values.begin(), values.end()));
        }
    }
    REQUIRE(bus.lag("s", "g0") == std::vector<std::uint64_t>(5, 0));
    REQUIRE(bus.lag("s", "g1") == std::vector<std::uint64_t>(5, 0));
    REQUIRE(bus.stats("s").delivered == 2 * total);
}
