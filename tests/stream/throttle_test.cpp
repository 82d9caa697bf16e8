// Tests of eddy::throttle(d, scheduler): leading edge, at most one value per d, values arriving
// sooner dropped (by design), exact pass times, end, error, cancellation. Virtual time.
#include <eddy/stream/throttle.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
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
#include <eddy/stream/interval.hpp>
#include <eddy/stream/map.hpp>

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

// Pulls to the end or the first exception (at most `limit` values), recording when each value
// arrived; waits `pause` after each value (a slow consumer).
task<run_result> record(virtual_time_scheduler* vt, stream<int> s, duration pause = 0s,
                        int limit = 1'000) {
    run_result r;
    try {
        for (int i = 0; i < limit; ++i) {
            std::optional<int> v = co_await s.next();
            if (!v) {
                break;
            }
            r.values.push_back({*v, vt->now() - epoch});
            if (pause > pause.zero()) {
                co_await vt->schedule_after(pause);
            }
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

} // namespace

TEST_CASE("throttle: the first value passes at once, then at most one per d; sooner ones drop",
          "[stream][throttle]") {
    virtual_time_scheduler vt;
    counted::reset();
    // d = 1 s: 1 passes at 0 s; 2 (0.5 s) drops; 3 passes at exactly 1 s; 4 (1.2 s) drops; 5
    // passes at 2.5 s; 6 (3 s) drops, 7 passes at 3.5 s.
    run_result r = vt.run(record(
        &vt,
        scripted(&vt,
                 {{0s, 1}, {500ms, 2}, {1s, 3}, {1200ms, 4}, {2500ms, 5}, {3s, 6}, {3500ms, 7}}, 4s,
                 false, counted{}) |
            eddy::throttle(1s, vt)));
    REQUIRE(r.values == std::vector<got>{{1, 0s}, {3, 1s}, {5, 2500ms}, {7, 3500ms}});
    REQUIRE_FALSE(r.error);
    REQUIRE(r.ended_at == 4s);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("throttle: a synchronous upstream passes only its first value", "[stream][throttle]") {
    virtual_time_scheduler vt;
    run_result r = vt.run(record(&vt, eddy::test::count_to(5) | eddy::throttle(1ms, vt)));
    REQUIRE(r.values == std::vector<got>{{1, 0s}});
}

TEST_CASE("throttle: pull-based, a consumer slower than d drops nothing", "[stream][throttle]") {
    virtual_time_scheduler vt;
    // interval ticks at 1, 2, 3, ... s when pulled on time; throttled to one per 1.5 s with a
    // consumer that pauses 2 s after each value: each pull takes the tick then due.
    run_result r = vt.run(record(&vt, eddy::interval(vt, 1s) | eddy::map([](std::size_t i) {
                                          return static_cast<int>(i);
                                      }) | eddy::throttle(1500ms, vt),
                                 2s, 4));
    REQUIRE(r.values == std::vector<got>{{0, 1s}, {1, 3s}, {2, 5s}, {3, 7s}});
    // On time, the same upstream loses every other tick.
    virtual_time_scheduler vt2;
    run_result fast = vt2.run(record(&vt2, eddy::interval(vt2, 1s) | eddy::map([](std::size_t i) {
                                               return static_cast<int>(i);
                                           }) | eddy::throttle(1500ms, vt2),
                                     0s, 3));
    REQUIRE(fast.values == std::vector<got>{{0, 1s}, {2, 3s}, {4, 5s}});
}

TEST_CASE("throttle: an upstream error reaches the consumer, after the values that passed",
          "[stream][throttle]") {
    virtual_time_scheduler vt;
    run_result r = vt.run(record(&vt, scripted(&vt, {{1s, 1}, {1100ms, 2}}, 2s, true, counted{}) |
                                          eddy::throttle(1s, vt)));
    REQUIRE(r.values == std::vector<got>{{1, 1s}});
    REQUIRE(is<std::runtime_error>(r.error));
    REQUIRE(r.ended_at == 2s);
}

TEST_CASE("throttle: the consumer's stop token reaches the upstream's wait", "[stream][throttle]") {
    virtual_time_scheduler vt;
    counted::reset();
    std::stop_source source;
    auto [r, stopped] =
        vt.run(eddy::when_all(eddy::with_stop_token(record(&vt, scripted(&vt, {{1s, 1}, {50s, 2}},
                                                                         60s, false, counted{}) |
                                                                    eddy::throttle(1s, vt)),
                                                    source.get_token()),
                              stop_at(&vt, source, 7s)));
    static_cast<void>(stopped);
    REQUIRE(r.values == std::vector<got>{{1, 1s}});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(r.ended_at == 7s);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("throttle: a period that is not positive is bad input, thrown eagerly",
          "[stream][throttle]") {
    virtual_time_scheduler vt;
    REQUIRE_THROWS_AS(eddy::throttle(0s, vt), eddy::error);
    REQUIRE_THROWS_AS(eddy::throttle(-1s, vt), eddy::error);
}
