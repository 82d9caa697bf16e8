// Tests of eddy::zip(sources...): element-wise tuples, concurrent pulls in virtual time, the
// end at the first source's end (the others stopped and destroyed), errors, cancellation.
#include <eddy/stream/zip.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/counted.hpp>
#include <support/stream_sources.hpp>

using eddy::stream;
using eddy::task;
using eddy::virtual_time_scheduler;
using eddy::test::all;
using eddy::test::count_to;
using eddy::test::counted;
using namespace std::chrono_literals;

namespace {

using time_point = virtual_time_scheduler::time_point;
using duration = virtual_time_scheduler::duration;

struct frame_guard {
    explicit frame_guard(int* d) : destroyed(d) {}
    int* destroyed;
    frame_guard(const frame_guard&) = delete;
    frame_guard& operator=(const frame_guard&) = delete;
    ~frame_guard() { ++*destroyed; }
};

stream<std::string> words() {
    co_yield std::string("a");
    co_yield std::string("b");
    co_yield std::string("c");
}

// first, first + 1, ... (`n` values), each after `period` of virtual time.
stream<int> timed(virtual_time_scheduler* vt, duration period, int first, int n, int* destroyed,
                  counted c) {
    const frame_guard guard{destroyed};
    for (int i = 0; i < n; ++i) {
        co_await vt->schedule_after(period);
        co_yield first + i + 0 * c.id();
    }
}

stream<int> fails_after(virtual_time_scheduler* vt, duration d) {
    co_await vt->schedule_after(d);
    throw std::runtime_error("source failed");
}

struct row_at {
    std::tuple<int, int> row;
    time_point at;
    bool operator==(const row_at&) const = default;
};

task<std::vector<row_at>> record(virtual_time_scheduler* vt, stream<std::tuple<int, int>> s) {
    std::vector<row_at> out;
    for (;;) {
        std::optional<std::tuple<int, int>> v = co_await s.next();
        if (!v) {
            break;
        }
        out.push_back({*v, vt->now()});
    }
    co_return out;
}

task<int> count_until_error(stream<std::tuple<int, int>> s, bool* threw) {
    int n = 0;
    try {
        for (;;) {
            std::optional<std::tuple<int, int>> v = co_await s.next();
            if (!v) {
                break;
            }
            ++n;
        }
    } catch (const std::runtime_error&) {
        *threw = true;
    }
    co_return n;
}

task<int> take_rows(stream<std::tuple<int, int>> s, int n) {
    for (int i = 0; i < n; ++i) {
        std::optional<std::tuple<int, int>> v = co_await s.next();
        static_cast<void>(v);
    }
    co_return n;
}

task<void> stop_after(virtual_time_scheduler* vt, std::stop_source* source, duration d) {
    co_await vt->schedule_after(d);
    source->request_stop();
}

task<void> pull_until_cancelled(stream<std::tuple<int, int>>* s, int* rows, bool* cancelled) {
    try {
        for (;;) {
            std::optional<std::tuple<int, int>> v = co_await s->next();
            if (!v) {
                co_return;
            }
            ++*rows;
        }
    } catch (const eddy::operation_cancelled&) {
        *cancelled = true;
    }
}

stream<long> hops(eddy::thread_pool* pool, long n, long sign) {
    for (long i = 0; i < n; ++i) {
        co_await pool->schedule();
        co_yield (sign * i);
    }
}

int times_ten(int x) { return x * 10; }

} // namespace

TEST_CASE("zip: tuples element by element; ends with the shortest source", "[stream][zip]") {
    using row = std::tuple<int, std::string>;
    REQUIRE(all(eddy::zip(count_to(5), words())) == std::vector<row>{{1, "a"}, {2, "b"}, {3, "c"}});
    using one = std::tuple<int>;
    REQUIRE(all(eddy::zip(count_to(2))) == std::vector<one>{{1}, {2}});
    using three = std::tuple<int, int, int>;
    REQUIRE(all(eddy::zip(count_to(2), count_to(3) | eddy::map(times_ten), count_to(4))) ==
            std::vector<three>{{1, 10, 1}, {2, 20, 2}});
    REQUIRE(all(eddy::zip(count_to(0), words())).empty());
}

