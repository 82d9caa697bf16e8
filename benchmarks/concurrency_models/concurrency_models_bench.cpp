// benchmarks/concurrency_models/concurrency_models_bench.cpp - the same workloads implemented
// four ways: eddy coroutines on a thread_pool, one OS thread per request (std::jthread), a fixed
// pool of blocking threads (std::function queue), and an eddy stream with flat_map(n).
//
// Families (workload/n:N/model):
//   io/n:N/{coroutines,threads,blocking_pool,reactive}
//       N requests issued at once; each waits 1 ms of simulated I/O (a timer, or a blocking
//       sleep for the thread models), then computes ~1 us. The blocking pool has 16 threads.
//   cpu/n:2000/{coroutines,threads,blocking_pool,reactive}
//       2000 requests of ~50 us of computation each; pools are as large as the CPUs the
//       process may use (scripts/bench-concurrency runs this with taskset on 1 and 2 CPUs).
//   fanout/n:N/{coroutines,threads}
//       each request calls three 1 ms "services" concurrently and combines them: when_all of
//       three tasks, or three std::jthreads joined by the request's own thread.
// Counters: items_per_second (requests/s), p50_ms / p99_ms (completion time after the batch
// started: every request is issued at t0), peak_rss_mib, bytes_per_request (peak RSS added by
// the run / N). Thread models are capped at 20,000 OS threads per run: larger sizes are
// reported as skipped ("not run"), never attempted.
// scripts/bench-concurrency runs every case in its own process and writes JSON, a chart and
// a Markdown table.

#include <benchmark/benchmark.h>

#include <chrono>       // std::chrono::milliseconds
#include <cstddef>      // std::size_t
#include <cstdint>      // std::int64_t
#include <exception>    // std::exception
#include <functional>   // std::function
#include <span>         // std::span
#include <string>       // std::string, std::to_string
#include <system_error> // std::system_error
#include <thread>       // std::jthread, std::this_thread
#include <vector>       // std::vector

#include <eddy/core/scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/count.hpp>
#include <eddy/stream/flat_map.hpp>
#include <eddy/stream/from_range.hpp>

#include "blocking_pool.hpp"
#include "measure.hpp"

