// benchmarks/stream_bench.cpp - eddy/stream pipelines beside a plain loop, per element.
//
// Each family has one name prefix and one configuration per path segment, the implementation
// last, so eddy and its baselines sort together:
//   chain/map_filter_scan/{to_vector,reduce}/
//           {eddy_fused,eddy_fused_stop_token,eddy_unfused,eddy_direct_pull,plain_loop}
//       chain_elements ints 0, 1, 2, ... through map(x * 3 + 1), filter(even) (half of them
//       pass), scan(0, acc + x) (64-bit running sums), then a sink: to_vector collects the
//       sums into a std::vector<std::int64_t>; reduce adds them up (unsigned, wrapping) and
//       allocates nothing, so it shows the per-element machinery without the vector's growth
//       and page faults, which dominate the plain loop's to_vector time.
//       eddy_fused:       sink(from(input) | map | filter | scan): the fused pipeline over a
//                         synchronous source; the sink pulls it as a plain loop (no coroutine
//                         hop per element).
//       eddy_fused_stop_token: the same, the sink task carrying a stop token.
//       eddy_unfused:     the same chain with each operator a stream<T> coroutine of its own
//                         (map_unfused, ...): two hops per input element (from() -> map ->
//                         filter) and two per output (filter -> scan -> sink).
//       eddy_direct_pull: one consumer coroutine pulling from(input), converted to a
//                         stream<int> coroutine, with co_await next() and doing the arithmetic
//                         and the sink itself: one hop per input element, the cost of any
//                         stream that is really asynchronous.
//       plain_loop:       the same arithmetic in a for loop (push_back with no reserve, as
//                         to_vector does none): the baseline of the ratio.
//   from() reads the input through a std::span (a view), so no variant copies the 10M
//   ints per iteration; to_vector variants build and free their vector inside the timing;
//   every result is checked (size and last sum, or the total) against a reference.
// Items are input elements; `per_elem` is the CPU time per input element (compare it within a
// family: ratio = variant / plain_loop). Everything runs on the benchmark's thread; only
// eddy_fused_stop_token has a stop token.

#include <benchmark/benchmark.h>

#include <algorithm>   // std::max
#include <atomic>      // std::atomic (allocation accounting)
#include <chrono>      // std::chrono::milliseconds (simulated I/O)
#include <cstddef>     // std::size_t
#include <cstdint>     // std::int64_t, std::uint64_t
#include <cstdlib>     // std::malloc, std::free (allocation accounting)
#include <new>         // operator new/delete replacements (allocation accounting)
#include <optional>    // std::optional (next() results)
#include <span>        // std::span (from() reads the input through it, copying nothing)
#include <stop_token>  // std::stop_source (eddy_fused_stop_token)
#include <type_traits> // std::conditional_t
#include <utility>     // std::move
#include <vector>      // std::vector

#include <eddy/core/scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/filter.hpp>
#include <eddy/stream/flat_map.hpp>
#include <eddy/stream/from_range.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/pipeline.hpp>
#include <eddy/stream/reduce.hpp>
#include <eddy/stream/scan.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/to_vector.hpp>

