// benchmarks/postgres_bench.cpp - eddy::postgres_event_store append and read rates beside raw
// libpq in the same run (the ratio is reported as a counter of each eddy benchmark):
//   raw baselines (a plain table shaped like eddy's events table, ~200-byte JSON payloads,
//     synchronous PQexecParams): one single-row INSERT per transaction (autocommit); 100 rows
//     per transaction in one multi-row INSERT, across 100 streams. Measured before the eddy
//     runs, the best of 3 each.
//   eddy (postgres_storage on a thread_pool(2)): 1 event per append from 1 and from 64
//     concurrent coroutines, each appending to its own stream in a loop; the 64 with the
//     default pool of 4 connections and with 16. vs_raw_1/txn of writers:64 is the issue's
//     figure (its aim: at least 5). Plain appends are group-committed (those waiting while a
//     commit runs share the next transaction); BM_eddy_append_as_unit makes each append a unit
//     of work of its own (one transaction per append, the path plain appends took before).
//   reads: read_stream of a 10,000-event stream (decoded envelopes) vs a raw SELECT loop (pages
//     of 256, as eddy reads) that parses the same columns and each JSON payload (eddy's
//     statement also joins the stream's row, for truncation and soft deletion).
// Commits cost what the server's settings make them cost (scripts/test's server runs with
// fsync off: a commit waits for its WAL write, not for a flush).
// Needs EDDY_PG_CONNINFO (scripts/test exports it) and eddy::postgres (the benchmarks'
// CMakeLists links it into postgres_bench). Everything lives in a schema named for this run,
// dropped at the end. Exits non-zero when a benchmark failed.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <unistd.h> // getpid

#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif
#include <nlohmann/json.hpp>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/postgres/postgres_event_store.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/stream/to_vector.hpp>

namespace {

struct item_added {
    static constexpr std::string_view event_name = "item_added";
    std::string sku;
    int quantity = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(item_added, sku, quantity)
using events = std::variant<item_added>;
using store_type = eddy::postgres_event_store<events>;

const std::string sku(170, 'x'); // {"quantity":N,"sku":"xxx..."}: ~200 bytes

// Set by main: the server and this run's schema.
std::string conninfo;
std::string schema;
bool failed = false;

// Runs a benchmark's body; an exception skips the benchmark with its message and makes the
// program exit non-zero (the smoke run in scripts/test must notice).
template <class F>
void guarded(benchmark::State& state, F body) {
    try {
        body();
    } catch (const std::exception& e) {
        failed = true;
        state.SkipWithError(e.what());
    }
}

// A blocking libpq connection for the raw baselines and the schema's setup.
class connection {
public:
    connection() : m_conn(PQconnectdb(conninfo.c_str()), &PQfinish) {
        if (PQstatus(m_conn.get()) != CONNECTION_OK) {
            throw std::runtime_error("postgres_bench: cannot connect: " +
                                     std::string(PQerrorMessage(m_conn.get())));
        }
        PQsetNoticeProcessor(
            m_conn.get(), [](void*, const char*) {}, nullptr);
    }

    using result = std::unique_ptr<PGresult, decltype(&PQclear)>;

    // One statement; text parameters except those flagged binary.
    result exec(const std::string& sql, const std::vector<const char*>& values = {},
                const std::vector<int>& lengths = {}, const std::vector<int>& binary = {}) {
        result r(PQexecParams(m_conn.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), lengths.empty() ? nullptr : lengths.data(),
                              binary.empty() ? nullptr : binary.data(), 0),
                 &PQclear);
        const ExecStatusType s = PQresultStatus(r.get());
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
            throw std::runtime_error("postgres_bench: " + sql.substr(0, 60) +
                                     "...: " + PQerrorMessage(m_conn.get()));
        }
        return r;
    }

private:
    std::unique_ptr<PGconn, decltype(&PQfinish)> m_conn;
};

std::string in_schema(const std::string& table) { return '"' + schema + "\"." + table; }

// A text uuid made of a counter (distinct for each n).
std::string uuid_of(std::uint64_t n) {
    char text[40];
    std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012llx",
                  static_cast<unsigned long long>(n));
    return text;
}