namespace {

constexpr auto io_wait = std::chrono::milliseconds(1);
constexpr int io_rounds = 1000;    // ~1 us after the I/O
constexpr int cpu_rounds = 50'000; // ~50 us per CPU-bound request
constexpr std::size_t cpu_requests = 2000;
constexpr std::size_t blocking_threads_for_io = 16;
constexpr std::size_t thread_cap = 20'000;

// ----- coroutines -----

eddy::task<void> co_io(eddy::thread_pool* pool, models::run_record* rec, std::size_t i) {
    co_await pool->schedule();
    co_await eddy::sleep_for(*pool, io_wait);
    models::compute(i, io_rounds);
    rec->finished(i);
}

eddy::task<void> co_cpu(eddy::thread_pool* pool, models::run_record* rec, std::size_t i) {
    co_await pool->schedule();
    models::compute(i, cpu_rounds);
    rec->finished(i);
}

eddy::task<std::uint64_t> co_service(eddy::thread_pool* pool, std::size_t i) {
    co_await eddy::sleep_for(*pool, io_wait);
    co_return models::compute(i, io_rounds);
}

eddy::task<void> co_fanout(eddy::thread_pool* pool, models::run_record* rec, std::size_t i) {
    co_await pool->schedule();
    auto replies = co_await eddy::when_all(co_service(pool, i), co_service(pool, i + 1),
                                           co_service(pool, i + 2));
    benchmark::DoNotOptimize(replies);
    rec->finished(i);
}

using co_request = eddy::task<void> (*)(eddy::thread_pool*, models::run_record*, std::size_t);

void coroutines(benchmark::State& state, co_request request) {
    const auto n = static_cast<std::size_t>(state.range(0));
    eddy::thread_pool pool(static_cast<std::size_t>(models::usable_cpus()));
    for (auto _ : state) {
        models::run_record rec(n);
        rec.start();
        std::vector<eddy::task<void>> requests;
        requests.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            requests.push_back(request(&pool, &rec, i));
        }
        eddy::sync_wait(eddy::when_all(std::move(requests)));
        rec.report(state);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

// ----- reactive: a stream of request ids through flat_map(request, n) -----

eddy::task<int> rx_io(eddy::thread_pool* pool, models::run_record* rec, std::size_t i) {
    co_await co_io(pool, rec, i);
    co_return 1;
}
eddy::task<int> rx_cpu(eddy::thread_pool* pool, models::run_record* rec, std::size_t i) {
    co_await co_cpu(pool, rec, i);
    co_return 1;
}

using rx_request = eddy::task<int> (*)(eddy::thread_pool*, models::run_record*, std::size_t);

void reactive(benchmark::State& state, rx_request request) {
    const auto n = static_cast<std::size_t>(state.range(0));
    eddy::thread_pool pool(static_cast<std::size_t>(models::usable_cpus()));
    std::vector<std::size_t> ids(n);
    for (std::size_t i = 0; i < n; ++i) {
        ids[i] = i;
    }
    for (auto _ : state) {
        models::run_record rec(n);
        rec.start();
        auto requests =
            eddy::from(std::span<const std::size_t>(ids)) |
            eddy::flat_map(
                [&pool, &rec, request](std::size_t i) { return request(&pool, &rec, i); }, n);
        const std::size_t done = eddy::sync_wait(eddy::count(std::move(requests)));
        if (done != n) {
            state.SkipWithError("reactive: lost requests");
        }
        rec.report(state);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

// ----- one OS thread per request -----

void threads(benchmark::State& state,
             const std::function<void(models::run_record*, std::size_t)>& body,
             std::size_t threads_per_request) {
    const auto n = static_cast<std::size_t>(state.range(0));
    if (n * threads_per_request > thread_cap) {
        state.SkipWithError(("not run: " + std::to_string(n * threads_per_request) +
                             " OS threads exceed the cap of " + std::to_string(thread_cap))
                                .c_str());
        return;
    }
    for (auto _ : state) {
        models::run_record rec(n);
        rec.start();
        std::vector<std::jthread> workers;
        workers.reserve(n);
        try {
            for (std::size_t i = 0; i < n; ++i) {
                workers.emplace_back([&rec, &body, i] { body(&rec, i); });
            }
        } catch (const std::system_error& e) {
            const std::string why =
                "could not create thread " + std::to_string(workers.size() + 1) + ": " + e.what();
            workers.clear(); // joins
            state.SkipWithError(why.c_str());
            return;
        }
        workers.clear();
        rec.report(state);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

void thread_io(models::run_record* rec, std::size_t i) {
    std::this_thread::sleep_for(io_wait);
    models::compute(i, io_rounds);
    rec->finished(i);
}
void thread_cpu(models::run_record* rec, std::size_t i) {
    models::compute(i, cpu_rounds);
    rec->finished(i);
}
void thread_fanout(models::run_record* rec, std::size_t i) {
    std::uint64_t replies[3] = {};
    {
        std::jthread a([&] {
            std::this_thread::sleep_for(io_wait);
            replies[0] = models::compute(i, io_rounds);
        });
        std::jthread b([&] {
            std::this_thread::sleep_for(io_wait);
            replies[1] = models::compute(i + 1, io_rounds);
        });
        std::jthread c([&] {
            std::this_thread::sleep_for(io_wait);
            replies[2] = models::compute(i + 2, io_rounds);
        });
    }
    benchmark::DoNotOptimize(replies);
    rec->finished(i);
}

// ----- a fixed pool of blocking threads -----

void blocking(benchmark::State& state, void (*body)(models::run_record*, std::size_t),
              std::size_t pool_threads) {
    const auto n = static_cast<std::size_t>(state.range(0));
    models::blocking_pool pool(pool_threads);
    for (auto _ : state) {
        models::run_record rec(n);
        rec.start();
        for (std::size_t i = 0; i < n; ++i) {
            pool.post([&rec, body, i] { body(&rec, i); });
        }
        pool.wait_idle();
        rec.report(state);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

// ----- registration -----

void configure(benchmark::internal::Benchmark* b, std::int64_t n) {
    b->Arg(n)
        ->Iterations(1)
        ->Repetitions(n <= 10'000 ? 3 : 1)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    if (n <= 10'000) {
        b->ReportAggregatesOnly(true);
    }
}

const bool registered = [] {
    const std::size_t cpus = static_cast<std::size_t>(models::usable_cpus());
    for (const std::int64_t n : {100, 1'000, 10'000, 100'000}) {
        const std::string size = "/n:" + std::to_string(n) + "/";
        configure(benchmark::RegisterBenchmark(("io" + size + "coroutines").c_str(),
                                               [](benchmark::State& s) { coroutines(s, co_io); }),
                  n);
        configure(
            benchmark::RegisterBenchmark(("io" + size + "threads").c_str(),
                                         [](benchmark::State& s) { threads(s, thread_io, 1); }),
            n);
        configure(benchmark::RegisterBenchmark(
                      ("io" + size + "blocking_pool").c_str(),
                      [](benchmark::State& s) { blocking(s, thread_io, blocking_threads_for_io); }),
                  n);
        configure(benchmark::RegisterBenchmark(("io" + size + "reactive").c_str(),
                                               [](benchmark::State& s) { reactive(s, rx_io); }),
                  n);
        configure(
            benchmark::RegisterBenchmark(("fanout" + size + "coroutines").c_str(),
                                         [](benchmark::State& s) { coroutines(s, co_fanout); }),
            n);
        configure(
            benchmark::RegisterBenchmark(("fanout" + size + "threads").c_str(),
                                         [](benchmark::State& s) { threads(s, thread_fanout, 4); }),
            n);
    }
    const auto n = static_cast<std::int64_t>(cpu_requests);
    const std::string size = "/n:" + std::to_string(n) + "/";
    configure(benchmark::RegisterBenchmark(("cpu" + size + "coroutines").c_str(),
                                           [](benchmark::State& s) { coroutines(s, co_cpu); }),
              n);
    configure(benchmark::RegisterBenchmark(("cpu" + size + "threads").c_str(),
                                           [](benchmark::State& s) { threads(s, thread_cpu, 1); }),
              n);
    configure(benchmark::RegisterBenchmark(
                  ("cpu" + size + "blocking_pool").c_str(),
                  [cpus](benchmark::State& s) { blocking(s, thread_cpu, cpus); }),
              n);
    configure(benchmark::RegisterBenchmark(("cpu" + size + "reactive").c_str(),
                                           [](benchmark::State& s) { reactive(s, rx_cpu); }),
              n);
    return true;
}();

} // namespace
