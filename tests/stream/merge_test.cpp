// Tests of eddy::merge(sources...): arrival order in virtual time, per-source order, the end,
// errors stopping the other sources, cancellation, destruction mid-way, and a thread_pool stress.
#include <eddy/stream/merge.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/stream/count.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/take.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/counted.hpp>
#include <support/mappers.hpp>
#include <support/stream_consumers.hpp>
#include <support/stream_sources.hpp>
#include <support/timed_streams.hpp>

using eddy::stream;
using eddy::virtual_time_scheduler;
using eddy::test::all;
using eddy::test::arrivals;
using eddy::test::count_to;
using eddy::test::counted;
using eddy::test::drain;
using eddy::test::drained;
using eddy::test::frame_guard;
using eddy::test::is;
using eddy::test::record;
using eddy::test::record_to_end;
using eddy::test::recorded;
using eddy::test::run_stopped_after;
using eddy::test::take_n;
using eddy::test::timed;
using eddy::test::times_ten;
using eddy::test::virtual_time::duration;
using eddy::test::virtual_time::epoch;
using eddy::test::virtual_time::time_point;
using namespace std::chrono_literals;

namespace {

stream<int> fails_at(virtual_time_scheduler* vt, duration d, int* destroyed) {
    const frame_guard guard{destroyed};
    co_yield -1;
    co_await vt->schedule_after(d);
    throw std::runtime_error("source failed");
}

// Yields source * 1'000'000 + i for i in [0, n), hopping onto the pool before most values.
stream<long> on_pool(eddy::thread_pool* pool, long source, long n) {
    for (long i = 0; i < n; ++i) {
        if (i % 4 != 3) {
            co_await pool->schedule();
        }
        co_yield source * 1'000'000 + i;
    }
}

} // namespace

TEST_CASE("merge: synchronous sources interleave round robin, each in its order",
          "[stream][merge]") {
    REQUIRE(all(eddy::merge(count_to(3), count_to(5) | eddy::map(times_ten))) ==
            std::vector<int>{1, 10, 2, 20, 3, 30, 40, 50});
    REQUIRE(all(eddy::merge(count_to(2))) == std::vector<int>{1, 2});
}

