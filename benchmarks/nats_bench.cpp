// benchmarks/nats_bench.cpp - eddy::nats_bus publish and publish-to-handler rates beside raw
// libnats JetStream calls doing the same work in the same run, on the same stream.
//
// Every case runs on a fresh topic of one partition (a fresh bus prefix per case), created by
// eddy with its defaults: one stream, R1, file storage, limits retention, 2-minute duplicate
// window. The raw twins publish to that same stream (same subject
// `<prefix>.bench.0.k`, same `Eddy-Key: k` header, same 100-byte payload: the bytes eddy puts
// on the wire) and consume it through durable consumers of their own: same stream, same
// server placement (an R1 stream lives on one node of the cluster; separate streams could sit
// on different nodes and make the comparison unfair). The streams are deleted at the end of
// each case.
// Each iteration runs the eddy batch and the raw batch(es) one after the other (the order
// alternates), each timed alone: the benchmark's time (manual) and items_per_second are
// eddy's; counters name the raw rates of the same iterations and eddy's ratio to each
// (vs_raw* = eddy's rate / raw's; > 1: eddy faster), and the CPU time the whole process spent
// per record on each side (cpu_us: eddy's; raw_cpu_us, raw_same_cpu_us), which the servers
// sharing the machine's cores do not get.
//   publish_sync: sync_batch publishes one after the other: eddy `co_await bus.publish` in a
//       loop vs js_PublishMsg (blocking for the ack).
//   publish_async: async_batch publishes in flight at once, at most 256 awaiting their ack
//       (eddy: nats_bus_options::max_pending_publishes, default 256, with one task per record
//       under eddy::when_all; raw: js_PublishMsgAsync with PublishAsync.MaxPending 256, then
//       js_PublishAsyncComplete).
//   publish_to_handler: consume_batch records (published untimed, raw async) handled by
//       eddy (`subscribe` to a consumer group, one push member; timed from subscribe until
//       the handler has seen the last record) and by raw durable pull consumers (bind with
//       js_PullSubscribe, natsSubscription_Fetch, natsMsg_Ack*; timed from the bind to the
//       last acknowledgement), each its own durable consumer:
//         raw_same: eddy's protocol exactly: consumer MaxAckPending 1, Fetch of 1,
//             natsMsg_AckSync (eddy waits for the server to confirm each ack);
//         raw_ack:  the same consumer, Fetch of 1, natsMsg_Ack (no wait for the confirmation);
//         raw_batch: what a libnats program would write without eddy's per-partition order:
//             consumer MaxAckPending default (1000), Fetch of up to 100, natsMsg_Ack.
//   publish_async_buffered: the same with both sides on libnats' default of buffering.
// libnats buffers a plain publish (js_PublishMsgAsync, natsMsg_Ack, a Fetch's pull request)
// for its flusher thread, which sends it about 1 ms later, unless the connection has SendAsap
// (eddy's default, `nats_bus_options::send_asap`); requests (js_PublishMsg, natsMsg_AckSync) go
// out at once. Both sides have the same setting in every case: SendAsap on, except
// publish_async_buffered (libnats' default on both).
// The servers: EDDY_NATS_URL (scripts/test starts a 3-node cluster and sets it); without it
// the program says so and exits with status 2.
// Needs eddy::nats (the benchmarks' CMakeLists links it into nats_bench).
#include <benchmark/benchmark.h>

#include <algorithm>   // std::min
#include <atomic>      // std::atomic (acks and handled counts)
#include <chrono>      // std::chrono::steady_clock
#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint64_t, std::int64_t
#include <cstdio>      // std::fprintf
#include <cstdlib>     // std::getenv, std::exit
#include <ctime>       // std::clock (CPU time)
#include <memory>      // std::unique_ptr
#include <random>      // std::random_device (fresh prefixes)
#include <semaphore>   // std::binary_semaphore (the handler saw the last record)
#include <string>      // std::string
#include <string_view> // std::string_view
#include <unistd.h>    // getpid
#include <vector>      // std::vector

#include <nats/nats.h>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/nats/detail/nats_names.hpp>
#include <eddy/nats/nats_bus.hpp>

