// benchmarks/es_bench.cpp - eddy/es: the memory event store's append, and rehydrating an
// aggregate, beside plain loops doing the same work.
//
// Families (implementation last, so eddy and its baseline sort together):
//   append/events_per_append:{1,100}/{eddy_memory_store,plain_vector}
//       eddy_memory_store: memory_event_store::append(stream, any, batch) of 1 or 100 events,
//                          round-robin over 1000 streams (sync_wait per append; the store
//                          assigns ids, versions, positions, type names and recorded times).
//       plain_vector:      the same envelopes built by hand (id from a counter, no uuid) and
//                          pushed into a std::vector under a std::mutex: the bare work.
//       A fresh store/vector every 200'000 events (outside the timing) bounds memory.
//   rehydrate/events:1000000/{eddy_repository,eddy_read_stream_only,plain_visit}
//       eddy_repository:       repository::load of one stream of 1M events (no snapshot):
//                              read_stream pulls copies of every envelope, aggregate::replay
//                              applies each through std::visit.
//       eddy_read_stream_only: the same read_stream drained without applying: the store's share.
//       plain_visit:           a for loop over a std::vector of the same 1M variant events,
//                              std::visit into the same apply overloads: the baseline.
//   load/events:1000050/{eddy_snapshot_every_100,eddy_no_snapshot}
//       repository::load of a stream of 1'000'050 events, with a snapshot store written by a
//       snapshot_every{100} policy (latest snapshot at version 1'000'000, tail of 50 events)
//       and without (replays all).
// Items are events; `per_event` is the CPU time per event (ratio = eddy / baseline within a
// family). Everything runs on the benchmark's thread.

#include <benchmark/benchmark.h>

#include <chrono>      // std::chrono::system_clock
#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint64_t
#include <memory>      // std::unique_ptr, std::make_unique
#include <mutex>       // std::mutex, std::lock_guard
#include <optional>    // std::optional
#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view
#include <variant>     // std::variant, std::visit
#include <vector>      // std::vector

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/aggregate.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/es/memory_snapshot_store.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/es/repository.hpp>

namespace {

struct deposited {
    static constexpr std::string_view event_name = "deposited";
    long amount = 0;
};
struct withdrawn {
    static constexpr std::string_view event_name = "withdrawn";
    long amount = 0;
};
using account_events = std::variant<deposited, withdrawn>;
using store_type = eddy::memory_event_store<account_events>;
using envelope = eddy::event_envelope<account_events>;

struct account_state {
    long balance = 0;
    std::uint64_t applied = 0;
    void apply(const deposited& e) noexcept {
        balance += e.amount;
        ++applied;
    }
    void apply(const withdrawn& e) noexcept {
        balance -= e.amount;
        ++applied;
    }
};

struct account : eddy::aggregate<account, account_events> {
    account_state state;
    void apply(const deposited& e) noexcept { state.apply(e); }
    void apply(const withdrawn& e) noexcept { state.apply(e); }
};

account_events event_at(std::uint64_t i) {
    if (i % 4 == 3) {
        return withdrawn{static_cast<long>(i % 7)};
    }
    return deposited{static_cast<long>(i % 11)};
}

long expected_balance(std::uint64_t n) {
    account_state s;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::visit([&s](const auto& e) { s.apply(e); }, event_at(i));
    }
    return s.balance;
}

