// benchmarks/outbox_bench.cpp - the cost of the transactional outbox and the inbox on the memory
// store, beside doing the same work without them, in the same run.
//
// Families:
//   outbox/relay/{outbox,direct}
//       10,000 messages about 100 aggregates. `outbox`: committed in units of 100 messages to a
//       memory outbox, then relayed (batches of 100) to a bus that counts; `direct`: the same
//       messages published straight to that bus. items_per_second = messages.
//   outbox/commit_to_publish
//       a relay run()s on a 1-thread thread_pool, woken by each commit; 2,000 commits of one
//       message each, every one timed from before its commit to its publish; p50_us / p99_us.
//   inbox/handler/{idempotent,plain}
//       10,000 records through eddy::idempotent (inbox lookup, mark and commit with the
//       handler's write) vs the same handler committing its write in a unit without a mark.
// All single-threaded except commit_to_publish; inline_scheduler.

#include <benchmark/benchmark.h>

#include <algorithm> // std::sort
#include <atomic>    // std::atomic
#include <chrono>    // std::chrono::steady_clock
#include <cstddef>   // std::size_t
#include <cstdint>   // std::uint64_t
#include <mutex>     // std::mutex
#include <string>    // std::string, std::to_string
#include <vector>    // std::vector

#include <eddy/bus/record.hpp>
#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/outbox/idempotent.hpp>
#include <eddy/outbox/memory_inbox_store.hpp>
#include <eddy/outbox/memory_outbox_store.hpp>
#include <eddy/outbox/outbox_relay.hpp>

namespace {

struct notice {
    std::uint64_t n = 0;
    std::chrono::steady_clock::time_point committed{};
};

// A bus that counts what it is given (and records commit-to-publish latencies).
struct counting_bus {
    std::uint64_t published = 0;
    std::uint64_t sum = 0;
    std::mutex mutex;
    std::vector<double> latency_us;

    template <class T>
    eddy::task<eddy::publish_result> publish(std::string, std::string, T value, eddy::headers) {
        ++published;
        sum += value.n;
        if (value.committed != std::chrono::steady_clock::time_point{}) {
            const auto us = std::chrono::duration<double, std::micro>(
                                std::chrono::steady_clock::now() - value.committed)
                                .count();
            std::lock_guard lock(mutex);
            latency_us.push_back(us);
        }
        co_return eddy::publish_result{};
    }
};

constexpr std::size_t messages = 10'000;

eddy::outbox_message<notice> message_of(std::uint64_t n) {
    eddy::outbox_message<notice> m;
    m.topic = "notices";
    m.aggregate_type = "order";
    m.aggregate_id = "order-" + std::to_string(n % 100);
    m.payload = notice{n, {}};
    return m;
}

void relay_outbox(benchmark::State& state) {
    eddy::inline_scheduler s;
    for (auto _ : state) {
        eddy::memory_storage storage;
        eddy::memory_outbox_store<notice> outbox(storage);
        counting_bus bus;
        for (std::size_t i = 0; i < messages; i += 100) {
            auto unit = storage.begin();
            std::vector<eddy::outbox_message<notice>> batch;
            for (std::size_t j = i; j < i + 100; ++j) {
                batch.push_back(message_of(j));
            }
            outbox.enqueue(unit, std::move(batch));
            (void)eddy::sync_wait(storage.commit(std::move(unit)));
        }
        eddy::outbox_relay relay(outbox, bus, s, {.relay_id = "r1", .batch = 100});
        while (eddy::sync_wait(relay.run_once()) > 0) {
        }
        if (bus.published != messages) {
            state.SkipWithError("lost messages");
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * messages));
}

void relay_direct(benchmark::State& state) {
    for (auto _ : state) {
        counting_bus bus;
        for (std::size_t i = 0; i < messages; ++i) {
            auto m = message_of(i);
            eddy::headers h = m.headers;
            h.set(eddy::message_id_header, m.id.to_string());
            (void)eddy::sync_wait(bus.publish<notice>(m.topic, m.aggregate_id, m.payload, h));
        }
        benchmark::DoNotOptimize(bus.sum);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * messages));
}

