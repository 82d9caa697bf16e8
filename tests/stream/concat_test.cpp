// Tests of eddy::concat(sources...): order, end, errors, laziness of later sources,
// cancellation and destruction mid-way.
#include <eddy/stream/concat.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
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
using eddy::test::count_to;
using eddy::test::counted;
using eddy::test::drain;
using eddy::test::drained;
using eddy::test::is;
using eddy::test::run_stopped_after;
using eddy::test::timed;
using eddy::test::times_ten;
using eddy::test::virtual_time::epoch;
using namespace std::chrono_literals;

namespace {

stream<int> started_flag(bool* started, int v) {
    *started = true;
    co_yield v;
}

// Yields `first` at once, then `first + 1` an hour later; holds a counted.
stream<int> waits(virtual_time_scheduler* vt, int first) {
    return timed(vt, 0s, 1h, first, 1, 2, nullptr, counted{});
}

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
    bool later = false;
    drained<int> r = eddy::sync_wait(
        drain(eddy::concat(count_to(1), eddy::test::two_then_throw(), started_flag(&later, 9))));
    REQUIRE(r.values == std::vector<int>{1, 1, 2});
    REQUIRE(is<std::runtime_error>(r.error));
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
        stream<int> s = eddy::concat(waits(&vt, 1), waits(&vt, 10));
        drained<int> r = run_stopped_after(vt, 30min, drain(&s));
        REQUIRE(r.values == std::vector<int>{1});
        REQUIRE(is<eddy::operation_cancelled>(r.error));
        REQUIRE(vt.now() == epoch + 30min);
        REQUIRE(vt.pending_timers() == 0);
    }
    REQUIRE(counted::alive() == 0);
}
