// Tests of eddy::for_each(stream, f): synchronous and asynchronous callbacks, backpressure.
#include <eddy/stream/for_each.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

using eddy::stream;
using eddy::task;
using namespace std::chrono_literals;

namespace {

struct progress {
    int produced = 0;
    int consumed = 0;
    int max_lead = 0; // most values produced and not yet consumed, seen by the callback
    std::vector<int> values;
};

stream<int> tracked(progress* p, int n) {
    for (int i = 0; i < n; ++i) {
        ++p->produced;
        co_yield i;
    }
}

task<void> consume_slowly(eddy::virtual_time_scheduler* vt, progress* p, int v) {
    p->max_lead = std::max(p->max_lead, p->produced - p->consumed);
    co_await vt->schedule_after(1s); // the producer must not run meanwhile
    p->max_lead = std::max(p->max_lead, p->produced - p->consumed);
    p->values.push_back(v);
    ++p->consumed;
}

struct slow_consumer {
    eddy::virtual_time_scheduler* vt;
    progress* p;
    task<void> operator()(int v) const { return consume_slowly(vt, p, v); }
};

struct record {
    std::vector<int>* out;
    void operator()(int v) const { out->push_back(v); }
};

struct add_box {
    int* total;
    void operator()(std::unique_ptr<int> v) const { *total += *v; }
};

struct fail_on {
    int bad;
    std::vector<int>* seen;
    void operator()(int v) const {
        seen->push_back(v);
        if (v == bad) {
            throw std::runtime_error("callback failed");
        }
    }
};

stream<int> count_from_zero(int n) {
    for (int i = 0; i < n; ++i) {
        co_yield i;
    }
}

stream<std::unique_ptr<int>> boxes(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield std::make_unique<int>(i);
    }
}

task<void> hop_and_record(eddy::thread_pool* pool, std::vector<int>* out, int v) {
    co_await pool->schedule();
    out->push_back(v); // one at a time: the next pull waits for this task
}

struct on_pool {
    eddy::thread_pool* pool;
    std::vector<int>* out;
    task<void> operator()(int v) const { return hop_and_record(pool, out, v); }
};

} // namespace

TEST_CASE("for_each: a synchronous callback sees every value in order", "[stream][for_each]") {
    std::vector<int> out;
    eddy::sync_wait(eddy::for_each(count_from_zero(5), record{&out}));
    REQUIRE(out == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("for_each: move-only values are moved into the callback", "[stream][for_each]") {
    int total = 0;
    eddy::sync_wait(eddy::for_each(boxes(4), add_box{&total}));
    REQUIRE(total == 10);
}

TEST_CASE("for_each: an async callback is awaited before the next pull (backpressure)",
          "[stream][for_each]") {
    eddy::virtual_time_scheduler vt;
    progress p;
    vt.run(eddy::for_each(tracked(&p, 5), slow_consumer{&vt, &p}));
    REQUIRE(p.values == std::vector<int>{0, 1, 2, 3, 4});
    REQUIRE(p.max_lead == 1); // the producer is never more than one value ahead
    REQUIRE(vt.now() == eddy::virtual_time_scheduler::time_point{} + 5s);
}

TEST_CASE("for_each: the callback's exception stops pulling and reaches the awaiter",
          "[stream][for_each]") {
    std::vector<int> seen;
    REQUIRE_THROWS_WITH(eddy::sync_wait(eddy::for_each(count_from_zero(10), fail_on{2, &seen})),
                        "callback failed");
    REQUIRE(seen == std::vector<int>{0, 1, 2});
}

TEST_CASE("for_each: a million values in constant stack", "[stream][for_each]") {
    std::vector<int> out;
    out.reserve(1'000'000);
    eddy::sync_wait(eddy::for_each(count_from_zero(1'000'000), record{&out}));
    REQUIRE(out.size() == 1'000'000U);
}

TEST_CASE("for_each: a callback that hops to a thread_pool", "[stream][for_each][concurrency]") {
    eddy::thread_pool pool(4);
    std::vector<int> out;
    eddy::sync_wait(eddy::for_each(count_from_zero(2'000), on_pool{&pool, &out}));
    REQUIRE(out.size() == 2'000U);
    REQUIRE(std::is_sorted(out.begin(), out.end()));
}