TEST_CASE("zip: move-only values", "[stream][zip]") {
    auto rows = all(eddy::zip(eddy::test::boxes(2), count_to(2)));
    REQUIRE(rows.size() == 2);
    REQUIRE(*std::get<0>(rows[1]) == 2);
}

TEST_CASE("zip: the sources are pulled concurrently: a row takes the slowest source's time",
          "[stream][zip]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    counted::reset();
    const time_point t0 = vt.now();
    std::vector<row_at> got =
        vt.run(record(&vt, eddy::zip(timed(&vt, 1s, 1, 3, &destroyed, counted{}),
                                     timed(&vt, 2s, 10, 100, &destroyed, counted{}))));
    REQUIRE(got == std::vector<row_at>{{{1, 10}, t0 + 2s}, {{2, 11}, t0 + 4s}, {{3, 12}, t0 + 6s}});
    // The 4th round started at 6 s; the first source ended at once, so the second one's pull
    // (due at 8 s) was stopped then, and both sources were destroyed with the zip.
    REQUIRE(vt.now() == t0 + 6s);
    REQUIRE(destroyed == 2);
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("zip: lazy, nothing is pulled before the first next()", "[stream][zip]") {
    int a = 0;
    int b = 0;
    {
        auto s = eddy::zip(eddy::test::counted_source(3, &a), eddy::test::counted_source(3, &b));
        REQUIRE(a == 0);
        REQUIRE(b == 0);
    }
    REQUIRE(a == 0);
}

TEST_CASE("zip: a source's error stops the other pull and is rethrown", "[stream][zip]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    counted::reset();
    bool threw = false;
    int rows = vt.run(count_until_error(
        eddy::zip(timed(&vt, 1s, 1, 100, &destroyed, counted{}), fails_after(&vt, 1500ms)),
        &threw));
    REQUIRE(threw);
    REQUIRE(rows == 0);
    REQUIRE(vt.now() == time_point{} + 1500ms);
    REQUIRE(destroyed == 1);
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("zip: the consumer's stop token reaches the sources; destroyed mid-way frees them",
          "[stream][zip]") {
    virtual_time_scheduler vt;
    int destroyed = 0;
    counted::reset();
    {
        std::stop_source stop;
        int rows = 0;
        bool cancelled = false;
        stream<std::tuple<int, int>> s = eddy::zip(timed(&vt, 1min, 1, 100, &destroyed, counted{}),
                                                   timed(&vt, 1min, 1, 100, &destroyed, counted{}));
        vt.run(eddy::when_all(
            eddy::with_stop_token(pull_until_cancelled(&s, &rows, &cancelled), stop.get_token()),
            stop_after(&vt, &stop, 150s)));
        REQUIRE(rows == 2);
        REQUIRE(cancelled);
        REQUIRE(vt.pending_timers() == 0);
    }
    REQUIRE(destroyed == 2);
    REQUIRE(counted::alive() == 0);

    destroyed = 0;
    REQUIRE(vt.run(take_rows(eddy::zip(timed(&vt, 1s, 1, 100, &destroyed, counted{}),
                                       timed(&vt, 1s, 1, 100, &destroyed, counted{})),
                             3)) == 3);
    REQUIRE(destroyed == 2);
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("zip: sources on a thread_pool", "[stream][zip][concurrency]") {
    eddy::thread_pool pool(2);
    for (int round = 0; round < 5; ++round) {
        auto rows = all(eddy::zip(hops(&pool, 2000, 1), hops(&pool, 3000, -1)));
        REQUIRE(rows.size() == 2000);
        bool exact = true;
        for (long i = 0; i < 2000; ++i) {
            exact = exact && rows[static_cast<std::size_t>(i)] == std::tuple<long, long>{i, -i};
        }
        REQUIRE(exact);
    }
}
