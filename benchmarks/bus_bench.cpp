// benchmarks/bus_bench.cpp - eddy::event_bus publish+consume throughput beside a bare
// eddy::channel and a mutex+condvar queue moving the same payload.
//
// Families (one name prefix, the configuration per path segment, the implementation last):
//   bus_throughput/partitions:P/groups:G/eddy_bus
//       one producer thread publishes bus_items records (a 32-byte payload, keys spread
//       evenly over the P partitions) to a topic; G consumer groups, each one push member
//       (max_in_flight = min(P, 2)) on a 2-thread eddy::thread_pool, count them; an iteration
//       ends when every group has handled every record. Includes creating the bus and topic,
//       joining and leaving.
//   bus_throughput/partitions:P/groups:G/eddy_bus_batch:64
//       the same, but the producer publishes the records in batches of 64
//       (event_bus::publish_batch: one lock and one clock read per batch).
//   bus_throughput/partitions:1/groups:G/{channel,condvar_queue}
//       the same payload, one producer thread sending each item to G queues of capacity 1024
//       (one per "group"), each drained by its own consumer thread (eddy::channel awaited
//       from sync_wait; the textbook ring buffer under a mutex with two condition variables).
//   bus_latency/partitions:1/groups:1/{eddy_bus,channel}
//       publish-to-handler latency under load: one producer thread publishes as fast as a
//       window of latency_window records in flight allows (the bus: it waits while that many
//       are published and not handled yet; the channel: its capacity is the window), each
//       record stamped with steady_clock at publish; the handler (the bus: a push member on
//       the 2-thread pool; the channel: a consumer thread) records now - stamp. Counters p50_ns
//       and p99_ns are percentiles over every record of every iteration.
//   bus_publish/partitions:1/groups:0/{eddy_bus,channel}
//       the producer's path alone: bus_items records published to a topic nobody consumes
//       (the bus), or sent into a channel large enough never to wait, on the calling thread;
//       eddy_bus_batch:64 publishes them in batches of 64.
// items_per_second counts records published; `deliveries` (a rate) counts records handled,
// summed over groups. All report real time (threads).

#include <benchmark/benchmark.h>

#include <baselines/condvar_queue.hpp>

#include <algorithm>          // std::min, std::nth_element
#include <atomic>             // std::atomic (handled counts)
#include <chrono>             // std::chrono::steady_clock (latency stamps)
#include <condition_variable> // std::condition_variable (the baseline queue)
#include <cstddef>            // std::size_t
#include <cstdint>            // std::uint64_t
#include <deque>              // std::deque (queues that cannot move)
#include <latch>              // std::latch (every group finished)
#include <mutex>              // std::mutex (the baseline queue)
#include <optional>           // std::optional
#include <string>             // std::string
#include <thread>             // std::jthread
#include <vector>             // std::vector

#include <eddy/bus/event_bus.hpp>
#include <eddy/bus/record.hpp>
#include <eddy/core/channel.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>

