// Tests of eddy::zip(sources...): element-wise tuples, concurrent pulls in virtual time, the
// end at the first source's end (the others stopped and destroyed), errors, cancellation.
#include <eddy/stream/zip.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/stream/map.hpp>
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
using eddy::test::is;
using eddy::test::record_to_end;
using eddy::test::run_stopped_after;
using eddy::test::take_n;
using eddy::test::timed;
using eddy::test::times_ten;
using eddy::test::virtual_time::duration;
using eddy::test::virtual_time::epoch;
using namespace std::chrono_literals;

namespace {

using two_ints = std::tuple<int, int>;

stream<std::string> words() {
    co_yield std::string("a");
    co_yield std::string("b");
    co_yield std::string("c");
}

stream<int> fails_after(virtual_time_scheduler* vt, duration d) {
    co_await vt->schedule_after(d);
    throw std::runtime_error("source failed");
}

stream<long> hops(eddy::thread_pool* pool, long n, long sign) {
    for (long i = 0; i < n; ++i) {
        co_await pool->schedule();
        co_yield (sign * i);
    }
}

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
    arrivals<two_ints> got = vt.run(
        record_to_end(&vt, eddy::zip(timed(&vt, 1s, 1s, 1, 1, 3, &destroyed, counted{}),
                                     timed(&vt, 2s, 2s, 10, 1, 100, &destroyed, counted{}))));
    REQUIRE(got == arrivals<two_ints>{{{1, 10}, 2s}, {{2, 11}, 4s}, {{3, 12}, 6s}});
    // The 4th round started at 6 s; the first source ended at once, so the second one's pull
    // (due at 8 s) was stopped then, and both sources were destroyed with the zip.
    REQUIRE(vt.now() == epoch + 6s);
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
    drained<two_ints> r = vt.run(drain(
        eddy::zip(timed(&vt, 1s, 1s, 1, 1, 100, &destroyed, counted{}), fails_after(&vt, 1500ms))));
    REQUIRE(is<std::runtime_error>(r.error));
    REQUIRE(r.values.empty());
    REQUIRE(vt.now() == epoch + 1500ms);
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
        stream<two_ints> s = eddy::zip(timed(&vt, 1min, 1min, 1, 1, 100, &destroyed, counted{}),
                                       timed(&vt, 1min, 1min, 1, 1, 100, &destroyed, counted{}));
        drained<two_ints> r = run_stopped_after(vt, 150s, drain(&s));
        REQUIRE(r.values.size() == 2);
        REQUIRE(is<eddy::operation_cancelled>(r.error));
        REQUIRE(vt.pending_timers() == 0);
    }
    REQUIRE(destroyed == 2);
    REQUIRE(counted::alive() == 0);

    destroyed = 0;
    REQUIRE(vt.run(take_n(eddy::zip(timed(&vt, 1s, 1s, 1, 1, 100, &destroyed, counted{}),
                                    timed(&vt, 1s, 1s, 1, 1, 100, &destroyed, counted{})),
                          3))
                .size() == 3);
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