namespace {

constexpr int chain_elements = 10'000'000;

// The chain's functions, shared by every variant. Stateless lambdas: no captures, so passing
// them by value into a coroutine frame is free.
constexpr auto map_fn = [](int x) noexcept { return x * 3 + 1; };
constexpr auto filter_fn = [](int x) noexcept { return x % 2 == 0; };
constexpr auto scan_fn = [](std::int64_t acc, int x) noexcept { return acc + x; };
constexpr auto sum_fn = [](std::uint64_t total, std::int64_t x) noexcept {
    return total + static_cast<std::uint64_t>(x);
};

const std::vector<int>& chain_input() {
    static const std::vector<int> input = [] {
        std::vector<int> v(chain_elements);
        for (int i = 0; i < chain_elements; ++i) {
            v[static_cast<std::size_t>(i)] = i;
        }
        return v;
    }();
    return input;
}

// The two sinks, and what each variant computes for them.
enum class sink { to_vector, reduce };

template <sink S>
using result_t = std::conditional_t<S == sink::to_vector, std::vector<std::int64_t>, std::uint64_t>;

// map_fn(x) = 3x + 1 is even exactly for odd x = 2k + 1, k < chain_elements / 2: the outputs
// are 6k + 4, and the scan's last value is their sum.
constexpr std::int64_t expected_count = chain_elements / 2;
constexpr std::int64_t expected_last_sum =
    3 * expected_count * (expected_count - 1) + 4 * expected_count;

// The reduce sink's total: the running sums 3k(k + 1) + 4(k + 1), added up modulo 2^64.
std::uint64_t expected_total() {
    std::uint64_t total = 0;
    for (std::uint64_t k = 0; k < static_cast<std::uint64_t>(expected_count); ++k) {
        total += 3 * k * (k + 1) + 4 * (k + 1);
    }
    return total;
}

// Marks the result as used, and fails the benchmark on a wrong one. Returns false to stop.
bool check_result(benchmark::State& state, const std::vector<std::int64_t>& out) {
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    if (static_cast<std::int64_t>(out.size()) != expected_count ||
        out.back() != expected_last_sum) {
        state.SkipWithError("wrong result (size or last running sum)");
        return false;
    }
    return true;
}

bool check_result(benchmark::State& state, std::uint64_t total) {
    static const std::uint64_t expected = expected_total();
    benchmark::DoNotOptimize(total);
    if (total != expected) {
        state.SkipWithError("wrong result (total of the running sums)");
        return false;
    }
    return true;
}

void set_per_element_counters(benchmark::State& state) {
    state.SetItemsProcessed(state.iterations() * chain_elements);
    // Iteration-invariant rate, inverted: seconds per element (the console shows e.g. "15ns").
    state.counters["per_elem"] =
        benchmark::Counter(chain_elements, benchmark::Counter::kIsIterationInvariantRate |
                                               benchmark::Counter::kInvert);
}

// The sink applied to a stream or a pipeline: a task of result_t<S>.
template <sink S, class Source>
auto run_sink(Source source) {
    if constexpr (S == sink::to_vector) {
        return eddy::to_vector(std::move(source));
    } else {
        return eddy::reduce(std::move(source), std::uint64_t{0}, sum_fn);
    }
}

// ---------------------------------------------------------------------------------------------
// plain_loop: the baseline.

template <sink S>
void bm_chain_plain_loop(benchmark::State& state) {
    const std::vector<int>& input = chain_input();
    for (auto _ : state) {
        result_t<S> result{};
        std::int64_t acc = 0;
        for (int x : input) {
            const int mapped = map_fn(x);
            if (filter_fn(mapped)) {
                acc = scan_fn(acc, mapped);
                if constexpr (S == sink::to_vector) {
                    result.push_back(acc);
                } else {
                    result = sum_fn(result, acc);
                }
            }
        }
        if (!check_result(state, result)) {
            break;
        }
    }
    set_per_element_counters(state);
}

// ---------------------------------------------------------------------------------------------
// eddy_fused: the pipeline as users write it. eddy_fused_stop_token: the same, its sink task
// given a stop token (as every task under when_all or an async_scope has), which each next()
// of the two streams copies (see stream<T>::next_awaiter).

template <sink S, bool with_stop_token>
void bm_chain_eddy_fused(benchmark::State& state) {
    const std::vector<int>& input = chain_input();
    std::stop_source stop;
    for (auto _ : state) {
        auto sink_task =
            run_sink<S>(eddy::from(std::span<const int>(input)) | eddy::map(map_fn) |
                        eddy::filter(filter_fn) | eddy::scan(std::int64_t{0}, scan_fn));
        if constexpr (with_stop_token) {
            sink_task.set_stop_token(stop.get_token());
        }
        result_t<S> result = eddy::sync_wait(std::move(sink_task));
        if (!check_result(state, result)) {
            break;
        }
    }
    set_per_element_counters(state);
}

// ---------------------------------------------------------------------------------------------
// eddy_unfused: one stream coroutine per operator. Free function templates taking everything
// by value (g++ 12: no capturing-lambda coroutines; references would dangle).

template <class F>
eddy::stream<int> map_unfused(eddy::stream<int> source, F f) {
    for (;;) {
        std::optional<int> value = co_await source.next(); // into a local (g++ 12)
        if (!value) {
            break;
        }
        co_yield f(*value);
    }
}

template <class Pred>
eddy::stream<int> filter_unfused(eddy::stream<int> source, Pred pred) {
    for (;;) {
        std::optional<int> value = co_await source.next();
        if (!value) {
            break;
        }
        if (pred(*value)) {
            co_yield std::move(*value);
        }
    }
}

template <class Acc, class F>
eddy::stream<Acc> scan_unfused(eddy::stream<int> source, Acc acc, F f) {
    for (;;) {
        std::optional<int> value = co_await source.next();
        if (!value) {
            break;
        }
        acc = f(acc, *value);
        co_yield acc; // an lvalue: the consumer gets a copy, as scan_stage emits
    }
}

template <sink S>
void bm_chain_eddy_unfused(benchmark::State& state) {
    const std::vector<int>& input = chain_input();
    for (auto _ : state) {
        result_t<S> result = eddy::sync_wait(run_sink<S>(scan_unfused(
            filter_unfused(map_unfused(eddy::from(std::span<const int>(input)), map_fn), filter_fn),
            std::int64_t{0}, scan_fn)));
        if (!check_result(state, result)) {
            break;
        }
    }
    set_per_element_counters(state);
}

// ---------------------------------------------------------------------------------------------
// eddy_direct_pull: the consumer pulls from() itself; the per-element cost of one hop.

template <sink S>
eddy::task<result_t<S>> direct_pull(eddy::stream<int> source) {
    result_t<S> result{};
    std::int64_t acc = 0;
    for (;;) {
        std::optional<int> value = co_await source.next();
        if (!value) {
            break;
        }
        const int mapped = map_fn(*value);
        if (filter_fn(mapped)) {
            acc = scan_fn(acc, mapped);
            if constexpr (S == sink::to_vector) {
                result.push_back(acc);
            } else {
                result = sum_fn(result, acc);
            }
        }
    }
    co_return result;
}

template <sink S>
void bm_chain_eddy_direct_pull(benchmark::State& state) {
    const std::vector<int>& input = chain_input();
    for (auto _ : state) {
        result_t<S> result =
            eddy::sync_wait(direct_pull<S>(eddy::from(std::span<const int>(input))));
        if (!check_result(state, result)) {
            break;
        }
    }
    set_per_element_counters(state);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Registration. An iteration is 10M elements (10 to 300 milliseconds); the binary runs in
// well under a minute with --benchmark_repetitions=5.

#define EDDY_CHAIN_BENCH(sink_name)                                                                \
    BENCHMARK(bm_chain_eddy_fused<sink::sink_name, false>)                                         \
        ->Name("chain/map_filter_scan/" #sink_name "/eddy_fused")                                  \
        ->Unit(benchmark::kMillisecond);                                                           \
    BENCHMARK(bm_chain_eddy_fused<sink::sink_name, true>)                                          \
        ->Name("chain/map_filter_scan/" #sink_name "/eddy_fused_stop_token")                       \
        ->Unit(benchmark::kMillisecond);                                                           \
    BENCHMARK(bm_chain_eddy_unfused<sink::sink_name>)                                              \
        ->Name("chain/map_filter_scan/" #sink_name "/eddy_unfused")                                \
        ->Unit(benchmark::kMillisecond);                                                           \
    BENCHMARK(bm_chain_eddy_direct_pull<sink::sink_name>)                                          \
        ->Name("chain/map_filter_scan/" #sink_name "/eddy_direct_pull")                            \
        ->Unit(benchmark::kMillisecond);                                                           \
    BENCHMARK(bm_chain_plain_loop<sink::sink_name>)                                                \
        ->Name("chain/map_filter_scan/" #sink_name "/plain_loop")                                  \
        ->Unit(benchmark::kMillisecond)

EDDY_CHAIN_BENCH(to_vector);
EDDY_CHAIN_BENCH(reduce);

// ---------------------------------------------------------------------------------------------
// flat_map over simulated I/O: flat_map/vt_io/c:<n>/{eddy_flat_map,when_all_chunks}
//   10,000 requests, each an inner task that waits 1 ms of virtual time (a timer on a
//   virtual_time_scheduler, so the benchmark measures eddy's machinery, not sleeping) and then
//   returns its id. eddy_flat_map: from(ids) | flat_map(io, c) | to_vector, c requests in flight
//   at a time, a new one started as soon as one finishes. when_all_chunks (the baseline): the
//   ids in chunks of c, each chunk awaited with when_all, the hand-written way to bound
//   concurrency without a stream. Counters: per_item (CPU per request), virtual_ms (simulated
//   elapsed time: 10,000 / c ms for both when the inner waits are equal), peak_kib (the most
//   heap bytes live at once during the run above those live before it: frames, queues, results).

namespace {

// Allocation accounting for peak_kib. Atomic because any thread may allocate; the peak is
// only meaningful while the single-threaded flat_map runs.
std::atomic<std::size_t> g_live_bytes{0};
std::atomic<std::size_t> g_peak_bytes{0};

constexpr int io_requests = 10'000;
constexpr auto io_latency = std::chrono::milliseconds(1);

eddy::task<int> simulated_io(eddy::virtual_time_scheduler* vt, int id) {
    co_await vt->schedule_after(io_latency);
    co_return id;
}

struct io_call {
    eddy::virtual_time_scheduler* vt;
    eddy::task<int> operator()(int id) const { return simulated_io(vt, id); }
};

eddy::task<std::size_t> run_flat_map(eddy::virtual_time_scheduler* vt, std::size_t c) {
    std::vector<int> ids(io_requests);
    for (int i = 0; i < io_requests; ++i) {
        ids[static_cast<std::size_t>(i)] = i;
    }
    std::vector<int> out =
        co_await eddy::to_vector(eddy::from(std::move(ids)) | eddy::flat_map(io_call{vt}, c));
    co_return out.size();
}

eddy::task<std::size_t> run_when_all_chunks(eddy::virtual_time_scheduler* vt, std::size_t c) {
    std::vector<int> out;
    for (int start = 0; start < io_requests; start += static_cast<int>(c)) {
        std::vector<eddy::task<int>> chunk;
        for (int id = start; id < std::min(io_requests, start + static_cast<int>(c)); ++id) {
            chunk.push_back(simulated_io(vt, id));
        }
        std::vector<int> results = co_await eddy::when_all(std::move(chunk));
        out.insert(out.end(), results.begin(), results.end());
    }
    co_return out.size();
}

template <bool FlatMap>
void bm_flat_map_io(benchmark::State& state) {
    const auto c = static_cast<std::size_t>(state.range(0));
    double virtual_ms = 0;
    std::size_t peak = 0;
    for (auto _ : state) {
        eddy::virtual_time_scheduler vt;
        const auto start = vt.now();
        const std::size_t before = g_live_bytes.load();
        g_peak_bytes.store(before);
        const std::size_t n =
            FlatMap ? vt.run(run_flat_map(&vt, c)) : vt.run(run_when_all_chunks(&vt, c));
        peak = std::max(peak, g_peak_bytes.load() - before);
        virtual_ms = std::chrono::duration<double, std::milli>(vt.now() - start).count();
        if (n != static_cast<std::size_t>(io_requests)) {
            state.SkipWithError("wrong number of results");
            return;
        }
    }
    state.SetItemsProcessed(state.iterations() * io_requests);
    state.counters["per_item"] =
        benchmark::Counter(static_cast<double>(state.iterations() * io_requests),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["virtual_ms"] = virtual_ms;
    state.counters["peak_kib"] = static_cast<double>(peak) / 1024.0;
}

} // namespace

BENCHMARK(bm_flat_map_io<true>)
    ->Name("flat_map/vt_io/eddy_flat_map")
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->ArgName("c")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_flat_map_io<false>)
    ->Name("flat_map/vt_io/when_all_chunks")
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->ArgName("c")
    ->Unit(benchmark::kMillisecond);

// Sized allocation accounting (a header before each block records its size).
void* operator new(std::size_t size) {
    constexpr std::size_t header = alignof(std::max_align_t);
    auto* base = static_cast<unsigned char*>(std::malloc(size + header));
    if (base == nullptr) {
        throw std::bad_alloc();
    }
    *reinterpret_cast<std::size_t*>(base) = size;
    const std::size_t live = g_live_bytes.fetch_add(size, std::memory_order_relaxed) + size;
    if (live > g_peak_bytes.load(std::memory_order_relaxed)) {
        g_peak_bytes.store(live, std::memory_order_relaxed);
    }
    return base + header;
}
void operator delete(void* p) noexcept {
    if (p == nullptr) {
        return;
    }
    constexpr std::size_t header = alignof(std::max_align_t);
    auto* base = static_cast<unsigned char*>(p) - header;
    g_live_bytes.fetch_sub(*reinterpret_cast<std::size_t*>(base), std::memory_order_relaxed);
    std::free(base);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