namespace {

constexpr int bus_items = 1 << 16;

// The payload every implementation moves.
struct item {
    std::uint64_t seq = 0;
    std::uint64_t data[3] = {0, 0, 0};
};

constexpr std::uint64_t expected_sum = static_cast<std::uint64_t>(bus_items) * (bus_items - 1) / 2;

using pool_bus = eddy::event_bus<eddy::thread_pool>;

// What one group counted; `done` counts down once the group handled every record.
struct group_tally {
    std::atomic<int> handled{0};
    std::atomic<std::uint64_t> sum{0};
};

eddy::task<void> tally(group_tally* g, std::latch* done, std::uint64_t seq) {
    g->sum.fetch_add(seq, std::memory_order_relaxed);
    if (g->handled.fetch_add(1, std::memory_order_acq_rel) + 1 == bus_items) {
        done->count_down();
    }
    co_return;
}

struct tally_handler {
    group_tally* g;
    std::latch* done;
    eddy::task<void> operator()(const eddy::record<item>& r) const {
        return tally(g, done, r.value.seq);
    }
};

eddy::task<void> publish_all(pool_bus* bus, const std::vector<std::string>* keys) {
    for (int i = 0; i < bus_items; ++i) {
        item it;
        it.seq = static_cast<std::uint64_t>(i);
        co_await bus->publish("t", (*keys)[static_cast<std::size_t>(i) % keys->size()], it);
    }
}

// The same records as publish_all, in batches of `batch` (publish_batch).
eddy::task<void> publish_all_batched(pool_bus* bus, const std::vector<std::string>* keys,
                                     int batch) {
    std::vector<eddy::producer_record<item>> records;
    for (int i = 0; i < bus_items;) {
        records.clear();
        records.reserve(static_cast<std::size_t>(batch));
        for (int j = 0; j < batch && i < bus_items; ++j, ++i) {
            item it;
            it.seq = static_cast<std::uint64_t>(i);
            records.push_back({(*keys)[static_cast<std::size_t>(i) % keys->size()], it, {}});
        }
        co_await bus->publish_batch("t", std::move(records));
    }
}

// Per record (batch 0) or in batches.
eddy::task<void> publish_items(pool_bus* bus, const std::vector<std::string>* keys, int batch) {
    if (batch == 0) {
        co_await publish_all(bus, keys);
    } else {
        co_await publish_all_batched(bus, keys, batch);
    }
}

eddy::task<void> stop_all(std::vector<eddy::subscription>* subs) {
    for (auto& s : *subs) {
        co_await s.stop();
    }
}

void bm_bus(benchmark::State& state, int partitions, int groups, int batch) {
    eddy::thread_pool pool(2);
    std::vector<std::string> keys; // one key per partition, so records spread evenly
    {
        pool_bus probe(pool);
        probe.create_topic<item>("t", {.partitions = static_cast<std::size_t>(partitions)});
        std::vector<bool> taken(static_cast<std::size_t>(partitions));
        for (int i = 0; keys.size() < static_cast<std::size_t>(partitions); ++i) {
            std::string k = "key-" + std::to_string(i);
            const std::size_t p = probe.partition_for("t", k);
            if (!taken[p]) {
                taken[p] = true;
                keys.push_back(k);
            }
        }
    }
    for (auto _ : state) {
        pool_bus bus(pool);
        bus.create_topic<item>("t", {.partitions = static_cast<std::size_t>(partitions)});
        std::vector<group_tally> tallies(static_cast<std::size_t>(groups));
        std::latch done(groups);
        std::vector<eddy::subscription> subs;
        for (int g = 0; g < groups; ++g) {
            eddy::consumer_options opts;
            opts.max_in_flight = static_cast<std::size_t>(std::min(partitions, 2));
            subs.push_back(bus.subscribe<item>(
                "t", "g" + std::to_string(g),
                tally_handler{&tallies[static_cast<std::size_t>(g)], &done}, opts));
        }
        {
            std::jthread producer(
                [&bus, &keys, batch] { eddy::sync_wait(publish_items(&bus, &keys, batch)); });
        }
        done.wait();
        eddy::sync_wait(stop_all(&subs));
        for (const group_tally& t : tallies) {
            if (t.sum.load() != expected_sum) {
                state.SkipWithError("event_bus lost or duplicated records");
                return;
            }
        }
    }
    state.SetItemsProcessed(state.iterations() * bus_items);
    state.counters["deliveries"] = benchmark::Counter(
        static_cast<double>(bus_items) * groups, benchmark::Counter::kIsIterationInvariantRate);
}

// ----- baselines -----

eddy::task<> channel_produce(std::deque<eddy::channel<item>>* chs) {
    for (int i = 0; i < bus_items; ++i) {
        item it;
        it.seq = static_cast<std::uint64_t>(i);
        for (auto& ch : *chs) {
            co_await ch.send(it);
        }
    }
    for (auto& ch : *chs) {
        ch.close();
    }
}

eddy::task<std::uint64_t> channel_consume(eddy::channel<item>* ch) {
    std::uint64_t sum = 0;
    for (;;) {
        std::optional<item> value = co_await ch->receive(); // into a local (g++ 12)
        if (!value) {
            break;
        }
        sum += value->seq;
    }
    co_return sum;
}

// The producer's path alone: publishes to a topic nobody consumes, on the calling thread.
void bm_bus_publish(benchmark::State& state, int batch) {
    eddy::thread_pool pool(1);
    const std::vector<std::string> keys{"key-0"};
    for (auto _ : state) {
        pool_bus bus(pool);
        bus.create_topic<item>("t");
        eddy::sync_wait(publish_items(&bus, &keys, batch));
    }
    state.SetItemsProcessed(state.iterations() * bus_items);
}

// Its baseline: sends into a channel large enough never to wait.
void bm_channel_send(benchmark::State& state) {
    for (auto _ : state) {
        std::deque<eddy::channel<item>> chs;
        chs.emplace_back(bus_items);
        eddy::sync_wait(channel_produce(&chs));
    }
    state.SetItemsProcessed(state.iterations() * bus_items);
}

void bm_channel(benchmark::State& state, int groups) {
    for (auto _ : state) {
        std::deque<eddy::channel<item>> chs;
        for (int g = 0; g < groups; ++g) {
            chs.emplace_back(1024);
        }
        std::vector<std::uint64_t> sums(static_cast<std::size_t>(groups));
        {
            std::vector<std::jthread> threads;
            threads.emplace_back([&chs] { eddy::sync_wait(channel_produce(&chs)); });
            for (int g = 0; g < groups; ++g) {
                threads.emplace_back([&chs, &sums, g] {
                    sums[static_cast<std::size_t>(g)] =
                        eddy::sync_wait(channel_consume(&chs[static_cast<std::size_t>(g)]));
                });
            }
        }
        for (std::uint64_t s : sums) {
            if (s != expected_sum) {
                state.SkipWithError("eddy::channel lost or duplicated values");
                return;
            }
        }
    }
    state.SetItemsProcessed(state.iterations() * bus_items);
    state.counters["deliveries"] = benchmark::Counter(
        static_cast<double>(bus_items) * groups, benchmark::Counter::kIsIterationInvariantRate);
}

// Baseline: the textbook bounded queue (benchmarks/baselines/condvar_queue.hpp).
using condvar_queue = eddy::bench::condvar_queue<item>;

void bm_condvar(benchmark::State& state, int groups) {
    for (auto _ : state) {
        std::deque<condvar_queue> queues;
        for (int g = 0; g < groups; ++g) {
            queues.emplace_back(1024);
        }
        std::vector<std::uint64_t> sums(static_cast<std::size_t>(groups));
        {
            std::vector<std::jthread> threads;
            threads.emplace_back([&queues] {
                for (int i = 0; i < bus_items; ++i) {
                    item it;
                    it.seq = static_cast<std::uint64_t>(i);
                    for (auto& q : queues) {
                        q.push(it);
                    }
                }
                for (auto& q : queues) {
                    q.close();
                }
            });
            for (int g = 0; g < groups; ++g) {
                threads.emplace_back([&queues, &sums, g] {
                    auto& q = queues[static_cast<std::size_t>(g)];
                    std::uint64_t sum = 0;
                    for (;;) {
                        std::optional<item> value = q.pop();
                        if (!value) {
                            break;
                        }
                        sum += value->seq;
                    }
                    sums[static_cast<std::size_t>(g)] = sum;
                });
            }
        }
        for (std::uint64_t s : sums) {
            if (s != expected_sum) {
                state.SkipWithError("condvar_queue lost or duplicated values");
                return;
            }
        }
    }
    state.SetItemsProcessed(state.iterations() * bus_items);
    state.counters["deliveries"] = benchmark::Counter(
        static_cast<double>(bus_items) * groups, benchmark::Counter::kIsIterationInvariantRate);
}

// ----- latency -----

constexpr int latency_items = 1 << 15;
constexpr int latency_window = 256;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// The latencies of one run, and how many records were handled (the window's other side).
struct latency_log {
    std::vector<std::int64_t> ns = std::vector<std::int64_t>(latency_items);
    std::atomic<int> handled{0};
    std::latch done{1};
};

eddy::task<void> stamp_latency(latency_log* l, std::uint64_t seq, std::int64_t stamp) {
    l->ns[static_cast<std::size_t>(seq)] = now_ns() - stamp;
    if (l->handled.fetch_add(1, std::memory_order_acq_rel) + 1 == latency_items) {
        l->done.count_down();
    }
    co_return;
}

struct latency_handler {
    latency_log* l;
    eddy::task<void> operator()(const eddy::record<item>& r) const {
        return stamp_latency(l, r.value.seq, static_cast<std::int64_t>(r.value.data[0]));
    }
};

eddy::task<void> publish_paced(pool_bus* bus, latency_log* l) {
    const std::string key = "k";
    for (int i = 0; i < latency_items; ++i) {
        while (i - l->handled.load(std::memory_order_acquire) >= latency_window) {
            std::this_thread::yield();
        }
        item it;
        it.seq = static_cast<std::uint64_t>(i);
        it.data[0] = static_cast<std::uint64_t>(now_ns());
        co_await bus->publish("t", key, it);
    }
}

// p50 and p99 of `all` (reordered).
void report_percentiles(benchmark::State& state, std::vector<std::int64_t>& all) {
    auto at = [&all](double q) {
        auto nth =
            all.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(all.size() - 1));
        std::nth_element(all.begin(), nth, all.end());
        return static_cast<double>(*nth);
    };
    state.counters["p50_ns"] = at(0.50);
    state.counters["p99_ns"] = at(0.99);
}

