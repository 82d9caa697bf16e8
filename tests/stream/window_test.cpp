// Tests of eddy::window(d, scheduler): tumbling windows aligned to the first pull, emitted at
// their exact end times, empty windows skipped, the open window at the end and before an
// error, cancellation and teardown. Virtual time throughout.
#include <eddy/stream/window.hpp>

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
using ints = std::vector<int>;
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
    ints window;
    duration at;
    bool operator==(const got&) const = default;
};

struct run_result {
    std::vector<got> windows;
    std::exception_ptr error;
    duration ended_at{};
};

// Pulls to the end or the first exception, recording when each window arrived.
task<run_result> record(virtual_time_scheduler* vt, stream<ints> s) {
    run_result r;
    try {
        for (;;) {
            std::optional<ints> w = co_await s.next();
            if (!w) {
                break;
            }
            r.windows.push_back({std::move(*w), vt->now() - epoch});
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

task<std::optional<ints>> pull_one(stream<ints>* s) {
    std::optional<ints> w = co_await s->next();
    co_return w;
}

} // namespace

TEST_CASE("window: values grouped by the window they arrived in, each emitted at its end",
          "[stream][window]") {
    virtual_time_scheduler vt;
    counted::reset();
    // Windows of 10 s from 0: [0, 10) holds 1 and 2; [10, 20) holds 3 (20 s is a boundary: 4
    // opens [20, 30)); [30, 40) and [50, 60) are empty and not emitted; [40, 50) holds 5 and 6,
    // and is flushed by the end at 47 s.
    run_result r =
        vt.run(record(&vt, scripted(&vt, {{1s, 1}, {5s, 2}, {12s, 3}, {20s, 4}, {41s, 5}, {45s, 6}},
                                    47s, false, counted{}) |
                               eddy::window(10s, vt)));
    REQUIRE(r.windows == std::vector<got>{{{1, 2}, 10s}, {{3}, 20s}, {{4}, 30s}, {{5, 6}, 47s}});
    REQUIRE_FALSE(r.error);
    REQUIRE(r.ended_at == 47s);
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("window: windows are aligned to the first pull, not to the stream's creation",
          "[stream][window]") {
    virtual_time_scheduler vt;
    stream<ints> s = scripted(&vt, {{4s, 1}, {12s, 2}, {13s, 3}, {14s, 4}}, 30s, false, counted{}) |
                     eddy::window(10s, vt);
    vt.advance(3s); // windows are [3, 13), [13, 23), ...
    run_result r = vt.run(record(&vt, std::move(s)));
    REQUIRE(r.windows == std::vector<got>{{{1, 2}, 13s}, {{3, 4}, 23s}});
    REQUIRE(r.ended_at == 30s);
}

TEST_CASE("window: a synchronous upstream makes one window, flushed at its end",
          "[stream][window]") {
    virtual_time_scheduler vt;
    run_result r = vt.run(record(&vt, eddy::test::count_to(4) | eddy::window(1s, vt)));
    REQUIRE(r.windows == std::vector<got>{{{1, 2, 3, 4}, 0s}});
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("window: an upstream error comes after the open window, on the following next()",
          "[stream][window]") {
    virtual_time_scheduler vt;
    stream<ints> s = scripted(&vt, {{1s, 1}, {2s, 2}}, 3s, true, counted{}) | eddy::window(10s, vt);
    REQUIRE(vt.run(pull_one(&s)) == ints{1, 2});
    REQUIRE(vt.now() == epoch + 3s);
    REQUIRE_THROWS_AS(vt.run(pull_one(&s)), std::runtime_error);
    REQUIRE(vt.run(pull_one(&s)) == std::nullopt);

    run_result sync = vt.run(record(&vt, eddy::test::two_then_throw() | eddy::window(1s, vt)));
    REQUIRE(sync.windows == std::vector<got>{{{1, 2}, 3s}});
    REQUIRE(is<std::runtime_error>(sync.error));
}

TEST_CASE("window: a consumer that pulls late gets the window that ended meanwhile at once",
          "[stream][window]") {
    virtual_time_scheduler vt;
    stream<ints> s =
        scripted(&vt, {{1s, 1}, {2s, 2}, {15s, 3}}, 16s, false, counted{}) | eddy::window(10s, vt);
    REQUIRE(vt.run(pull_one(&s)) == ints{1, 2});
    REQUIRE(vt.now() == epoch + 10s);
    vt.advance_to(epoch + 100s); // 3 arrives at 15 s, in [10, 20), while nobody pulls
    REQUIRE(vt.run(pull_one(&s)) == ints{3});
    REQUIRE(vt.now() == epoch + 100s);
    REQUIRE(vt.run(pull_one(&s)) == std::nullopt);
}

TEST_CASE("window: the consumer's stop request cancels the waiting next() and the upstream",
          "[stream][window]") {
    virtual_time_scheduler vt;
    counted::reset();
    std::stop_source source;
    auto [r, stopped] =
        vt.run(eddy::when_all(eddy::with_stop_token(record(&vt, scripted(&vt, {{1s, 1}, {50s, 2}},
                                                                         60s, false, counted{}) |
                                                                    eddy::window(2s, vt)),
                                                    source.get_token()),
                              stop_at(&vt, source, 7s)));
    static_cast<void>(stopped);
    REQUIRE(r.windows == std::vector<got>{{{1}, 2s}});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(r.ended_at == 7s);
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("window: destroying the stream with a pull pending stops and frees the upstream",
          "[stream][window]") {
    virtual_time_scheduler vt;
    counted::reset();
    {
        stream<ints> s =
            scripted(&vt, {{1s, 1}, {1h, 2}}, 2h, false, counted{}) | eddy::window(5s, vt);
        REQUIRE(vt.run(pull_one(&s)) == ints{1});
        REQUIRE(vt.now() == epoch + 5s);
        REQUIRE(counted::alive() == 1);
    }
    vt.run_until_idle();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("window: a length that is not positive is bad input, thrown eagerly",
          "[stream][window]") {
    virtual_time_scheduler vt;
    REQUIRE_THROWS_AS(eddy::window(0s, vt), eddy::error);
    REQUIRE_THROWS_AS(eddy::window(-5s, vt), eddy::error);
}
