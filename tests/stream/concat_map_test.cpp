// Tests of eddy::concat_map(f): inner streams and tasks in upstream order, the end, errors,
// laziness, cancellation and destruction mid-way.
#include <eddy/stream/concat_map.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
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

stream<int> repeat(int x, int k) {
    for (int i = 0; i < k; ++i) {
        co_yield x;
    }
}

task<int> twice_task(int x) { co_return 2 * x; }

stream<int> inner_then_throw(int x) {
    co_yield x;
    throw std::runtime_error("inner failed");
}

// x*10+1, x*10+2, one every x seconds; holds a counted.
stream<int> ticks(virtual_time_scheduler* vt, int x, counted c) {
    for (int i = 1; i <= 2; ++i) {
        co_await vt->schedule_after(std::chrono::seconds(x));
        co_yield x * 10 + i + 0 * c.id();
    }
}

struct ticks_f {
    virtual_time_scheduler* vt;
    stream<int> operator()(int x) const { return ticks(vt, x, counted{}); }
};

struct arrival {
    int value;
    time_point at;
    bool operator==(const arrival&) const = default;
};

task<std::vector<arrival>> record(virtual_time_scheduler* vt, stream<int> s) {
    std::vector<arrival> out;
    for (;;) {
        std::optional<int> v = co_await s.next();
        if (!v) {
            break;
        }
        out.push_back({*v, vt->now()});
    }
    co_return out;
}

task<std::vector<int>> collect_with_error(stream<int> s, bool* threw) {
    std::vector<int> out;
    try {
        for (;;) {
            std::optional<int> v = co_await s.next();
            if (!v) {
                break;
            }
            out.push_back(*v);
        }
    } catch (const std::runtime_error&) {
        *threw = true;
    }
    co_return out;
}

task<std::vector<int>> take_n(stream<int> s, int n) {
    std::vector<int> out;
    for (int i = 0; i < n; ++i) {
        std::optional<int> v = co_await s.next();
        out.push_back(*v);
    }
    co_return out;
}

task<void> stop_after(virtual_time_scheduler* vt, std::stop_source* source, duration d) {
    co_await vt->schedule_after(d);
    source->request_stop();
}

task<void> pull_until_cancelled(stream<int>* s, std::vector<int>* values, bool* cancelled) {
    try {
        for (;;) {
            std::optional<int> v = co_await s->next();
            if (!v) {
                co_return;
            }
            values->push_back(*v);
        }
    } catch (const eddy::operation_cancelled&) {
        *cancelled = true;
    }
}

int square(int x) { return x * x; }

} // namespace

TEST_CASE("concat_map: inner streams one after another, in upstream order",
          "[stream][concat_map]") {
    REQUIRE(all(count_to(3) | eddy::concat_map([](int x) { return repeat(x, x); })) ==
            std::vector<int>{1, 2, 2, 3, 3, 3});
    REQUIRE(all(count_to(0) | eddy::concat_map([](int x) { return repeat(x, x); })).empty());
}

TEST_CASE("concat_map: inner tasks and pipelines; a pipeline upstream", "[stream][concat_map]") {
    REQUIRE(all(count_to(3) | eddy::concat_map(twice_task)) == std::vector<int>{2, 4, 6});
    auto f = [](int x) { return repeat(x, 2) | eddy::map(square); };
    REQUIRE(all(count_to(2) | eddy::map(square) | eddy::concat_map(f)) ==
            std::vector<int>{1, 1, 16, 16});
}

TEST_CASE("concat_map: in virtual time, the inner streams run strictly one after another",
          "[stream][concat_map]") {
    virtual_time_scheduler vt;
    counted::reset();
    const time_point t0 = vt.now();
    std::vector<arrival> got = vt.run(record(&vt, count_to(2) | eddy::concat_map(ticks_f{&vt})));
    REQUIRE(got ==
            std::vector<arrival>{{11, t0 + 1s}, {12, t0 + 2s}, {21, t0 + 4s}, {22, t0 + 6s}});
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("concat_map: lazy; the upstream is pulled only when the inner stream ended",
          "[stream][concat_map]") {
    int pulls = 0;
    stream<int> s = eddy::test::counted_source(10, &pulls) |
                    eddy::concat_map([](int x) { return repeat(x, 2); });
    REQUIRE(pulls == 0);
    REQUIRE(eddy::sync_wait(take_n(std::move(s), 3)) == std::vector<int>{1, 1, 2});
    REQUIRE(pulls == 2);
}

TEST_CASE("concat_map: errors of the upstream, f and an inner stream end it",
          "[stream][concat_map]") {
    bool threw = false;
    std::vector<int> got = eddy::sync_wait(
        collect_with_error(eddy::test::two_then_throw() | eddy::concat_map(twice_task), &threw));
    REQUIRE(got == std::vector<int>{2, 4});
    REQUIRE(threw);

    threw = false;
    auto bad_f = [](int x) {
        if (x == 2) {
            throw std::runtime_error("f failed");
        }
        return repeat(x, 1);
    };
    got = eddy::sync_wait(collect_with_error(count_to(3) | eddy::concat_map(bad_f), &threw));
    REQUIRE(got == std::vector<int>{1});
    REQUIRE(threw);

    threw = false;
    got = eddy::sync_wait(
        collect_with_error(count_to(3) | eddy::concat_map(inner_then_throw), &threw));
    REQUIRE(got == std::vector<int>{1});
    REQUIRE(threw);
}

TEST_CASE("concat_map: the consumer's stop token reaches the inner stream; nothing leaks",
          "[stream][concat_map]") {
    virtual_time_scheduler vt;
    counted::reset();
    {
        std::stop_source stop;
        std::vector<int> values;
        bool cancelled = false;
        stream<int> s = count_to(3) | eddy::concat_map(ticks_f{&vt});
        vt.run(eddy::when_all(
            eddy::with_stop_token(pull_until_cancelled(&s, &values, &cancelled), stop.get_token()),
            stop_after(&vt, &stop, 5s)));
        REQUIRE(values == std::vector<int>{11, 12, 21});
        REQUIRE(vt.now() == time_point{} + 5s);
        REQUIRE(cancelled);
        REQUIRE(vt.pending_timers() == 0);
    }
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("concat_map: destroyed mid-way frees the current inner stream", "[stream][concat_map]") {
    virtual_time_scheduler vt;
    counted::reset();
    std::vector<int> got = vt.run(take_n(count_to(3) | eddy::concat_map(ticks_f{&vt}), 3));
    REQUIRE(got == std::vector<int>{11, 12, 21});
    REQUIRE(counted::alive() == 0);
    REQUIRE(vt.pending_timers() == 0);
}