void bm_bus_latency(benchmark::State& state) {
    eddy::thread_pool pool(2);
    std::vector<std::int64_t> all;
    for (auto _ : state) {
        pool_bus bus(pool);
        bus.create_topic<item>("t");
        latency_log l;
        eddy::subscription sub = bus.subscribe<item>("t", "g", latency_handler{&l});
        {
            std::jthread producer([&bus, &l] { eddy::sync_wait(publish_paced(&bus, &l)); });
        }
        l.done.wait();
        std::vector<eddy::subscription> subs;
        subs.push_back(std::move(sub));
        eddy::sync_wait(stop_all(&subs));
        all.insert(all.end(), l.ns.begin(), l.ns.end());
    }
    state.SetItemsProcessed(state.iterations() * latency_items);
    report_percentiles(state, all);
}

eddy::task<> channel_produce_stamped(eddy::channel<item>* ch) {
    for (int i = 0; i < latency_items; ++i) {
        item it;
        it.seq = static_cast<std::uint64_t>(i);
        it.data[0] = static_cast<std::uint64_t>(now_ns());
        co_await ch->send(it);
    }
    ch->close();
}

eddy::task<> channel_consume_stamped(eddy::channel<item>* ch, latency_log* l) {
    for (;;) {
        std::optional<item> value = co_await ch->receive(); // into a local (g++ 12)
        if (!value) {
            break;
        }
        l->ns[static_cast<std::size_t>(value->seq)] =
            now_ns() - static_cast<std::int64_t>(value->data[0]);
    }
}