namespace {

constexpr int sync_batch = 100;      // sync publishes per iteration, each side
constexpr int async_batch = 2000;    // async publishes per iteration, each side
constexpr int consume_batch = 100;   // records handled per iteration, each consumer
constexpr int pending_bound = 256;   // async publishes awaiting their ack, both sides
constexpr int raw_fetch_batch = 100; // raw_batch's Fetch size
constexpr long long wait_ms = 5000;  // every raw request (eddy's request_timeout default)

const std::string payload(100, 'x');
const std::string topic_name = "bench";
const std::string key = "k";

// The servers; without them the program stops at once and says how to get them.
std::string server_urls() {
    const char* urls = std::getenv("EDDY_NATS_URL");
    if (urls == nullptr || *urls == '\0') {
        std::fprintf(stderr,
                     "nats_bench: EDDY_NATS_URL is not set: it needs a NATS JetStream server. Run "
                     "it through scripts/test (it starts a 3-node cluster on loopback), or "
                     "`source scripts/lib/nats.sh && nats_start` and run it in that shell.\n");
        std::exit(2);
    }
    return urls;
}
const std::string urls = server_urls();

std::string fresh_prefix() {
    static int counter = 0;
    static const unsigned salt = std::random_device{}();
    return "natsbench-" + std::to_string(::getpid()) + "-" + std::to_string(salt % 100000) + "-" +
           std::to_string(counter++);
}

// The payload as is: no encoding cost on either side.
struct bytes_codec {
    template <class T>
    std::string encode_value(const T& v) const {
        return v;
    }
    template <class T>
    T decode_value(std::string_view bytes) const {
        return T(bytes);
    }
};

using bench_bus = eddy::nats_bus<eddy::thread_pool, bytes_codec>;

// Wall time and this process's CPU time (all its threads: the caller's, eddy's pool and fetch
// threads, libnats' threads) from construction to stop(): the client's CPU per record is what
// the servers, sharing the machine's cores, lose to the client.
class stopwatch {
public:
    struct spent {
        double wall = 0;
        double cpu = 0;
        spent& operator+=(const spent& o) {
            wall += o.wall;
            cpu += o.cpu;
            return *this;
        }
    };
    [[nodiscard]] spent stop() const {
        return {std::chrono::duration<double>(std::chrono::steady_clock::now() - m_wall).count(),
                static_cast<double>(std::clock() - m_cpu) / CLOCKS_PER_SEC};
    }

private:
    std::chrono::steady_clock::time_point m_wall = std::chrono::steady_clock::now();
    std::clock_t m_cpu = std::clock();
};
using spent = stopwatch::spent;

// A plain libnats connection and JetStream context, connected as eddy connects.
class raw_client {
public:
    explicit raw_client(bool send_asap) {
        natsOptions* opts = nullptr;
        natsOptions_Create(&opts);
        std::vector<std::string> list;
        for (std::size_t start = 0; start <= urls.size();) {
            const std::size_t comma = std::min(urls.find(',', start), urls.size());
            if (comma > start) {
                list.push_back(urls.substr(start, comma - start));
            }
            start = comma + 1;
        }
        std::vector<const char*> servers;
        for (const std::string& u : list) {
            servers.push_back(u.c_str());
        }
        natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
        natsOptions_SetNoRandomize(opts, true);
        natsOptions_SetName(opts, "nats-bench-raw");
        natsOptions_SetTimeout(opts, wait_ms);
        natsOptions_SetSendAsap(opts, send_asap);
        const natsStatus s = natsConnection_Connect(&m_conn, opts);
        natsOptions_Destroy(opts);
        if (s != NATS_OK) {
            std::fprintf(stderr, "nats_bench: cannot connect to %s: %s\n", urls.c_str(),
                         natsStatus_GetText(s));
            std::exit(2);
        }
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = wait_ms;
        jo.PublishAsync.AckHandler = &raw_client::on_ack;
        jo.PublishAsync.AckHandlerClosure = this;
        jo.PublishAsync.MaxPending = pending_bound;
        jo.PublishAsync.StallWait = wait_ms; // at the bound, wait for acks (never fail)
        natsConnection_JetStream(&m_js, m_conn, &jo);
    }
    raw_client(const raw_client&) = delete;
    raw_client& operator=(const raw_client&) = delete;
    ~raw_client() {
        jsCtx_Destroy(m_js);
        natsConnection_Close(m_conn);
        natsConnection_Destroy(m_conn);
    }

    [[nodiscard]] jsCtx* js() const { return m_js; }
    [[nodiscard]] long acked() const { return m_acked.load(); }
    [[nodiscard]] long failed() const { return m_failed.load(); }

