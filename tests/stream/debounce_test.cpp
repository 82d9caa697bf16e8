// Tests of eddy::debounce(d, scheduler): a value passes at exactly arrival + d when nothing
// newer came, superseded values are dropped, the last one passes at the end and before an
// error, cancellation and teardown. Virtual time throughout.
#include <eddy/stream/debounce.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
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
using eddy::test::counted;
using namespace std::chrono_literals;

namespace {

using duration = virtual_time_scheduler::duration;
using time_point = virtual_time_scheduler::time_point;
constexpr time_point epoch{};

struct step {
    duration at; // absolute virtual time of the value
    int value;
};

// Yields each value at epoch + its time (at once when that has passed), then ends (or throws)
// at epoch + `end`. Holds a `counted` so a test can prove the frame was freed.
stream<int> scripted(virtual_time_scheduler* vt, std::vector<step> steps, duration end, bool fail,
                     counted guard) {
    static_cast<void>(guard);
    for (const step& s : steps) {
        co_await vt->schedule_at(epoch + s.at);
        co_yield s.value;
    }
    co_await vt->schedule_at(epoch + end);
    if (fail) {
        throw std::runtime_error("upstream failed");
    }
}

struct got {
    int value;
    duration at;
    bool operator==(const got&) const = default;
};

struct run_result {
    std::vector<got> values;
    std::exception_ptr error;
    duration ended_at{};
};

// Pulls to the end or the first exception, recording when each value arrived.
task<run_result> record(virtual_time_scheduler* vt, stream<int> s) {
    run_result r;
    try {
        for (;;) {
            std::optional<int> v = co_await s.next();
            if (!v) {
                break;
            }
            r.values.push_back({*v, vt->now() - epoch});
        }
    } catch (...) {
        r.error = std::current_exception();
    }
    r.ended_at = vt->now() - epoch;
    co_return r;
}

template <class E>
bool is(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

task<void> stop_at(virtual_time_scheduler* vt, std::stop_source source, duration at) {
    co_await vt->schedule_at(epoch + at);
    source.request_stop();
}

task<std::optional<int>> pull_one(stream<int>* s) {
    std::optional<int> v = co_await s->next();
    co_return v;
}

} // namespace

TEST_CASE("debounce: each burst's last value passes once d passed without a newer one",
          "[stream][debounce]") {
    virtual_time_scheduler vt;
    counted::reset();
    // d = 1 s. 1, 2, 3 come within 1 s of each other: 3 passes at 2.8 s + 1 s. 4 is followed by
    // 5 exactly 1 s later: 4 was quiet for the whole second and passes at 6 s (5 then opens its
    // own wait). 5 is superseded by 6 within 0.5 s. 6 passes at 7.5 s. 7 is the last: the end
    // at 12.5 s passes it at once.
    run_result r = vt.run(record(
        &vt,
        scripted(&vt, {{2s, 1}, {2500ms, 2}, {2800ms, 3}, {5s, 4}, {6s, 5}, {6500ms, 6}, {12s, 7}},
                 12500ms, false, counted{}) |
            eddy::debounce(1s, vt)));
    REQUIRE(r.values == std::vector<got>{{3, 3800ms}, {4, 6s}, {6, 7500ms}, {7, 12500ms}});
    REQUIRE_FALSE(r.error);
    REQUIRE(r.ended_at == 12500ms);
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("debounce: values arriving at the same instant collapse into the last",
          "[stream][debounce]") {
    virtual_time_scheduler vt;
    run_result r = vt.run(record(&vt, eddy::test::count_to(5) | eddy::debounce(1s, vt)));
    REQUIRE(r.values == std::vector<got>{{5, 0s}});
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

    run_result none =
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

    run_result r = vt.run(record(&vt, eddy::test::count_to(2) | eddy::map([](int x) {
                                          return -x;
                                      }) | eddy::debounce(1s, vt)));
    REQUIRE(r.values == std::vector<got>{{-2, 0s}});
}

TEST_CASE("debounce: the consumer's stop request cancels the waiting next() and the upstream",
          "[stream][debounce]") {
    virtual_time_scheduler vt;
    counted::reset();
    std::stop_source source;
    auto [r, stopped] =
        vt.run(eddy::when_all(eddy::with_stop_token(record(&vt, scripted(&vt, {{1s, 1}, {50s, 2}},
                                                                         60s, false, counted{}) |
                                                                    eddy::debounce(1s, vt)),
                                                    source.get_token()),
                              stop_at(&vt, source, 7s)));
    static_cast<void>(stopped);
    REQUIRE(r.values == std::vector<got>{{1, 2s}});
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
