// Tests of eddy::concat(sources...): order, end, errors, laziness of later sources,
// cancellation and destruction mid-way.
#include <eddy/stream/concat.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
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
#include <eddy/stream/take.hpp>
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

stream<int> started_flag(bool* started, int v) {
    *started = true;
    co_yield v;
}

stream<int> waits(virtual_time_scheduler* vt, int first, counted c) {
    co_yield first + 0 * c.id();
    co_await vt->schedule_after(1h);
    co_yield first + 1;
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

task<void> stop_after(virtual_time_scheduler* vt, std::stop_source* source,
                      virtual_time_scheduler::duration d) {
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

int times_ten(int x) { return x * 10; }

} // namespace

TEST_CASE("concat: one source after another, then the end", "[stream][concat]") {
    REQUIRE(all(eddy::concat(count_to(2), count_to(0), count_to(3))) ==
            std::vector<int>{1, 2, 1, 2, 3});
    REQUIRE(all(eddy::concat(count_to(2))) == std::vector<int>{1, 2});
}

TEST_CASE("concat: pipelines in and out; a vector of sources", "[stream][concat]") {
    REQUIRE(all(stream<int>(eddy::concat(count_to(2) | eddy::map(times_ten), count_to(1)) |
                            eddy::map(times_ten))) == std::vector<int>{100, 200, 10});
    std::vector<stream<int>> sources;
    sources.push_back(count_to(1));
    sources.push_back(count_to(2));
    REQUIRE(all(eddy::concat(std::move(sources))) == std::vector<int>{1, 1, 2});
    REQUIRE(all(eddy::concat(std::vector<stream<int>>{})).empty());
}

TEST_CASE("concat: lazy; a later source starts only at its turn", "[stream][concat]") {
    bool first = false;
    bool second = false;
    stream<int> s = eddy::concat(started_flag(&first, 1), started_flag(&second, 2));
    REQUIRE_FALSE(first);
    REQUIRE(all(stream<int>(std::move(s) | eddy::take(1))) == std::vector<int>{1});
    REQUIRE(first);
    REQUIRE_FALSE(second);
}

TEST_CASE("concat: an error ends it; later sources never start", "[stream][concat]") {
    bool threw = false;
    bool later = false;
    std::vector<int> got = eddy::sync_wait(collect_with_error(
        eddy::concat(count_to(1), eddy::test::two_then_throw(), started_flag(&later, 9)), &threw));
    REQUIRE(got == std::vector<int>{1, 1, 2});
    REQUIRE(threw);
    REQUIRE_FALSE(later);
}

TEST_CASE("concat: move-only values", "[stream][concat]") {
    auto v = all(eddy::concat(eddy::test::boxes(1), eddy::test::boxes(2)));
    REQUIRE(v.size() == 3);
    REQUIRE(*v[2] == 2);
}

TEST_CASE("concat: the consumer's stop token reaches the current source; destroying frees all",
          "[stream][concat]") {
    virtual_time_scheduler vt;
    counted::reset();
    {
        std::stop_source stop;
        std::vector<int> values;
        bool cancelled = false;
        stream<int> s = eddy::concat(waits(&vt, 1, counted{}), waits(&vt, 10, counted{}));
        vt.run(eddy::when_all(
            eddy::with_stop_token(pull_until_cancelled(&s, &values, &cancelled), stop.get_token()),
            stop_after(&vt, &stop, 30min)));
        REQUIRE(values == std::vector<int>{1});
        REQUIRE(cancelled);
        REQUIRE(vt.now() == time_point{} + 30min);
        REQUIRE(vt.pending_timers() == 0);
    }
    REQUIRE(counted::alive() == 0);
}