    // The record eddy would send: subject, Eddy-Key header, payload.
    static natsMsg* message(const std::string& subject) {
        natsMsg* msg = nullptr;
        natsMsg_Create(&msg, subject.c_str(), nullptr, payload.data(),
                       static_cast<int>(payload.size()));
        natsMsgHeader_Set(msg, "Eddy-Key", key.c_str());
        return msg;
    }

    // `n` publishes, each waiting for its ack. False if one failed.
    bool publish_sync(const std::string& subject, int n) const {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = wait_ms;
        bool ok = true;
        for (int i = 0; i < n; ++i) {
            natsMsg* msg = message(subject);
            jsPubAck* pa = nullptr;
            jsErrCode jerr = static_cast<jsErrCode>(0);
            ok = js_PublishMsg(&pa, m_js, msg, &po, &jerr) == NATS_OK && ok;
            jsPubAck_Destroy(pa);
            natsMsg_Destroy(msg);
        }
        return ok;
    }

    // `n` async publishes (at most pending_bound awaiting their ack), then waits for every ack.
    // False if one failed.
    bool publish_async(const std::string& subject, int n) {
        const long before = m_acked.load();
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = wait_ms;
        for (int i = 0; i < n; ++i) {
            natsMsg* msg = message(subject);
            if (js_PublishMsgAsync(m_js, &msg, &po) != NATS_OK) {
                natsMsg_Destroy(msg);
                return false;
            }
        }
        jsPubOptions done;
        jsPubOptions_Init(&done);
        done.MaxWait = 30000;
        return js_PublishAsyncComplete(m_js, &done) == NATS_OK && m_failed.load() == 0 &&
               m_acked.load() - before == n;
    }

private:
    static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr*, void* closure) {
        auto* self = static_cast<raw_client*>(closure);
        (pa != nullptr ? self->m_acked : self->m_failed).fetch_add(1);
        natsMsg_Destroy(msg);
    }

    natsConnection* m_conn = nullptr;
    jsCtx* m_js = nullptr;
    std::atomic<long> m_acked{0};
    std::atomic<long> m_failed{0};
};

// One case's topic: an eddy bus with a fresh prefix (eddy's defaults otherwise), its topic of
// one partition, a raw client on the same servers; the streams go when the case ends.
struct bench_topic {
    eddy::thread_pool pool{2};
    std::string prefix = fresh_prefix();
    std::unique_ptr<bench_bus> bus;
    raw_client raw;
    std::string subject; // where eddy publishes a record of key `key`
    std::string filter;  // the partition's subjects

    // Both sides send each message at once (`send_asap`: eddy's default) or let libnats'
    // flusher thread batch them (libnats' default).
    explicit bench_topic(bool send_asap) : raw(send_asap) {
        eddy::nats_bus_options o;
        o.urls = {urls};
        o.prefix = prefix;
        o.name = "nats-bench-eddy";
        o.send_asap = send_asap;
        bus = std::make_unique<bench_bus>(pool, bytes_codec{}, o);
        bus->create_topic<std::string>(topic_name, {.partitions = 1});
        const std::string partition = eddy::detail::nats_partition_subject(prefix, topic_name, 0);
        subject = partition + "." + eddy::detail::nats_token(key);
        filter = partition + ".>";
    }
    bench_topic(const bench_topic&) = delete;
    bench_topic& operator=(const bench_topic&) = delete;
    ~bench_topic() {
        bus.reset();
        // Every stream of this prefix: the topic's and its dead-letter topic's.
        jsStreamNamesList* names = nullptr;
        if (js_StreamNames(&names, raw.js(), nullptr, nullptr) == NATS_OK) {
            const std::string head = prefix + "_";
            for (int i = 0; i < names->Count; ++i) {
                if (std::string_view(names->List[i]).substr(0, head.size()) == head) {
                    js_DeleteStream(raw.js(), names->List[i], nullptr, nullptr);
                }
            }
            jsStreamNamesList_Destroy(names);
        }
    }

    // The stream's record count (what both sides stored).
    [[nodiscard]] std::uint64_t stored() const {
        jsStreamInfo* si = nullptr;
        const std::string stream = eddy::detail::nats_stream_name(prefix, topic_name, 0);
        if (js_GetStreamInfo(&si, raw.js(), stream.c_str(), nullptr, nullptr) != NATS_OK) {
            return 0;
        }
        const std::uint64_t n = si->State.Msgs;
        jsStreamInfo_Destroy(si);
        return n;
    }
};

// ----- eddy's side -----