void set_per_event_counters(benchmark::State& state, std::uint64_t events_per_iteration) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events_per_iteration));
    state.counters["per_event"] = benchmark::Counter(static_cast<double>(events_per_iteration),
                                                     benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

constexpr std::uint64_t refresh_every = 200'000; // events per fresh store

// ---- append ----------------------------------------------------------------------------

void bm_append_eddy(benchmark::State& state) {
    const auto per_append = static_cast<std::size_t>(state.range(0));
    auto store = std::make_unique<store_type>();
    std::vector<std::string> streams;
    for (int i = 0; i < 1000; ++i) {
        streams.push_back("account-" + std::to_string(i));
    }
    std::uint64_t appended = 0;
    std::size_t next_stream = 0;
    for (auto _ : state) {
        if (appended >= refresh_every) {
            state.PauseTiming();
            store = std::make_unique<store_type>();
            appended = 0;
            state.ResumeTiming();
        }
        std::vector<eddy::proposed_event<account_events>> batch;
        batch.reserve(per_append);
        for (std::size_t i = 0; i < per_append; ++i) {
            batch.emplace_back(event_at(appended + i));
        }
        eddy::append_result r = eddy::sync_wait(
            store->append(streams[next_stream], eddy::expected_version::any(), std::move(batch)));
        benchmark::DoNotOptimize(r);
        appended += per_append;
        next_stream = (next_stream + 1) % streams.size();
    }
    set_per_event_counters(state, per_append);
}

void bm_append_plain(benchmark::State& state) {
    const auto per_append = static_cast<std::size_t>(state.range(0));
    std::mutex mutex;
    auto log = std::make_unique<std::vector<envelope>>();
    std::vector<std::uint64_t> versions(1000, 0);
    std::vector<std::string> streams;
    for (int i = 0; i < 1000; ++i) {
        streams.push_back("account-" + std::to_string(i));
    }
    std::uint64_t appended = 0;
    std::size_t next_stream = 0;
    for (auto _ : state) {
        if (appended >= refresh_every) {
            state.PauseTiming();
            log = std::make_unique<std::vector<envelope>>();
            versions.assign(1000, 0);
            appended = 0;
            state.ResumeTiming();
        }
        std::vector<account_events> batch;
        batch.reserve(per_append);
        for (std::size_t i = 0; i < per_append; ++i) {
            batch.push_back(event_at(appended + i));
        }
        {
            std::lock_guard lock(mutex);
            const auto now = std::chrono::system_clock::now();
            for (account_events& e : batch) {
                envelope env;
                env.event_id.bytes[15] = static_cast<std::uint8_t>(log->size());
                env.stream_id = streams[next_stream];
                env.stream_version = ++versions[next_stream];
                env.global_position = log->size() + 1;
                env.type_name = std::string(eddy::event_name_of(e));
                env.schema_version = eddy::event_schema_version_of(e);
                env.recorded_at = now;
                env.payload = std::move(e);
                log->push_back(std::move(env));
            }
        }
        benchmark::DoNotOptimize(log->data());
        appended += per_append;
        next_stream = (next_stream + 1) % streams.size();
    }
    set_per_event_counters(state, per_append);
}

BENCHMARK(bm_append_eddy)
    ->Name("append/events_per_append:1/eddy_memory_store")
    ->Arg(1)
    ->Iterations(400'000);
BENCHMARK(bm_append_plain)
    ->Name("append/events_per_append:1/plain_vector")
    ->Arg(1)
    ->Iterations(400'000);
BENCHMARK(bm_append_eddy)
    ->Name("append/events_per_append:100/eddy_memory_store")
    ->Arg(100)
    ->Iterations(4'000);
BENCHMARK(bm_append_plain)
    ->Name("append/events_per_append:100/plain_vector")
    ->Arg(100)
    ->Iterations(4'000);

// ---- rehydrate and load --------------------------------------------------------------------

constexpr std::uint64_t rehydrate_events = 1'000'000;
constexpr std::uint64_t snapshot_every = 100;
constexpr std::uint64_t load_events = 1'000'050; // latest snapshot at 1'000'000, tail of 50

// One store with stream "acc-1" of `n` events, appended 1000 at a time.
std::unique_ptr<store_type> make_history(std::uint64_t n) {
    auto store = std::make_unique<store_type>();
    for (std::uint64_t done = 0; done < n;) {
        std::vector<eddy::proposed_event<account_events>> batch;
        for (std::uint64_t i = 0; i < 1000 && done < n; ++i, ++done) {
            batch.emplace_back(event_at(done));
        }
        (void)eddy::sync_wait(
            store->append("acc-1", eddy::expected_version::any(), std::move(batch)));
    }
    return store;
}

store_type& rehydrate_store() {
    static const std::unique_ptr<store_type> store = make_history(rehydrate_events);
    return *store;
}

void bm_rehydrate_repository(benchmark::State& state) {
    store_type& store = rehydrate_store();
    eddy::repository<account, store_type> repo(store);
    const long balance = expected_balance(rehydrate_events);
    for (auto _ : state) {
        account a = eddy::sync_wait(repo.load("acc-1"));
        if (a.version() != rehydrate_events || a.state.balance != balance) {
            state.SkipWithError("wrong state after load");
            break;
        }
        benchmark::DoNotOptimize(a.state.balance);
    }
    set_per_event_counters(state, rehydrate_events);
}

eddy::task<std::uint64_t> drain(eddy::stream<envelope> s) {
    std::uint64_t n = 0;
    for (;;) {
        std::optional<envelope> e = co_await s.next();
        if (!e) {
            co_return n;
        }
        ++n;
    }
}

void bm_rehydrate_read_only(benchmark::State& state) {
    store_type& store = rehydrate_store();
    for (auto _ : state) {
        const std::uint64_t n = eddy::sync_wait(drain(store.read_stream("acc-1", 1)));
        if (n != rehydrate_events) {
            state.SkipWithError("wrong count");
            break;
        }
    }
    set_per_event_counters(state, rehydrate_events);
}

void bm_rehydrate_plain(benchmark::State& state) {
    std::vector<account_events> events;
    events.reserve(rehydrate_events);
    for (std::uint64_t i = 0; i < rehydrate_events; ++i) {
        events.push_back(event_at(i));
    }
    const long balance = expected_balance(rehydrate_events);
    for (auto _ : state) {
        account_state s;
        for (const account_events& e : events) {
            std::visit([&s](const auto& x) { s.apply(x); }, e);
        }
        if (s.applied != rehydrate_events || s.balance != balance) {
            state.SkipWithError("wrong state");
            break;
        }
        benchmark::DoNotOptimize(s.balance);
    }
    set_per_event_counters(state, rehydrate_events);
}

BENCHMARK(bm_rehydrate_repository)
    ->Name("rehydrate/events:1000000/eddy_repository")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_rehydrate_read_only)
    ->Name("rehydrate/events:1000000/eddy_read_stream_only")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_rehydrate_plain)
    ->Name("rehydrate/events:1000000/plain_visit")
    ->Unit(benchmark::kMillisecond);

using snapshots_type = eddy::memory_snapshot_store<account>;

struct load_fixture {
    std::unique_ptr<store_type> store = make_history(load_events);
    snapshots_type snapshots;

    load_fixture() {
        // What a snapshot_every{100} policy leaves behind: the latest snapshot, at the last
        // multiple of 100 (each save of the policy replaces the previous one).
        eddy::repository<account, store_type> plain(*store);
        const std::uint64_t at = load_events / snapshot_every * snapshot_every;
        account a = eddy::sync_wait(plain.load_at_version("acc-1", at));
        eddy::sync_wait(snapshots.save_snapshot("acc-1", {at, 1, a}));
    }
};

load_fixture& loads() {
    static load_fixture f;
    return f;
}

void bm_load_snapshot(benchmark::State& state) {
    load_fixture& f = loads();
    eddy::repository<account, store_type, snapshots_type> repo(
        *f.store, f.snapshots, eddy::snapshot_every{snapshot_every});
    const long balance = expected_balance(load_events);
    for (auto _ : state) {
        account a = eddy::sync_wait(repo.load("acc-1"));
        if (a.version() != load_events || a.state.balance != balance) {
            state.SkipWithError("wrong state after load");
            break;
        }
        benchmark::DoNotOptimize(a.state.balance);
    }
    state.counters["tail_events"] = static_cast<double>(load_events % snapshot_every);
}

void bm_load_no_snapshot(benchmark::State& state) {
    load_fixture& f = loads();
    eddy::repository<account, store_type> repo(*f.store);
    const long balance = expected_balance(load_events);
    for (auto _ : state) {
        account a = eddy::sync_wait(repo.load("acc-1"));
        if (a.version() != load_events || a.state.balance != balance) {
            state.SkipWithError("wrong state after load");
            break;
        }
        benchmark::DoNotOptimize(a.state.balance);
    }
    state.counters["tail_events"] = static_cast<double>(load_events);
}

BENCHMARK(bm_load_snapshot)
    ->Name("load/events:1000050/eddy_snapshot_every_100")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_load_no_snapshot)
    ->Name("load/events:1000050/eddy_no_snapshot")
    ->Unit(benchmark::kMillisecond);

} // namespace