eddy::task<void> commit_all(eddy::thread_pool* pool, eddy::memory_storage storage,
                            eddy::memory_outbox_store<notice>* outbox, std::size_t n,
                            std::stop_source* stop, counting_bus* bus) {
    co_await pool->schedule();
    for (std::size_t i = 0; i < n; ++i) {
        auto m = message_of(i);
        m.payload.committed = std::chrono::steady_clock::now();
        auto unit = storage.begin();
        outbox->enqueue(unit, {std::move(m)});
        (void)co_await storage.commit(std::move(unit));
        co_await pool->schedule(); // let the relay run
    }
    while (bus->published < n) {
        co_await pool->schedule();
    }
    stop->request_stop();
}

eddy::task<void> relay_until_stopped(eddy::task<void> run) {
    try {
        co_await std::move(run);
    } catch (const eddy::operation_cancelled&) {
    }
}

void commit_to_publish(benchmark::State& state) {
    constexpr std::size_t n = 2000;
    for (auto _ : state) {
        eddy::thread_pool pool(1);
        eddy::memory_storage storage;
        eddy::memory_outbox_store<notice> outbox(storage);
        counting_bus bus;
        eddy::outbox_relay relay(outbox, bus, pool, {.relay_id = "r1", .batch = 100});
        std::stop_source stop;
        eddy::sync_wait(eddy::when_all(
            relay_until_stopped(eddy::with_stop_token(relay.run(), stop.get_token())),
            commit_all(&pool, storage, &outbox, n, &stop, &bus)));
        std::sort(bus.latency_us.begin(), bus.latency_us.end());
        state.counters["p50_us"] = bus.latency_us[bus.latency_us.size() / 2];
        state.counters["p99_us"] = bus.latency_us[bus.latency_us.size() * 99 / 100];
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

eddy::task<void> add(long* total, long amount, eddy::memory_unit_of_work* unit) {
    unit->on_commit([total, amount] { *total += amount; });
    co_return;
}

struct adder {
    long* total;
    eddy::task<void> operator()(const eddy::record<long>& r, eddy::memory_unit_of_work& u) const {
        return add(total, r.value, &u);
    }
};

std::vector<eddy::record<long>> records() {
    std::vector<eddy::record<long>> out;
    for (std::size_t i = 0; i < messages; ++i) {
        eddy::record<long> r{"payments", 0, i, "k", {}, {}, static_cast<long>(i)};
        r.headers.set(eddy::message_id_header, "m-" + std::to_string(i));
        out.push_back(std::move(r));
    }
    return out;
}

void inbox_idempotent(benchmark::State& state) {
    const auto input = records();
    for (auto _ : state) {
        eddy::memory_storage storage;
        eddy::memory_inbox_store inbox(storage);
        long total = 0;
        auto handler = eddy::idempotent<long>(storage, inbox, "billing", adder{&total});
        for (const auto& r : input) {
            eddy::sync_wait(handler(r));
        }
        benchmark::DoNotOptimize(total);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * messages));
}

void inbox_plain(benchmark::State& state) {
    const auto input = records();
    for (auto _ : state) {
        eddy::memory_storage storage;
        long total = 0;
        adder handler{&total};
        for (const auto& r : input) {
            auto unit = storage.begin();
            eddy::sync_wait(handler(r, unit));
            (void)eddy::sync_wait(storage.commit(std::move(unit)));
        }
        benchmark::DoNotOptimize(total);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * messages));
}

BENCHMARK(relay_outbox)->Name("outbox/relay/outbox")->Unit(benchmark::kMillisecond);
BENCHMARK(relay_direct)->Name("outbox/relay/direct")->Unit(benchmark::kMillisecond);
BENCHMARK(commit_to_publish)
    ->Name("outbox/commit_to_publish")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(inbox_idempotent)->Name("inbox/handler/idempotent")->Unit(benchmark::kMillisecond);
BENCHMARK(inbox_plain)->Name("inbox/handler/plain")->Unit(benchmark::kMillisecond);

} // namespace