void bm_channel_latency(benchmark::State& state) {
    std::vector<std::int64_t> all;
    for (auto _ : state) {
        eddy::channel<item> ch(latency_window);
        latency_log l;
        {
            std::jthread producer([&ch] { eddy::sync_wait(channel_produce_stamped(&ch)); });
            std::jthread consumer([&ch, &l] { eddy::sync_wait(channel_consume_stamped(&ch, &l)); });
        }
        all.insert(all.end(), l.ns.begin(), l.ns.end());
    }
    state.SetItemsProcessed(state.iterations() * latency_items);
    report_percentiles(state, all);
}

} // namespace

BENCHMARK_CAPTURE(bm_bus_publish, per_record, 0)
    ->Name("bus_publish/partitions:1/groups:0/eddy_bus")
    ->UseRealTime()
    ->MinTime(0.2);
BENCHMARK_CAPTURE(bm_bus_publish, batch64, 64)
    ->Name("bus_publish/partitions:1/groups:0/eddy_bus_batch:64")
    ->UseRealTime()
    ->MinTime(0.2);
BENCHMARK(bm_channel_send)
    ->Name("bus_publish/partitions:1/groups:0/channel")
    ->UseRealTime()
    ->MinTime(0.2);
BENCHMARK(bm_bus_latency)
    ->Name("bus_latency/partitions:1/groups:1/eddy_bus")
    ->UseRealTime()
    ->MinTime(0.2);
BENCHMARK(bm_channel_latency)
    ->Name("bus_latency/partitions:1/groups:1/channel")
    ->UseRealTime()
    ->MinTime(0.2);

#define EDDY_BUS_BENCH(partitions, groups)                                                         \
    BENCHMARK_CAPTURE(bm_bus, p##partitions##g##groups, partitions, groups, 0)                     \
        ->Name("bus_throughput/partitions:" #partitions "/groups:" #groups "/eddy_bus")            \
        ->UseRealTime()                                                                            \
        ->MinTime(0.2)

#define EDDY_BUS_BATCH_BENCH(partitions, groups)                                                   \
    BENCHMARK_CAPTURE(bm_bus, p##partitions##g##groups##b64, partitions, groups, 64)               \
        ->Name("bus_throughput/partitions:" #partitions "/groups:" #groups "/eddy_bus_batch:64")   \
        ->UseRealTime()                                                                            \
        ->MinTime(0.2)

#define EDDY_BASELINE_BENCH(groups)                                                                \
    BENCHMARK_CAPTURE(bm_channel, g##groups, groups)                                               \
        ->Name("bus_throughput/partitions:1/groups:" #groups "/channel")                           \
        ->UseRealTime()                                                                            \
        ->MinTime(0.2);                                                                            \
    BENCHMARK_CAPTURE(bm_condvar, g##groups, groups)                                               \
        ->Name("bus_throughput/partitions:1/groups:" #groups "/condvar_queue")                     \
        ->UseRealTime()                                                                            \
        ->MinTime(0.2)

EDDY_BUS_BENCH(1, 1);
EDDY_BUS_BENCH(8, 1);
EDDY_BUS_BENCH(1, 2);
EDDY_BUS_BENCH(8, 2);
EDDY_BUS_BATCH_BENCH(1, 1);
EDDY_BUS_BATCH_BENCH(1, 2);
EDDY_BASELINE_BENCH(1);
EDDY_BASELINE_BENCH(2);
