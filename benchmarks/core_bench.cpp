// benchmarks/core_bench.cpp - eddy/core beside its baselines, reported as ratios.
//
// Each family has one name prefix and one configuration per path segment, the implementation
// last, so eddy and its baselines sort together:
//   task_await/{eddy,eddy_with_stop_token,handwritten,asio,plain_call}
//       a parent coroutine awaiting a child that returns at once (create + await + destroy),
//       task_batch awaits per iteration inside one driver coroutine. clang 14 elides the
//       hand-written child's frame allocation (HALO) and g++ 12 does not, so compare within
//       one compiler.
//   pool_hop/chains:K/hops:M/{eddy,condvar_pool}
//       K independent chains of M hops each through a 2-thread pool, waiting for all chains.
//   channel/{spsc,mpmc}/cap:C/{eddy,condvar_queue,asio,asio_1thread}
//       channel_items ints through a bounded queue of capacity C; SPSC is one producer and one
//       consumer thread, MPMC two of each (asio: an io_context run by as many threads, or by
//       one thread for asio_1thread). eddy's channel resumes a waiter inline on the thread that
//       completes it, so once one side has waited, producer and consumer coroutines run
//       alternately on one thread (the other blocks in sync_wait): eddy's figures measure that
//       path, the condvar queue's measure a hand-off between threads per wake-up.
// Items are awaits, hops or values; compare items_per_second (or time) within a family.
// Threads are involved in pool_hop and channel: those report real time.

#include <benchmark/benchmark.h>

#include <baselines/condvar_queue.hpp>

#include <atomic>             // std::atomic (producers left, asio results)
#include <condition_variable> // std::condition_variable (baselines)
#include <coroutine>          // std::coroutine_handle (the hand-written task)
#include <cstddef>            // std::size_t
#include <deque>              // std::deque (condvar_pool's queue)
#include <exception>          // std::terminate
#include <functional>         // std::function (condvar_pool's work items)
#include <latch>              // std::latch (condvar_pool chains finished)
#include <mutex>              // std::mutex (baselines)
#include <optional>           // std::optional (receive results)
#include <stop_token>         // std::stop_source (task_await/eddy_with_stop_token)
#include <thread>             // std::jthread
#include <utility>            // std::exchange, std::move
#include <vector>             // std::vector

#include <eddy/core/channel.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>

#if EDDY_HAVE_ASIO
// asio 1.22 turns co_await support on for clang only when <experimental/coroutine> exists
// (libc++); clang 14 on libstdc++ 12 has only <coroutine>, which asio's std-coroutine path
// (ASIO_HAS_STD_COROUTINE, detected through __GNUC__) already uses. g++ needs nothing.
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(ASIO_HAS_CO_AWAIT)
#define ASIO_HAS_CO_AWAIT 1
#endif
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/channel.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#endif

namespace {

// ---------------------------------------------------------------------------------------------
// task_await

constexpr int task_batch = 1000;

// (a) The floor: an out-of-line call per item.
[[gnu::noinline]] int plain_child(int i) {
    benchmark::DoNotOptimize(i);
    return i;
}

void bm_task_await_plain_call(benchmark::State& state) {
    for (auto _ : state) {
        long sum = 0;
        for (int i = 0; i < task_batch; ++i) {
            sum += plain_child(i);
        }
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * task_batch);
}

// (b) The smallest correct lazy task with symmetric transfer: what eddy::task is measured
// against. No exceptions, no stop token, no protection against stack growth at -O0.
template <class T>
class handwritten_task {
public:
    struct promise_type {
        std::coroutine_handle<> m_continuation;
        T m_value{};