// Raw libpq: `total` inserts, `per_txn` rows per transaction (one INSERT statement in
// autocommit: a single row, or `per_txn` rows), into a fresh table shaped like eddy's events
// table. Returns inserts per second.
double raw_rate(int per_txn, int total) {
    connection c;
    const std::string table = in_schema("raw_events");
    c.exec("DROP TABLE IF EXISTS " + table);
    c.exec("CREATE TABLE " + table +
           " (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
           "xid xid8 NOT NULL DEFAULT pg_current_xact_id(), stream_id text NOT NULL, "
           "stream_version bigint NOT NULL, event_id uuid NOT NULL UNIQUE, type_name text NOT "
           "NULL, schema_version integer NOT NULL, recorded_at timestamptz NOT NULL DEFAULT "
           "clock_timestamp(), correlation_id text NOT NULL, causation_id text NOT NULL, "
           "tenant text NOT NULL, traceparent text NOT NULL, headers jsonb NOT NULL, "
           "payload bytea NOT NULL, batch_first bigint NOT NULL, batch_last bigint NOT NULL, "
           "UNIQUE (stream_id, stream_version))");
    std::string sql = "INSERT INTO " + table +
                      " (stream_id, stream_version, event_id, type_name, schema_version, "
                      "correlation_id, causation_id, tenant, traceparent, headers, payload, "
                      "batch_first, batch_last) VALUES ";
    for (int i = 0; i < per_txn; ++i) {
        auto at = [i](int k) { return "$" + std::to_string(4 * i + k); };
        sql += (i == 0 ? "(" : ", (") + at(1) + "::text, " + at(2) + "::bigint, " + at(3) +
               "::uuid, 'item_added', 1, '', '', '', '', '{}', " + at(4) + "::bytea, 0, 0)";
    }
    const std::string payload = R"({"quantity":1,"sku":")" + sku + R"("})";
    std::map<int, int> versions;
    std::vector<std::string> text(static_cast<std::size_t>(3 * per_txn));
    std::vector<const char*> values(static_cast<std::size_t>(4 * per_txn));
    std::vector<int> lengths(values.size());
    std::vector<int> binary(values.size());
    const auto start = std::chrono::steady_clock::now();
    for (int done = 0; done < total;) {
        for (int i = 0; i < per_txn; ++i, ++done) {
            const int stream = done % 100;
            const auto k = static_cast<std::size_t>(i);
            text[3 * k] = "s" + std::to_string(stream);
            text[3 * k + 1] = std::to_string(++versions[stream]);
            text[3 * k + 2] = uuid_of(static_cast<std::uint64_t>(done));
            for (std::size_t j = 0; j < 3; ++j) {
                values[4 * k + j] = text[3 * k + j].c_str();
                lengths[4 * k + j] = static_cast<int>(text[3 * k + j].size());
            }
            values[4 * k + 3] = payload.data();
            lengths[4 * k + 3] = static_cast<int>(payload.size());
            binary[4 * k + 3] = 1;
        }
        c.exec(sql, values, lengths, binary);
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    c.exec("DROP TABLE " + table);
    return total / took.count();
}

constexpr int raw_one_total = 1000;
constexpr int raw_batched_total = 10000;

// Measured once, in this run, before the eddy benchmarks that compare to them: the best of 3
// runs each (the baselines at their fastest; the machine may be shared).
struct baselines {
    double one_per_txn = 0;
    double batched = 0;
};
const baselines& baseline() {
    static const baselines b = [] {
        baselines best;
        for (int i = 0; i < 3; ++i) {
            best.one_per_txn = std::max(best.one_per_txn, raw_rate(1, raw_one_total));
            best.batched = std::max(best.batched, raw_rate(100, raw_batched_total));
        }
        return best;
    }();
    return b;
}

eddy::postgres_options options(std::size_t connections) {
    eddy::postgres_options o;
    o.schema = schema;
    o.pool_size = connections;
    return o;
}

// items_per_second and events/s: `events` over the benchmark's time (real or manual).
void rates(benchmark::State& state, double events) {
    state.SetItemsProcessed(static_cast<std::int64_t>(events));
    state.counters["events/s"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
}

// An eddy append benchmark's rates, beside the raw ones of this run and its ratios to them.
void report(benchmark::State& state, double events, double seconds) {
    const baselines& b = baseline();
    rates(state, events);
    state.counters["raw_1/txn"] = b.one_per_txn;
    state.counters["raw_100/txn"] = b.batched;
    state.counters["vs_raw_1/txn"] = events / seconds / b.one_per_txn;
    state.counters["vs_raw_100/txn"] = events / seconds / b.batched;
}

// Raw libpq inserts, `per_txn` rows per transaction; timed by their insert loop only.
void BM_raw_inserts(benchmark::State& state) {
    guarded(state, [&] {
        const auto per_txn = static_cast<int>(state.range(0));
        const int total = per_txn == 1 ? raw_one_total : raw_batched_total;
        double n = 0;
        for (auto _ : state) {
            state.SetIterationTime(total / raw_rate(per_txn, total));
            n += total;
        }
        rates(state, n);
    });
}

// One append of one event: plain (group commit) or as a unit of work of its own (one
// transaction per append).
eddy::task<eddy::append_result> append_one(store_type* store, std::string stream, int i,
                                           bool unit) {
    std::vector<eddy::proposed_event<events>> batch;
    batch.emplace_back(item_added{sku, i});
    if (!unit) {
        eddy::task<eddy::append_result> append =
            store->append(std::move(stream), eddy::expected_version::any(), std::move(batch));
        co_return co_await std::move(append);
    }
    eddy::postgres_unit_of_work u = store->storage().begin();
    const std::size_t slot =
        store->append(u, std::move(stream), eddy::expected_version::any(), std::move(batch));
    eddy::task<eddy::commit_result> commit = store->storage().commit(std::move(u));
    const eddy::commit_result r = co_await std::move(commit);
    co_return r.appends[slot];
}

// One writer: `count` appends of one event to its own stream, one after the other (each must
// take the stream's next version).
eddy::task<void> writer(store_type* store, eddy::thread_pool* pool, std::string stream, int count,
                        bool unit) {
    co_await pool->schedule();
    std::uint64_t last = 0;
    for (int i = 0; i < count; ++i) {
        eddy::task<eddy::append_result> append = append_one(store, stream, i, unit);
        const eddy::append_result r = co_await std::move(append);
        if (i > 0 && r.stream_version != last + 1) {
            throw std::runtime_error("postgres_bench: stream " + stream + " got version " +
                                     std::to_string(r.stream_version) + " after " +
                                     std::to_string(last));
        }
        last = r.stream_version;
    }
}

// `writers` coroutines appending concurrently, 8 appends each per iteration: plain appends
// (group commit) or (`unit`) each append a unit of work of its own.
// Arguments: writers, connections of the storage's pool (4: the default).
void eddy_append(benchmark::State& state, bool unit) {
    guarded(state, [&] {
        const auto writers = static_cast<int>(state.range(0));
        const auto connections = static_cast<std::size_t>(state.range(1));
        constexpr int per_writer = 8;
        baseline();
        eddy::thread_pool pool(2);
        store_type store(eddy::postgres_storage(conninfo, pool, options(connections)));
        const std::string prefix = std::string(unit ? "u" : "w") + std::to_string(writers) + "-" +
                                   std::to_string(connections) + "-";
        const auto start = std::chrono::steady_clock::now();
        double n = 0;
        for (auto _ : state) {
            std::vector<eddy::task<void>> all;
            for (int i = 0; i < writers; ++i) {
                all.push_back(writer(&store, &pool, prefix + std::to_string(i), per_writer, unit));
            }
            eddy::sync_wait(eddy::when_all(std::move(all)));
            n += writers * per_writer;
        }
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        report(state, n, took.count());
    });
}

void BM_eddy_append(benchmark::State& state) { eddy_append(state, false); }
void BM_eddy_append_as_unit(benchmark::State& state) { eddy_append(state, true); }

constexpr int long_stream = 10000;
constexpr int page_size = 256;

// The stream "long" of `long_stream` events, written by eddy once per run.
void ensure_long_stream() {
    static bool written = false;
    if (written) {
        return;
    }
    eddy::thread_pool pool(2);
    store_type store(eddy::postgres_storage(conninfo, pool, options(1)));
    std::vector<eddy::proposed_event<events>> batch;
    for (int i = 0; i < long_stream; ++i) {
        batch.emplace_back(item_added{sku, i});
    }
    eddy::sync_wait(store.append("long", eddy::expected_version::no_stream(), std::move(batch)));
    written = true;
}

std::uint64_t number(const PGresult* r, int row, int col) {
    return std::strtoull(PQgetvalue(r, row, col), nullptr, 10);
}

// Baseline: a raw SELECT loop over the stream's rows, a page of 256 at a time (keyset), reading
// each column eddy reads, unescaping the payload and parsing it into the event (what
// rehydration needs at least). Returns events per second.
double raw_read() {
    connection c;
    const std::string sql =
        "SELECT e.position, e.stream_id, e.stream_version, e.event_id, e.type_name, "
        "e.schema_version, (extract(epoch FROM e.recorded_at) * 1000000)::bigint, "
        "e.correlation_id, e.causation_id, e.tenant, e.traceparent, e.headers::text, e.payload "
        "FROM " +
        in_schema("events") +
        " e WHERE e.stream_id = 'long' AND e.stream_version >= $1 ORDER BY e.stream_version "
        "LIMIT " +
        std::to_string(page_size);
    const auto start = std::chrono::steady_clock::now();
    std::int64_t sum = 0;
    std::uint64_t next = 1;
    int read = 0;
    for (;;) {
        const std::string from = std::to_string(next);
        const connection::result r = c.exec(sql, {from.c_str()});
        const int rows = PQntuples(r.get());
        for (int i = 0; i < rows; ++i) {
            const std::uint64_t version = number(r.get(), i, 2);
            if (version != next) {
                throw std::runtime_error("postgres_bench: raw read: version " +
                                         std::to_string(version) + ", expected " +
                                         std::to_string(next));
            }
            next = version + 1;
            sum += static_cast<std::int64_t>(number(r.get(), i, 0) + number(r.get(), i, 5) +
                                             number(r.get(), i, 6));
            std::vector<std::string> strings; // stream, event id, type, metadata, headers
            for (const int col : {1, 3, 4, 7, 8, 9, 10, 11}) {
                strings.emplace_back(PQgetvalue(r.get(), i, col),
                                     static_cast<std::size_t>(PQgetlength(r.get(), i, col)));
            }
            std::size_t length = 0;
            std::unique_ptr<unsigned char, decltype(&PQfreemem)> bytes(
                PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r.get(), i, 12)),
                                &length),
                &PQfreemem);
            const std::string_view payload(reinterpret_cast<const char*>(bytes.get()), length);
            item_added e = nlohmann::json::parse(payload).get<item_added>();
            sum +=
                e.quantity + static_cast<std::int64_t>(strings[0].size() + strings.back().size());
            ++read;
        }
        if (rows < page_size) {
            break;
        }
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    benchmark::DoNotOptimize(sum);
    if (read != long_stream) {
        throw std::runtime_error("postgres_bench: raw read " + std::to_string(read) +
                                 " events, expected " + std::to_string(long_stream));
    }
    return long_stream / took.count();
}

