// Tests of eddy::debounce(d, scheduler): a value passes at exactly arrival + d when nothing
// newer came, superseded values are dropped, the last one passes at the end and before an
// error, cancellation and teardown. Virtual time throughout.
#include <eddy/stream/debounce.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/counted.hpp>
#include <support/stream_consumers.hpp>
#include <support/stream_sources.hpp>
#include <support/timed_streams.hpp>

using eddy::stream;
using eddy::virtual_time_scheduler;
using eddy::test::arrivals;
using eddy::test::counted;
using eddy::test::is;
using eddy::test::pull_one;
using eddy::test::record;
using eddy::test::recorded;
using eddy::test::run_stopped_after;
using eddy::test::scripted;
using eddy::test::virtual_time::epoch;
using namespace std::chrono_literals;

TEST_CASE("debounce: each burst's last value passes once d passed without a newer one",
          "[stream][debounce]") {
    virtual_time_scheduler vt;
    counted::reset();
    // d = 1 s. 1, 2, 3 come within 1 s of each other: 3 passes at 2.8 s + 1 s. 4 is followed by
    // 5 exactly 1 s later: 4 was quiet for the whole second and passes at 6 s (5 then opens its
    // own wait). 5 is superseded by 6 within 0.5 s. 6 passes at 7.5 s. 7 is the last: the end
    // at 12.5 s passes it at once.
    recorded<int> r = vt.run(record(
        &vt,
        scripted(&vt, {{2s, 1}, {2500ms, 2}, {2800ms, 3}, {5s, 4}, {6s, 5}, {6500ms, 6}, {12s, 7}},
                 12500ms, false, counted{}) |
            eddy::debounce(1s, vt)));
    REQUIRE(r.values == arrivals<int>{{3, 3800ms}, {4, 6s}, {6, 7500ms}, {7, 12500ms}});
    REQUIRE_FALSE(r.error);
    REQUIRE(r.ended_at == 12500ms);
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("debounce: values arriving at the same instant collapse into the last",
          "[stream][debounce]") {
    virtual_time_scheduler vt;
    recorded<int> r = vt.run(record(&vt, eddy::test::count_to(5) | eddy::debounce(1s, vt)));
    REQUIRE(r.values == arrivals<int>{{5, 0s}});
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("debounce: an upstream error comes after the pending value, on the following next()",
          "[stream][debounce]") {
    virtual_time_scheduler vt;
    stream<int> s =
        scripted(&vt, {{1s, 1}, {1500ms, 2}}, 2s, true, counted{}) | eddy::debounce(1s, vt);
    REQUIRE(vt.run(pull_one(&s)) == 2);
    REQUIRE(vt.now() == epoch + 2s);
    REQUIRE_THROWS_AS(vt.run(pull_one(&s)), std::runtime_error);
    REQUIRE(vt.run(pull_one(&s)) == std::nullopt);

    recorded<int> none =
        vt.run(record(&vt, scripted(&vt, {}, 3s, true, counted{}) | eddy::debounce(1s, vt)));
    REQUIRE(none.values.empty());
    REQUIRE(is<std::runtime_error>(none.error));
}

TEST_CASE("debounce: move-only values and a pipeline upstream", "[stream][debounce]") {
    virtual_time_scheduler vt;
    std::vector<std::unique_ptr<int>> boxes =
        vt.run(eddy::to_vector(eddy::test::boxes(3) | eddy::debounce(1s, vt)));
    REQUIRE(boxes.size() == 1);
    REQUIRE(*boxes[0] == 3);

    recorded<int> r = vt.run(record(&vt, eddy::test::count_to(2) | eddy::map([](int x) {
                                             return -x;
                                         }) | eddy::debounce(1s, vt)));
    REQUIRE(r.values == arrivals<int>{{-2, 0s}});
}

TEST_CASE("debounce: the consumer's stop request cancels the waiting next() and the upstream",
          "[stream][debounce]") {
    virtual_time_scheduler vt;
    counted::reset();
    recorded<int> r =
        run_stopped_after(vt, 7s,
                          record(&vt, scripted(&vt, {{1s, 1}, {50s, 2}}, 60s, false, counted{}) |
                                          eddy::debounce(1s, vt)));
    REQUIRE(r.values == arrivals<int>{{1, 2s}});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(r.ended_at == 7s);
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("debounce: destroying the stream with a pull pending stops and frees the upstream",
          "[stream][debounce]") {
    virtual_time_scheduler vt;
    counted::reset();
    {
        stream<int> s =
            scripted(&vt, {{1s, 1}, {1h, 2}}, 2h, false, counted{}) | eddy::debounce(2s, vt);
        REQUIRE(vt.run(pull_one(&s)) == 1);
        REQUIRE(vt.now() == epoch + 3s);
        REQUIRE(counted::alive() == 1);
    }
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("debounce: a period that is not positive is bad input, thrown eagerly",
          "[stream][debounce]") {
    virtual_time_scheduler vt;
    REQUIRE_THROWS_AS(eddy::debounce(0s, vt), eddy::error);
    REQUIRE_THROWS_AS(eddy::debounce(-1s, vt), eddy::error);
}