        handwritten_task get_return_object() noexcept {
            return handwritten_task{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        struct final_awaiter {
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<>
            await_suspend(std::coroutine_handle<promise_type> self) const noexcept {
                return self.promise().m_continuation;
            }
            void await_resume() const noexcept {}
        };
        final_awaiter final_suspend() const noexcept { return {}; }
        void return_value(T value) noexcept { m_value = value; }
        [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }
    };

    explicit handwritten_task(std::coroutine_handle<promise_type> coro) noexcept : m_coro(coro) {}
    handwritten_task(handwritten_task&& other) noexcept : m_coro(std::exchange(other.m_coro, {})) {}
    handwritten_task& operator=(handwritten_task&&) = delete;
    ~handwritten_task() {
        if (m_coro) {
            m_coro.destroy();
        }
    }

    struct awaiter {
        std::coroutine_handle<promise_type> m_coro;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
            m_coro.promise().m_continuation = awaiting;
            return m_coro;
        }
        T await_resume() const noexcept { return m_coro.promise().m_value; }
    };
    awaiter operator co_await() const noexcept { return awaiter{m_coro}; }

private:
    std::coroutine_handle<promise_type> m_coro;
};

handwritten_task<int> handwritten_child(int i) { co_return i; }

handwritten_task<long> handwritten_parent(int n) {
    long sum = 0;
    for (int i = 0; i < n; ++i) {
        sum += co_await handwritten_child(i);
    }
    co_return sum;
}

void bm_task_await_handwritten(benchmark::State& state) {
    for (auto _ : state) {
        long sum = eddy::sync_wait(handwritten_parent(task_batch));
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * task_batch);
}

// eddy: the same shape, driven by the same sync_wait.
eddy::task<int> eddy_child(int i) { co_return i; }

eddy::task<long> eddy_parent(int n) {
    long sum = 0;
    for (int i = 0; i < n; ++i) {
        sum += co_await eddy_child(i);
    }
    co_return sum;
}

void bm_task_await_eddy(benchmark::State& state) {
    for (auto _ : state) {
        long sum = eddy::sync_wait(eddy_parent(task_batch));
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * task_batch);
}

// eddy again, the parent carrying a stop token (as every task under when_all or an async_scope
// does): each child inherits it, which copies a std::stop_token per await.
void bm_task_await_eddy_with_stop_token(benchmark::State& state) {
    std::stop_source source;
    for (auto _ : state) {
        eddy::task<long> parent = eddy_parent(task_batch);
        parent.set_stop_token(source.get_token());
        long sum = eddy::sync_wait(std::move(parent));
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * task_batch);
}

#if EDDY_HAVE_ASIO
// (c) asio::awaitable, spawned on a single-threaded io_context.
asio::awaitable<int> asio_child(int i) { co_return i; }

asio::awaitable<void> asio_parent(int n, long* out) {
    long sum = 0;
    for (int i = 0; i < n; ++i) {
        sum += co_await asio_child(i);
    }
    *out = sum;
}

void bm_task_await_asio(benchmark::State& state) {
    asio::io_context context(1);
    for (auto _ : state) {
        long sum = 0;
        asio::co_spawn(context, asio_parent(task_batch, &sum), asio::detached);
        context.run();
        context.restart();
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * task_batch);
}
#endif

// ---------------------------------------------------------------------------------------------
// pool_hop

constexpr int pool_threads = 2;

// eddy: each chain is a coroutine hopping onto the pool `hops` times.
eddy::task<> eddy_hop_chain(eddy::thread_pool& pool, int hops) {
    for (int i = 0; i < hops; ++i) {
        co_await pool.schedule();
    }
}

void bm_pool_hop_eddy(benchmark::State& state, int chains, int hops) {
    eddy::thread_pool pool(pool_threads);
    for (auto _ : state) {
        std::vector<eddy::task<>> work;
        work.reserve(static_cast<std::size_t>(chains));
        for (int c = 0; c < chains; ++c) {
            work.push_back(eddy_hop_chain(pool, hops));
        }
        eddy::sync_wait(eddy::when_all(std::move(work)));
    }
    state.SetItemsProcessed(state.iterations() * chains * hops);
}

// Baseline: the textbook pool, one mutex + condvar around a deque of std::function, notify_one
// on every post.
class condvar_pool {
public:
    explicit condvar_pool(int threads) {
        for (int i = 0; i < threads; ++i) {
            m_threads.emplace_back([this] { run(); });
        }
    }
    condvar_pool(const condvar_pool&) = delete;
    condvar_pool& operator=(const condvar_pool&) = delete;
    ~condvar_pool() {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_cv.notify_all();
        m_threads.clear(); // joins
    }

