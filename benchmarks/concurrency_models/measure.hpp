// benchmarks/concurrency_models/measure.hpp - what every concurrency-model benchmark records:
// per-request latency percentiles and the memory the run added (peak RSS over the RSS before).
#pragma once

#include <algorithm> // std::sort
#include <chrono>    // std::chrono::steady_clock
#include <cstddef>   // std::size_t
#include <cstdint>   // std::uint64_t
#include <fstream>   // std::ifstream, std::ofstream (/proc/self)
#include <sched.h>   // sched_getaffinity, CPU_COUNT
#include <string>    // std::string
#include <vector>    // std::vector

#include <benchmark/benchmark.h>

namespace models {

using clock = std::chrono::steady_clock;

/// A value from /proc/self/status in KiB ("VmRSS", "VmHWM"), 0 if absent.
inline std::uint64_t status_kib(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string key;
    std::uint64_t value = 0;
    std::string unit;
    while (in >> key) {
        if (key == field + ":") {
            in >> value >> unit;
            return value;
        }
        std::getline(in, unit);
    }
    return 0;
}

/// Resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0: write 5 to clear_refs).
inline bool reset_peak_rss() {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

/// CPUs this process may run on (the script restricts them with taskset).
inline int usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) {
        return 1;
    }
    return CPU_COUNT(&set);
}

/// Latencies of one run's requests, each written by its own request (no sharing).
class run_record {
public:
    explicit run_record(std::size_t n) : m_latency_us(n, 0.0) {}

    clock::time_point start() {
        m_rss_before = status_kib("VmRSS");
        reset_peak_rss();
        m_start = clock::now();
        return m_start;
    }

    void finished(std::size_t request) {
        m_latency_us[request] =
            std::chrono::duration<double, std::micro>(clock::now() - m_start).count();
    }

    /// Reports p50/p99 latency (ms), peak RSS added (MiB) and bytes per request.
    void report(benchmark::State& state) {
        std::sort(m_latency_us.begin(), m_latency_us.end());
        const auto at = [&](double q) {
            return m_latency_us[static_cast<std::size_t>(
                q * static_cast<double>(m_latency_us.size() - 1))];
        };
        const std::uint64_t peak = status_kib("VmHWM");
        const double added_kib =
            peak > m_rss_before ? static_cast<double>(peak - m_rss_before) : 0.0;
        state.counters["p50_ms"] = at(0.50) / 1000.0;
        state.counters["p99_ms"] = at(0.99) / 1000.0;
        state.counters["peak_rss_mib"] = static_cast<double>(peak) / 1024.0;
        state.counters["bytes_per_request"] =
            added_kib * 1024.0 / static_cast<double>(m_latency_us.size());
    }

private:
    std::vector<double> m_latency_us;
    clock::time_point m_start{};
    std::uint64_t m_rss_before = 0;
};

/// A fixed amount of arithmetic the optimizer cannot drop (about `rounds` ns on this machine).
inline std::uint64_t compute(std::uint64_t seed, int rounds) {
    std::uint64_t x = seed | 1U;
    for (int i = 0; i < rounds; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    }
    benchmark::DoNotOptimize(x);
    return x;
}

} // namespace models