void BM_raw_select_10k(benchmark::State& state) {
    guarded(state, [&] {
        ensure_long_stream();
        double n = 0;
        for (auto _ : state) {
            state.SetIterationTime(long_stream / raw_read());
            n += long_stream;
        }
        rates(state, n);
    });
}

// eddy: read_stream of the whole stream (paged, decoded into envelopes) vs the raw loop.
void BM_eddy_read_stream_10k(benchmark::State& state) {
    guarded(state, [&] {
        ensure_long_stream();
        eddy::thread_pool pool(2);
        store_type store(eddy::postgres_storage(conninfo, pool, options(4)));
        double raw = 0; // the best of 3 raw loops: the baseline at its fastest
        for (int i = 0; i < 3; ++i) {
            raw = std::max(raw, raw_read());
        }
        const auto start = std::chrono::steady_clock::now();
        double n = 0;
        for (auto _ : state) {
            auto all = eddy::sync_wait(eddy::to_vector(store.read_stream("long", 1)));
            if (all.size() != long_stream || all.back().stream_version != long_stream) {
                throw std::runtime_error("postgres_bench: eddy read " + std::to_string(all.size()) +
                                         " events, expected " + std::to_string(long_stream));
            }
            benchmark::DoNotOptimize(all.data());
            n += static_cast<double>(all.size());
        }
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        rates(state, n);
        state.counters["raw_select/s"] = raw;
        state.counters["vs_raw_select"] = n / took.count() / raw;
    });
}

} // namespace