TEST_CASE("merge: long synchronous sources run in constant stack", "[stream][merge]") {
    REQUIRE(eddy::sync_wait(eddy::count(eddy::merge(count_to(150'000), count_to(150'000)))) ==
            300'000);
}

TEST_CASE("merge: values in arrival order, at their virtual times", "[stream][merge]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    counted::reset();
    // a: 1, 3, 5 at 1 s, 3 s, 5 s; b: 2, 4 at 2 s, 4 s; c: 100 at 2500 ms.
    arrivals<int> got = vt.run(
        record_to_end(&vt, eddy::merge(timed(&vt, 1s, 2s, 1, 2, 3, &destroyed, counted{}),
                                       timed(&vt, 2s, 2s, 2, 2, 2, &destroyed, counted{}),
                                       timed(&vt, 2500ms, 1s, 100, 1, 1, &destroyed, counted{}))));
    REQUIRE(got == arrivals<int>{{1, 1s}, {2, 2s}, {100, 2500ms}, {3, 3s}, {4, 4s}, {5, 5s}});
    // Ends once the last source ended (a, at 5 s); every source frame is gone by then.
    REQUIRE(vt.now() == epoch + 5s);
    REQUIRE(destroyed == 3);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("merge: lazy, nothing is pulled before the first next()", "[stream][merge]") {
    int a = 0;
    int b = 0;
    {
        stream<int> s =
            eddy::merge(eddy::test::counted_source(3, &a), eddy::test::counted_source(3, &b));
        REQUIRE(a == 0);
        REQUIRE(b == 0);
    }
    REQUIRE(a == 0);
    REQUIRE(b == 0);
}

TEST_CASE("merge: backpressure, each source at most one value ahead", "[stream][merge]") {
    int a = 0;
    int b = 0;
    stream<int> s =
        eddy::merge(eddy::test::counted_source(100, &a), eddy::test::counted_source(100, &b));
    std::vector<int> got = eddy::sync_wait(take_n(std::move(s), 1));
    REQUIRE(got == std::vector<int>{1});
    // a's 1 was taken and a pulled again (2 waits); b's 1 waits: nothing more was pulled.
    REQUIRE(a == 2);
    REQUIRE(b == 1);
}

TEST_CASE("merge: a vector of sources; an empty vector is an empty stream", "[stream][merge]") {
    std::vector<stream<int>> sources;
    sources.push_back(count_to(2));
    sources.push_back(count_to(0));
    sources.push_back(count_to(1));
    REQUIRE(all(eddy::merge(std::move(sources))) == std::vector<int>{1, 1, 2});
    REQUIRE(all(eddy::merge(std::vector<stream<int>>{})).empty());
}

TEST_CASE("merge: move-only values", "[stream][merge]") {
    auto v = all(eddy::merge(eddy::test::boxes(2), eddy::test::boxes(1)));
    REQUIRE(v.size() == 3);
    REQUIRE(*v[0] + *v[1] + *v[2] == 4);
}

TEST_CASE("merge: the first error stops the other sources and is rethrown after the values "
          "before it",
          "[stream][merge]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    counted::reset();
    recorded<int> r =
        vt.run(record(&vt, eddy::merge(timed(&vt, 1s, 1s, 1, 1, 100, &destroyed, counted{}),
                                       fails_at(&vt, 2500ms, &destroyed))));
    REQUIRE(is<std::runtime_error>(r.error));
    REQUIRE(r.ended_at == 2500ms);
    REQUIRE(r.values == arrivals<int>{{-1, 0s}, {1, 1s}, {2, 2s}});
    // The other source was waiting on its 3 s timer: stopped, its frame destroyed, no timer left.
    vt.run_until_idle();
    REQUIRE(destroyed == 2);
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(vt.now() == epoch + 2500ms);
}

TEST_CASE("merge: destroyed mid-way while the sources wait on timers: everything ends",
          "[stream][merge]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    counted::reset();
    std::vector<int> got =
        vt.run(take_n(eddy::merge(timed(&vt, 1h, 1h, 1, 1, 100, &destroyed, counted{}),
                                  timed(&vt, 90min, 1h, 10, 10, 100, &destroyed, counted{}),
                                  timed(&vt, 1h, 1h, 1000, 1, 100, &destroyed, counted{})),
                      3));
    REQUIRE(got == std::vector<int>{1, 1000, 10});
    REQUIRE(destroyed == 0);
    vt.run_until_idle();
    REQUIRE(destroyed == 3);
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(vt.now() == time_point{} + 90min);
}

TEST_CASE("merge: the consumer's stop request cancels a waiting next() and the sources",
          "[stream][merge]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    counted::reset();
    stream<int> s = eddy::merge(timed(&vt, 1min, 1min, 1, 1, 100, &destroyed, counted{}),
                                timed(&vt, 1h, 1h, 7, 0, 100, &destroyed, counted{}));
    drained<int> r = run_stopped_after(vt, 150s, drain(&s));
    REQUIRE(r.values == std::vector<int>{1, 2});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    vt.run_until_idle();
    REQUIRE(destroyed == 2); // the sources ended without waiting for the stream's destruction
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(vt.now() == time_point{} + 150s);
}

TEST_CASE("merge: sources on a thread_pool, exact values, per-source order kept",
          "[stream][merge][concurrency]") {
    constexpr long sources = 4;
    constexpr long per_source = 5'000;
    for (int round = 0; round < 3; ++round) {
        std::vector<long> got;
        {
            eddy::thread_pool pool(3);
            std::vector<stream<long>> inputs;
            for (long s = 0; s < sources; ++s) {
                inputs.push_back(on_pool(&pool, s, per_source));
            }
            got = all(eddy::merge(std::move(inputs)));
        }
        REQUIRE(got.size() == static_cast<std::size_t>(sources * per_source));
        std::vector<long> last(sources, -1);
        bool in_order = true;
        for (long v : got) {
            long& seen = last[static_cast<std::size_t>(v / 1'000'000)];
            in_order = in_order && v % 1'000'000 == seen + 1;
            seen = v % 1'000'000;
        }
        REQUIRE(in_order);
        std::sort(got.begin(), got.end());
        std::vector<long> expected;
        for (long s = 0; s < sources; ++s) {
            for (long i = 0; i < per_source; ++i) {
                expected.push_back(s * 1'000'000 + i);
            }
        }
        REQUIRE(got == expected);
    }
}

TEST_CASE("merge: destroyed mid-way on a thread_pool", "[stream][merge][concurrency]") {
    eddy::thread_pool pool(2);
    for (int round = 0; round < 20; ++round) {
        std::vector<stream<long>> inputs;
        for (long s = 0; s < 3; ++s) {
            inputs.push_back(on_pool(&pool, s, 1'000'000));
        }
        std::vector<long> got = eddy::sync_wait(
            eddy::to_vector(stream<long>(eddy::merge(std::move(inputs)) | eddy::take(100))));
        REQUIRE(got.size() == 100);
    }
}