eddy::task<int> publish_sequential(bench_bus* bus, int n) {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
        const eddy::publish_result r = co_await bus->publish(topic_name, key, payload);
        ok += r.partition == 0 ? 1 : 0;
    }
    co_return ok;
}

eddy::task<int> publish_concurrent(bench_bus* bus, int n) {
    std::vector<eddy::task<eddy::publish_result>> all;
    all.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        all.push_back(bus->publish(topic_name, key, payload));
    }
    const std::vector<eddy::publish_result> results = co_await eddy::when_all(std::move(all));
    co_return static_cast<int>(results.size());
}

// What the handler of one iteration counts; `done` opens at the target.
struct tally {
    std::atomic<int> handled{0};
    std::atomic<int> wrong{0}; // records of another size than the payload's
    int target = 0;
    std::binary_semaphore done{0};
};

eddy::task<void> count(tally* t, std::size_t size) {
    if (size != payload.size()) {
        t->wrong.fetch_add(1);
    }
    if (t->handled.fetch_add(1) + 1 == t->target) {
        t->done.release();
    }
    co_return;
}

struct tally_handler {
    tally* t;
    eddy::task<void> operator()(const eddy::record<std::string>& r) const {
        return count(t, r.value.size());
    }
};

// Subscribes group "g" and waits until its handler has seen `n` more records (20 s at most: a
// lost record fails the case instead of hanging it); the stop (up to fetch_wait while the
// member's fetch waits) comes after the timed part.
spent eddy_consume(bench_topic& topic, int n, bool& ok) {
    tally t;
    t.target = n;
    const stopwatch watch;
    eddy::subscription sub = topic.bus->subscribe<std::string>(topic_name, "g", tally_handler{&t});
    const bool all = t.done.try_acquire_for(std::chrono::seconds(20));
    const spent took = watch.stop();
    eddy::sync_wait(sub.stop());
    ok = ok && all && t.wrong.load() == 0 && t.handled.load() == n;
    return took;
}

// ----- raw consumers -----

enum class raw_mode { same, ack, batch };

const char* durable_of(raw_mode m) {
    return m == raw_mode::same ? "raw-same" : m == raw_mode::ack ? "raw-ack" : "raw-batch";
}

// The durable consumer of `m`, configured as eddy's ensure_consumer configures a group's
// (explicit acks, deliver all, 30 s ack wait, no delivery limit, the partition's filter),
// MaxAckPending 1 except raw_batch's (the server's default).
bool add_raw_consumer(bench_topic& topic, raw_mode m) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable_of(m);
    cc.AckPolicy = js_AckExplicit;
    cc.DeliverPolicy = js_DeliverAll;
    cc.AckWait = std::chrono::nanoseconds(std::chrono::seconds(30)).count();
    cc.MaxAckPending = m == raw_mode::batch ? 0 : 1;
    cc.MaxDeliver = -1;
    cc.FilterSubject = topic.filter.c_str();
    jsConsumerInfo* ci = nullptr;
    const std::string stream = eddy::detail::nats_stream_name(topic.prefix, topic_name, 0);
    const natsStatus s = js_AddConsumer(&ci, topic.raw.js(), stream.c_str(), &cc, nullptr, nullptr);
    jsConsumerInfo_Destroy(ci);
    return s == NATS_OK;
}

// Binds to the durable consumer of `m` and handles `n` records (each: its payload's size is
// checked, then it is acknowledged). The bind is timed, as eddy's subscribe is.
spent raw_consume(bench_topic& topic, raw_mode m, int n, bool& ok) {
    const stopwatch watch;
    const std::string stream = eddy::detail::nats_stream_name(topic.prefix, topic_name, 0);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Consumer = durable_of(m);
    so.ManualAck = true;
    natsSubscription* sub = nullptr;
    if (js_PullSubscribe(&sub, topic.raw.js(), topic.filter.c_str(), durable_of(m), nullptr, &so,
                         nullptr) != NATS_OK) {
        ok = false;
        return watch.stop();
    }
    int handled = 0;
    while (handled < n) {
        natsMsgList list{nullptr, 0};
        const int batch = m == raw_mode::batch ? raw_fetch_batch : 1;
        if (natsSubscription_Fetch(&list, sub, batch, wait_ms, nullptr) != NATS_OK) {
            ok = false; // nothing within wait_ms: records are missing
            break;
        }
        for (int i = 0; i < list.Count; ++i) {
            natsMsg* msg = list.Msgs[i];
            ok = ok && natsMsg_GetDataLength(msg) == static_cast<int>(payload.size());
            const natsStatus s = m == raw_mode::same ? natsMsg_AckSync(msg, nullptr, nullptr)
                                                     : natsMsg_Ack(msg, nullptr);
            ok = ok && s == NATS_OK;
            ++handled;
        }
        natsMsgList_Destroy(&list);
    }
    const spent took = watch.stop();
    natsSubscription_Destroy(sub);
    ok = ok && handled == n;
    return took;
}