// The raw benchmarks time their insert or read loop only (not the connection, nor the table).
BENCHMARK(BM_raw_select_10k)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(BM_eddy_read_stream_10k)->Unit(benchmark::kMillisecond)->UseRealTime();
// Arg: rows per transaction.
BENCHMARK(BM_raw_inserts)
    ->ArgName("per_txn")
    ->Arg(1)
    ->Arg(100)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();
// Args: concurrent writers, connections of the storage's pool (4: the default).
BENCHMARK(BM_eddy_append)
    ->ArgNames({"writers", "connections"})
    ->Args({1, 4})
    ->Args({64, 4})
    ->Args({64, 16})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_eddy_append_as_unit)
    ->ArgNames({"writers", "connections"})
    ->Args({1, 4})
    ->Args({64, 4})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Checks EDDY_PG_CONNINFO, creates this run's schema, runs the benchmarks, drops the schema.
int main(int argc, char** argv) {
    const char* info = std::getenv("EDDY_PG_CONNINFO");
    if (info == nullptr || *info == '\0') {
        std::fprintf(stderr,
                     "postgres_bench: EDDY_PG_CONNINFO is not set. It is the libpq connection "
                     "string of a PostgreSQL server to measure against; scripts/test starts one "
                     "and exports it (for a manual run: source scripts/lib/postgres.sh && "
                     "postgres_start).\n");
        return 2;
    }
    conninfo = info;
    schema = "postgres_bench_" + std::to_string(::getpid()) + "_" +
             std::to_string(static_cast<long long>(std::time(nullptr)));
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    try {
        connection c;
        c.exec("CREATE SCHEMA \"" + schema + "\"");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    try {
        connection c;
        c.exec("DROP SCHEMA \"" + schema + "\" CASCADE");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return failed ? 1 : 0;
}
