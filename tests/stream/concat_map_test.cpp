// Tests of eddy::concat_map(f): inner streams and tasks in upstream order, the end, errors,
// laziness, cancellation and destruction mid-way.
#include <eddy/stream/concat_map.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
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
using eddy::test::inner_then_throw;
using eddy::test::is;
using eddy::test::record_to_end;
using eddy::test::repeat;
using eddy::test::run_stopped_after;
using eddy::test::square;
using eddy::test::take_n;
using eddy::test::ticks;
using eddy::test::twice_task;
using eddy::test::virtual_time::epoch;
using namespace std::chrono_literals;

namespace {

// Maps x to x*10 + 1, x*10 + 2, one every x seconds.
struct ticks_f {
    virtual_time_scheduler* vt;
    stream<int> operator()(int x) const {
        return ticks(vt, x, 2, std::chrono::seconds(x), nullptr);
    }
};

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
    arrivals<int> got = vt.run(record_to_end(&vt, count_to(2) | eddy::concat_map(ticks_f{&vt})));
    REQUIRE(got == arrivals<int>{{11, 1s}, {12, 2s}, {21, 4s}, {22, 6s}});
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
    drained<int> r =
        eddy::sync_wait(drain(eddy::test::two_then_throw() | eddy::concat_map(twice_task)));
    REQUIRE(r.values == std::vector<int>{2, 4});
    REQUIRE(is<std::runtime_error>(r.error));

    auto bad_f = [](int x) {
        if (x == 2) {
            throw std::runtime_error("f failed");
        }
        return repeat(x, 1);
    };
    r = eddy::sync_wait(drain(count_to(3) | eddy::concat_map(bad_f)));
    REQUIRE(r.values == std::vector<int>{1});
    REQUIRE(is<std::runtime_error>(r.error));

    r = eddy::sync_wait(drain(count_to(3) | eddy::concat_map(inner_then_throw)));
    REQUIRE(r.values == std::vector<int>{1});
    REQUIRE(is<std::runtime_error>(r.error));
}

TEST_CASE("concat_map: the consumer's stop token reaches the inner stream; nothing leaks",
          "[stream][concat_map]") {
    virtual_time_scheduler vt;
    counted::reset();
    {
        stream<int> s = count_to(3) | eddy::concat_map(ticks_f{&vt});
        drained<int> r = run_stopped_after(vt, 5s, drain(&s));
        REQUIRE(r.values == std::vector<int>{11, 12, 21});
        REQUIRE(vt.now() == epoch + 5s);
        REQUIRE(is<eddy::operation_cancelled>(r.error));
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