// ----- cases -----

// `batch` records per iteration, each side: one after the other (eddy awaits each publish;
// raw js_PublishMsg) or all at once within the pending bound (eddy when_all; raw
// js_PublishMsgAsync, js_PublishAsyncComplete).
void publish_case(benchmark::State& state, int batch, bool concurrent, bool send_asap) {
    bench_topic topic(send_asap);
    spent eddy;
    spent raw;
    double n = 0;
    bool ok = true;
    bool eddy_first = true;
    for (auto _ : state) {
        for (int side = 0; side < 2; ++side) {
            const stopwatch watch;
            if ((side == 0) == eddy_first) {
                const int published =
                    concurrent ? eddy::sync_wait(publish_concurrent(topic.bus.get(), batch))
                               : eddy::sync_wait(publish_sequential(topic.bus.get(), batch));
                const spent took = watch.stop();
                ok = ok && published == batch;
                eddy += took;
                state.SetIterationTime(took.wall);
            } else {
                const bool done = concurrent ? topic.raw.publish_async(topic.subject, batch)
                                             : topic.raw.publish_sync(topic.subject, batch);
                raw += watch.stop();
                ok = ok && done;
            }
        }
        eddy_first = !eddy_first;
        n += batch;
    }
    if (!ok || topic.stored() != static_cast<std::uint64_t>(2 * n)) {
        state.SkipWithError("a publish failed or the stream holds another count");
        return;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(n));
    state.counters["raw/s"] = n / raw.wall;
    state.counters["vs_raw"] = raw.wall / eddy.wall;
    state.counters["cpu_us"] = eddy.cpu / n * 1e6;
    state.counters["raw_cpu_us"] = raw.cpu / n * 1e6;
}

void BM_publish_sync(benchmark::State& state) { publish_case(state, sync_batch, false, true); }

void BM_publish_async(benchmark::State& state) { publish_case(state, async_batch, true, true); }

void BM_publish_async_buffered(benchmark::State& state) {
    publish_case(state, async_batch, true, false);
}

void BM_publish_to_handler(benchmark::State& state) {
    bench_topic topic(true);
    const raw_mode modes[] = {raw_mode::same, raw_mode::ack, raw_mode::batch};
    bool ok = true;
    for (const raw_mode m : modes) {
        ok = add_raw_consumer(topic, m) && ok;
    }
    spent eddy;
    spent raw[3];
    double n = 0;
    int round = 0;
    for (auto _ : state) {
        ok = topic.raw.publish_async(topic.subject, consume_batch) && ok; // untimed
        // eddy and the three raw consumers, starting one further each iteration
        for (int i = 0; i < 4; ++i) {
            const int which = (i + round) % 4;
            if (which == 3) {
                const spent took = eddy_consume(topic, consume_batch, ok);
                eddy += took;
                state.SetIterationTime(took.wall);
            } else {
                raw[which] += raw_consume(topic, modes[which], consume_batch, ok);
            }
        }
        ++round;
        n += consume_batch;
    }
    if (!ok) {
        state.SkipWithError("a record was lost, malformed or not acknowledged");
        return;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(n));
    state.counters["raw_same/s"] = n / raw[0].wall;
    state.counters["raw_ack/s"] = n / raw[1].wall;
    state.counters["raw_batch/s"] = n / raw[2].wall;
    state.counters["vs_raw_same"] = raw[0].wall / eddy.wall;
    state.counters["vs_raw_ack"] = raw[1].wall / eddy.wall;
    state.counters["vs_raw_batch"] = raw[2].wall / eddy.wall;
    state.counters["cpu_us"] = eddy.cpu / n * 1e6;
    state.counters["raw_same_cpu_us"] = raw[0].cpu / n * 1e6;
}

} // namespace

BENCHMARK(BM_publish_sync)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_publish_async)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_publish_async_buffered)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_publish_to_handler)->UseManualTime()->Unit(benchmark::kMillisecond);
