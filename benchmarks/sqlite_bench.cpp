// benchmarks/sqlite_bench.cpp - eddy::sqlite_event_store append rates beside raw sqlite3 inserts
// in the same run (the ratio is reported as a counter of each eddy benchmark):
//   raw baselines (same table shape, ~200-byte JSON payloads, prepared statements):
//     one insert per transaction; 100 inserts per transaction across 100 streams (what a group
//     commit writes), and 64 per transaction (the most 64 appenders with one append each in
//     flight can group); measured once per durability setting, before the eddy runs.
//   eddy: 1 or 100 events per append from one coroutine; 1 event per append from 64
//     concurrent coroutines on a thread_pool, each appending to its own stream in a loop,
//     group commit on and off (counter group_size: commits per transaction).
//   reads: read_stream of a 10,000-event stream (decoded envelopes) vs a raw SELECT loop that
//     reads the same columns and parses each JSON payload.
// Arguments: synchronous FULL (1) or NORMAL (0). Files live in a fresh temporary directory.
// Needs eddy::sqlite (the benchmarks' CMakeLists links it into sqlite_bench).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/sqlite/sqlite_event_store.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>
#include <eddy/stream/to_vector.hpp>

namespace {

struct item_added {
    static constexpr std::string_view event_name = "item_added";
    std::string sku;
    int quantity = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(item_added, sku, quantity)
using events = std::variant<item_added>;
using store_type = eddy::sqlite_event_store<events>;

const std::string sku(170, 'x'); // {"quantity":N,"sku":"xxx..."}: ~200 bytes

class temp_dir {
public:
    temp_dir() {
        std::string p = (std::filesystem::temp_directory_path() / "eddy-bench-XXXXXX").string();
        if (mkdtemp(p.data()) == nullptr) {
            std::abort();
        }
        m_path = p;
    }
    ~temp_dir() { std::filesystem::remove_all(m_path); }
    [[nodiscard]] std::string file(const char* name) const { return m_path + "/" + name; }

private:
    std::string m_path;
};

eddy::sqlite_options options(bool full, bool group) {
    eddy::sqlite_options o;
    o.synchronous = full ? eddy::sqlite_options::sync::full : eddy::sqlite_options::sync::normal;
    o.group_commit = group;
    return o;
}

// Raw sqlite3: `total` inserts, `per_txn` per transaction, into a table shaped like eddy's.
// Returns inserts per second.
double raw_rate(bool full, int per_txn, int total) {
    temp_dir dir;
    sqlite3* db = nullptr;
    sqlite3_open(dir.file("raw.db").c_str(), &db);
    sqlite3_exec(db,
                 full ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL"
                      : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
                 nullptr, nullptr, nullptr);
    sqlite3_exec(db,
                 "CREATE TABLE e (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, "
                 "stream_version INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE, type_name TEXT, "
                 "payload TEXT NOT NULL, UNIQUE (stream_id, stream_version))",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* ins = nullptr;
    sqlite3_prepare_v2(db,
                       "INSERT INTO e (stream_id, stream_version, event_id, type_name, payload) "
                       "VALUES (?, ?, ?, 'item_added', ?)",
                       -1, &ins, nullptr);
    const std::string payload = R"({"quantity":1,"sku":")" + sku + R"("})";
    std::map<int, int> versions;
    const auto start = std::chrono::steady_clock::now();
    for (int done = 0; done < total;) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
        for (int i = 0; i < per_txn; ++i, ++done) {
            const int stream = i % 100;
            const std::string sid = "s" + std::to_string(stream);
            const std::string eid = "id-" + std::to_string(done);
            sqlite3_bind_text(ins, 1, sid.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 2, ++versions[stream]);
            sqlite3_bind_text(ins, 3, eid.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(ins, 4, payload.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_step(ins);
            sqlite3_reset(ins);
        }
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return total / took.count();
}

// Measured once per setting, in this run, before the eddy benchmarks that compare to them.
struct baselines {
    double one_per_txn;
    double batched;
    double batched_64; // at most what 64 appenders, one append each in flight, can group
};
const baselines& baseline(bool full) {
    static std::map<bool, baselines> cache;
    auto it = cache.find(full);
    if (it == cache.end()) {
        it = cache
                 .emplace(full, baselines{raw_rate(full, 1, full ? 1000 : 5000),
                                          raw_rate(full, 100, 50000), raw_rate(full, 64, 51200)})
                 .first;
    }
    return it->second;
}

void report(benchmark::State& state, double events, bool full) {
    const baselines& b = baseline(full);
    state.SetItemsProcessed(static_cast<std::int64_t>(events));
    state.counters["events/s"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
    // The raw rates of this run; the callers add this benchmark's ratio to each.
    state.counters["raw_1/txn"] = b.one_per_txn;
    state.counters["raw_100/txn"] = b.batched;
    state.counters["raw_64/txn"] = b.batched_64;
}

void BM_raw_one_per_transaction(benchmark::State& state) {
    const bool full = state.range(0) != 0;
    for (auto _ : state) {
        state.counters["events/s"] = raw_rate(full, 1, full ? 1000 : 5000);
    }
}

void BM_raw_100_per_transaction(benchmark::State& state) {
    const bool full = state.range(0) != 0;
    for (auto _ : state) {
        state.counters["events/s"] = raw_rate(full, 100, 50000);
    }
}

void BM_eddy_append(benchmark::State& state) {
    const bool full = state.range(0) != 0;
    const auto per_append = static_cast<int>(state.range(1));
    baseline(full);
    eddy::thread_pool pool(1);
    temp_dir dir;
    store_type store(eddy::sqlite_storage(dir.file("eddy.db"), pool, options(full, true)));
    std::vector<eddy::proposed_event<events>> batch;
    for (int i = 0; i < per_append; ++i) {
        batch.emplace_back(item_added{sku, i});
    }
    const auto start = std::chrono::steady_clock::now();
    double n = 0;
    for (auto _ : state) {
        eddy::sync_wait(store.append("s", eddy::expected_version::any(), batch));
        n += per_append;
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    report(state, n, full);
    state.counters["vs_raw_1/txn"] = n / took.count() / baseline(full).one_per_txn;
    state.counters["vs_raw_100/txn"] = n / took.count() / baseline(full).batched;
}

// One writer: `count` appends of one event to its own stream, one after the other.
eddy::task<void> writer(store_type* store, eddy::thread_pool* pool, std::string stream, int count) {
    co_await pool->schedule();
    for (int i = 0; i < count; ++i) {
        std::vector<eddy::proposed_event<events>> batch;
        batch.emplace_back(item_added{sku, i});
        co_await store->append(stream, eddy::expected_version::any(), std::move(batch));
    }
}

// 64 writers appending concurrently (16 appends each per iteration, so the writer thread
// always finds the next group queued while it commits one).
void BM_eddy_append_64_concurrent(benchmark::State& state) {
    const bool full = state.range(0) != 0;
    const bool group = state.range(1) != 0;
    constexpr int writers = 64;
    constexpr int per_writer = 16;
    baseline(full);
    eddy::thread_pool pool(2);
    temp_dir dir;
    store_type store(eddy::sqlite_storage(dir.file("eddy.db"), pool, options(full, group)));
    const auto start = std::chrono::steady_clock::now();
    double n = 0;
    for (auto _ : state) {
        std::vector<eddy::task<void>> all;
        for (int i = 0; i < writers; ++i) {
            all.push_back(writer(&store, &pool, "w" + std::to_string(i), per_writer));
        }
        eddy::sync_wait(eddy::when_all(std::move(all)));
        n += writers * per_writer;
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    report(state, n, full);
    state.counters["vs_raw_1/txn"] = n / took.count() / baseline(full).one_per_txn;
    state.counters["vs_raw_100/txn"] = n / took.count() / baseline(full).batched;
    state.counters["vs_raw_64/txn"] = n / took.count() / baseline(full).batched_64;
    const auto stats = store.storage().stats();
    state.counters["group_size"] =
        static_cast<double>(stats.commits) /
        static_cast<double>(stats.transactions == 0 ? 1 : stats.transactions);
}

constexpr int long_stream = 10000;

// A file holding one stream of `long_stream` events, written by eddy.
struct long_stream_file {
    temp_dir dir;
    std::string path = dir.file("read.db");
    long_stream_file() {
        eddy::thread_pool pool(1);
        store_type store(eddy::sqlite_storage(path, pool, options(false, true)));
        std::vector<eddy::proposed_event<events>> batch;
        for (int i = 0; i < long_stream; ++i) {
            batch.emplace_back(item_added{sku, i});
        }
        eddy::sync_wait(store.append("long", eddy::expected_version::no_stream(), batch));
    }
};

// Baseline: a raw SELECT loop over the stream's rows, reading each column eddy reads, and
// parsing the JSON payload into the event (what rehydration needs at least).
double raw_read(const std::string& path) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db,
                       "SELECT position, stream_id, stream_version, event_id, type_name, "
                       "schema_version, recorded_at, correlation_id, causation_id, tenant, "
                       "traceparent, headers, payload FROM eddy_events WHERE stream_id = 'long' "
                       "ORDER BY stream_version",
                       -1, &q, nullptr);
    const auto start = std::chrono::steady_clock::now();
    std::int64_t sum = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        sum += sqlite3_column_int64(q, 2);
        std::string event_id(reinterpret_cast<const char*>(sqlite3_column_text(q, 3)));
        const auto* payload = reinterpret_cast<const char*>(sqlite3_column_text(q, 12));
        item_added e = nlohmann::json::parse(payload).get<item_added>();
        sum += e.quantity;
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    benchmark::DoNotOptimize(sum);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return long_stream / took.count();
}

void BM_raw_select_10k(benchmark::State& state) {
    long_stream_file file;
    double rate = 0;
    for (auto _ : state) {
        rate = raw_read(file.path);
    }
    state.counters["events/s"] = rate;
}

// eddy: read_stream of the whole stream (paged, decoded into envelopes) vs the raw loop.
void BM_eddy_read_stream_10k(benchmark::State& state) {
    long_stream_file file;
    eddy::thread_pool pool(1);
    store_type store(eddy::sqlite_storage(file.path, pool, options(false, true)));
    double raw = 0; // the best of 5 raw loops: the baseline at its fastest
    for (int i = 0; i < 5; ++i) {
        raw = std::max(raw, raw_read(file.path));
    }
    const auto start = std::chrono::steady_clock::now();
    double n = 0;
    for (auto _ : state) {
        auto all = eddy::sync_wait(eddy::to_vector(store.read_stream("long", 1)));
        benchmark::DoNotOptimize(all.data());
        n += static_cast<double>(all.size());
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    state.counters["events/s"] = n / took.count();
    state.counters["raw_select/s"] = raw;
    state.counters["vs_raw_select"] = n / took.count() / raw;
}

} // namespace

BENCHMARK(BM_raw_select_10k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_eddy_read_stream_10k)->Unit(benchmark::kMillisecond)->UseRealTime();
// Args: {synchronous FULL?} / {FULL?, events per append} / {FULL?, group commit?}
BENCHMARK(BM_raw_one_per_transaction)->Arg(1)->Arg(0)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_raw_100_per_transaction)->Arg(1)->Arg(0)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_eddy_append)
    ->Args({1, 1})
    ->Args({1, 100})
    ->Args({0, 1})
    ->Args({0, 100})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_eddy_append_64_concurrent)
    ->Args({1, 1})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({0, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