    void post(std::function<void()> work) {
        {
            std::lock_guard lock(m_mutex);
            m_queue.push_back(std::move(work));
        }
        m_cv.notify_one();
    }

private:
    void run() {
        for (;;) {
            std::function<void()> work;
            {
                std::unique_lock lock(m_mutex);
                m_cv.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
                if (m_queue.empty()) {
                    return;
                }
                work = std::move(m_queue.front());
                m_queue.pop_front();
            }
            work();
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::function<void()>> m_queue;
    bool m_stopping = false;
    std::vector<std::jthread> m_threads;
};

// One chain's state; the posted std::function captures only a pointer to it, so it fits the
// small-buffer and a hop allocates nothing (as eddy's hops don't): the baseline at its best.
struct condvar_chain {
    condvar_pool* m_pool;
    int m_remaining;
    std::latch* m_done;
};

void condvar_hop(condvar_chain* chain) {
    if (--chain->m_remaining == 0) {
        chain->m_done->count_down();
        return;
    }
    chain->m_pool->post([chain] { condvar_hop(chain); });
}

void bm_pool_hop_condvar(benchmark::State& state, int chains, int hops) {
    condvar_pool pool(pool_threads);
    std::vector<condvar_chain> chain_states(static_cast<std::size_t>(chains));
    for (auto _ : state) {
        std::latch done(chains);
        for (condvar_chain& chain : chain_states) {
            chain = condvar_chain{&pool, hops, &done};
            condvar_chain* p = &chain;
            pool.post([p] { condvar_hop(p); });
        }
        done.wait();
    }
    state.SetItemsProcessed(state.iterations() * chains * hops);
}

// ---------------------------------------------------------------------------------------------
// channel

constexpr int channel_items = 1 << 17;

// Every producer sends 0..per_producer-1, so every consumer-side sum has a known total.
constexpr long expected_sum(int producers, int per_producer) {
    return static_cast<long>(producers) * per_producer * (per_producer - 1) / 2;
}

// eddy: one coroutine per thread, each thread blocked in sync_wait; the last producer closes.
eddy::task<> eddy_produce(eddy::channel<int>& ch, int count, std::atomic<int>& producers_left) {
    for (int i = 0; i < count; ++i) {
        co_await ch.send(i);
    }
    if (producers_left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        ch.close();
    }
}

eddy::task<long> eddy_consume(eddy::channel<int>& ch) {
    long sum = 0;
    for (;;) {
        // Awaited into a local, never in a condition (g++ 12, see DESIGN.md).
        std::optional<int> value = co_await ch.receive();
        if (!value) {
            break;
        }
        sum += *value;
    }
    co_return sum;
}

void bm_channel_eddy(benchmark::State& state, int producers, int consumers, int capacity) {
    const int per_producer = channel_items / producers;
    for (auto _ : state) {
        eddy::channel<int> ch(static_cast<std::size_t>(capacity));
        std::atomic<int> producers_left{producers};
        std::vector<long> sums(static_cast<std::size_t>(consumers));
        {
            std::vector<std::jthread> threads;
            for (int p = 0; p < producers; ++p) {
                threads.emplace_back([&ch, &producers_left, per_producer] {
                    eddy::sync_wait(eddy_produce(ch, per_producer, producers_left));
                });
            }
            for (long& sum : sums) {
                threads.emplace_back([&ch, &sum] { sum = eddy::sync_wait(eddy_consume(ch)); });
            }
        }
        long total = 0;
        for (long sum : sums) {
            total += sum;
        }
        if (total != expected_sum(producers, per_producer)) {
            state.SkipWithError("eddy::channel lost or duplicated values");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations() * per_producer * producers);
}

// Baseline: the textbook bounded queue (benchmarks/baselines/condvar_queue.hpp).
using condvar_queue = eddy::bench::condvar_queue<int>;

void bm_channel_condvar(benchmark::State& state, int producers, int consumers, int capacity) {
    const int per_producer = channel_items / producers;
    for (auto _ : state) {
        condvar_queue queue(static_cast<std::size_t>(capacity));
        std::atomic<int> producers_left{producers};
        std::vector<long> sums(static_cast<std::size_t>(consumers));
        {
            std::vector<std::jthread> threads;
            for (int p = 0; p < producers; ++p) {
                threads.emplace_back([&queue, &producers_left, per_producer] {
                    for (int i = 0; i < per_producer; ++i) {
                        queue.push(i);
                    }
                    if (producers_left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                        queue.close();
                    }
                });
            }
            for (long& sum : sums) {
                threads.emplace_back([&queue, &sum] {
                    for (;;) {
                        std::optional<int> value = queue.pop();
                        if (!value) {
                            break;
                        }
                        sum += *value;
                    }
                });
            }
        }
        long total = 0;
        for (long sum : sums) {
            total += sum;
        }
        if (total != expected_sum(producers, per_producer)) {
            state.SkipWithError("condvar_queue lost or duplicated values");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations() * per_producer * producers);
}

#if EDDY_HAVE_ASIO
// asio 1.22's experimental channel, the thread-safe flavour (concurrent_channel), with one
// io_context run by as many threads as eddy's variant uses. Its close() drops buffered values
// (channel_service::close sets the receive state to closed at once), so the last producer
// sends one end marker (-1) per consumer instead of closing.
using asio_channel = asio::experimental::concurrent_channel<void(asio::error_code, int)>;

asio::awaitable<void> asio_produce(asio_channel& ch, int count, std::atomic<int>& producers_left,
                                   int consumers) {
    for (int i = 0; i < count; ++i) {
        co_await ch.async_send(asio::error_code{}, i, asio::use_awaitable);
    }
    if (producers_left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        for (int c = 0; c < consumers; ++c) {
            co_await ch.async_send(asio::error_code{}, -1, asio::use_awaitable);
        }
    }
}

asio::awaitable<void> asio_consume(asio_channel& ch, long& sum) {
    for (;;) {
        const int value = co_await ch.async_receive(asio::use_awaitable);
        if (value < 0) {
            break;
        }
        sum += value;
    }
}

void bm_channel_asio(benchmark::State& state, int producers, int consumers, int capacity) {
    const int per_producer = channel_items / producers;
    const int threads_count = producers + consumers;
    for (auto _ : state) {
        asio::io_context context(threads_count);
        asio_channel ch(context, static_cast<std::size_t>(capacity));
        std::atomic<int> producers_left{producers};
        std::vector<long> sums(static_cast<std::size_t>(consumers));
        for (int p = 0; p < producers; ++p) {
            asio::co_spawn(context, asio_produce(ch, per_producer, producers_left, consumers),
                           asio::detached);
        }
        for (long& sum : sums) {
            asio::co_spawn(context, asio_consume(ch, sum), asio::detached);
        }
        {
            std::vector<std::jthread> threads;
            for (int t = 0; t < threads_count; ++t) {
                threads.emplace_back([&context] { context.run(); });
            }
        }
        long total = 0;
        for (long sum : sums) {
            total += sum;
        }
        if (total != expected_sum(producers, per_producer)) {
            state.SkipWithError("asio channel lost or duplicated values");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations() * per_producer * producers);
}

// The same coroutines on asio's single-threaded channel (basic channel, null mutex) and one
// io_context thread: asio's fast path, where nothing crosses threads.
using asio_st_channel = asio::experimental::channel<void(asio::error_code, int)>;

asio::awaitable<void> asio_st_produce(asio_st_channel& ch, int count, int& producers_left,
                                      int consumers) {
    for (int i = 0; i < count; ++i) {
        co_await ch.async_send(asio::error_code{}, i, asio::use_awaitable);
    }
    if (--producers_left == 0) {
        for (int c = 0; c < consumers; ++c) {
            co_await ch.async_send(asio::error_code{}, -1, asio::use_awaitable);
        }
    }
}

asio::awaitable<void> asio_st_consume(asio_st_channel& ch, long& sum) {
    for (;;) {
        const int value = co_await ch.async_receive(asio::use_awaitable);
        if (value < 0) {
            break;
        }
        sum += value;
    }
}

void bm_channel_asio_1thread(benchmark::State& state, int producers, int consumers, int capacity) {
    const int per_producer = channel_items / producers;
    for (auto _ : state) {
        asio::io_context context(1);
        asio_st_channel ch(context, static_cast<std::size_t>(capacity));
        int producers_left = producers;
        std::vector<long> sums(static_cast<std::size_t>(consumers));
        for (int p = 0; p < producers; ++p) {
            asio::co_spawn(context, asio_st_produce(ch, per_producer, producers_left, consumers),
                           asio::detached);
        }
        for (long& sum : sums) {
            asio::co_spawn(context, asio_st_consume(ch, sum), asio::detached);
        }
        context.run();
        long total = 0;
        for (long sum : sums) {
            total += sum;
        }
        if (total != expected_sum(producers, per_producer)) {
            state.SkipWithError("asio channel lost or duplicated values");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations() * per_producer * producers);
}
#endif

} // namespace

// ---------------------------------------------------------------------------------------------
// Registration. Times are tuned so the binary runs in well under a minute on 2 cores with
// --benchmark_repetitions=5.

BENCHMARK(bm_task_await_eddy)->Name("task_await/eddy")->MinTime(0.1);
BENCHMARK(bm_task_await_eddy_with_stop_token)
    ->Name("task_await/eddy_with_stop_token")
    ->MinTime(0.1);
BENCHMARK(bm_task_await_handwritten)->Name("task_await/handwritten")->MinTime(0.1);
#if EDDY_HAVE_ASIO
BENCHMARK(bm_task_await_asio)->Name("task_await/asio")->MinTime(0.1);
#endif
BENCHMARK(bm_task_await_plain_call)->Name("task_await/plain_call")->MinTime(0.1);

BENCHMARK_CAPTURE(bm_pool_hop_eddy, k1, 1, 20000)
    ->Name("pool_hop/chains:1/hops:20000/eddy")
    ->UseRealTime()
    ->MinTime(0.1);
BENCHMARK_CAPTURE(bm_pool_hop_condvar, k1, 1, 20000)
    ->Name("pool_hop/chains:1/hops:20000/condvar_pool")
    ->UseRealTime()
    ->MinTime(0.1);
BENCHMARK_CAPTURE(bm_pool_hop_eddy, k64, 64, 500)
    ->Name("pool_hop/chains:64/hops:500/eddy")
    ->UseRealTime()
    ->MinTime(0.1);
BENCHMARK_CAPTURE(bm_pool_hop_condvar, k64, 64, 500)
    ->Name("pool_hop/chains:64/hops:500/condvar_pool")
    ->UseRealTime()
    ->MinTime(0.1);

#if EDDY_HAVE_ASIO
#define EDDY_CHANNEL_BENCH_ASIO(kind, producers, consumers, capacity)                              \
    BENCHMARK_CAPTURE(bm_channel_asio, kind##capacity, producers, consumers, capacity)             \
        ->Name("channel/" #kind "/cap:" #capacity "/asio")                                         \
        ->UseRealTime()                                                                            \
        ->MinTime(0.1);                                                                            \
    BENCHMARK_CAPTURE(bm_channel_asio_1thread, kind##capacity, producers, consumers, capacity)     \
        ->Name("channel/" #kind "/cap:" #capacity "/asio_1thread")                                 \
        ->UseRealTime()                                                                            \
        ->MinTime(0.1)
#else
#define EDDY_CHANNEL_BENCH_ASIO(kind, producers, consumers, capacity) static_assert(true)
#endif

#define EDDY_CHANNEL_BENCH(kind, producers, consumers, capacity)                                   \
    BENCHMARK_CAPTURE(bm_channel_eddy, kind##capacity, producers, consumers, capacity)             \
        ->Name("channel/" #kind "/cap:" #capacity "/eddy")                                         \
        ->UseRealTime()                                                                            \
        ->MinTime(0.1);                                                                            \
    BENCHMARK_CAPTURE(bm_channel_condvar, kind##capacity, producers, consumers, capacity)          \
        ->Name("channel/" #kind "/cap:" #capacity "/condvar_queue")                                \
        ->UseRealTime()                                                                            \
        ->MinTime(0.1);                                                                            \
    EDDY_CHANNEL_BENCH_ASIO(kind, producers, consumers, capacity)

EDDY_CHANNEL_BENCH(spsc, 1, 1, 64);
EDDY_CHANNEL_BENCH(spsc, 1, 1, 1024);
EDDY_CHANNEL_BENCH(mpmc, 2, 2, 64);
EDDY_CHANNEL_BENCH(mpmc, 2, 2, 1024);
