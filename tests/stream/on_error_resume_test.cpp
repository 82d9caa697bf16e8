// Tests of eddy::on_error_resume(f): passing through without errors, continuing with the
// fallback after a failure, what f receives, errors of the fallback and of f, cancellation
// passing through, stop tokens, lifetime.
#include <eddy/stream/on_error_resume.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/interval.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/counted.hpp>
#include <support/stream_sources.hpp>
#include <support/virtual_time_tasks.hpp>

using eddy::stream;
using eddy::task;
using eddy::virtual_time_scheduler;
using eddy::test::all;
using eddy::test::count_to;
using eddy::test::counted;
using eddy::test::two_then_throw;
using namespace std::chrono_literals;

namespace {

std::string message_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    }
}

stream<int> values_then(std::vector<int> values, std::exception_ptr e) {
    for (int v : values) {
        co_yield v;
    }
    std::rethrow_exception(e);
}

stream<int> counted_then_throw(counted c) {
    co_yield c.id() * 0 + 1;
    throw std::runtime_error("upstream failed");
}

stream<int> counted_forever(counted c) {
    for (int i = 100;; ++i) {
        co_yield i + 0 * c.id();
    }
}

stream<std::size_t> ticks_then_throw(virtual_time_scheduler* vt, int n) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
        co_await vt->schedule_after(1s);
        co_yield i;
    }
    throw std::runtime_error("ticks failed");
}

task<std::vector<std::size_t>> until_cancelled(stream<std::size_t> s, bool* cancelled) {
    std::vector<std::size_t> out;
    try {
        for (;;) {
            std::optional<std::size_t> v = co_await s.next();
            out.push_back(*v);
        }
    } catch (const eddy::operation_cancelled&) {
        *cancelled = true;
    }
    co_return out;
}

} // namespace

TEST_CASE("on_error_resume: without an error, the stream unchanged; f not called",
          "[stream][on_error_resume]") {
    int calls = 0;
    auto f = [&calls](std::exception_ptr) {
        ++calls;
        return count_to(1);
    };
    REQUIRE(all<int>(count_to(3) | eddy::on_error_resume(f)) == std::vector<int>{1, 2, 3});
    REQUIRE(all<int>(count_to(0) | eddy::on_error_resume(f)).empty());
    REQUIRE(calls == 0);
}

TEST_CASE("on_error_resume: after a failure, the fallback continues the output",
          "[stream][on_error_resume]") {
    std::string seen;
    stream<int> s = two_then_throw() | eddy::on_error_resume([&seen](std::exception_ptr e) {
                        seen = message_of(e);
                        return count_to(2) | eddy::map([](int x) { return x * 10; });
                    });
    REQUIRE(all<int>(std::move(s)) == std::vector<int>{1, 2, 10, 20});
    REQUIRE(seen == "source failed");
}

TEST_CASE("on_error_resume: a failure of the fallback, or of f, reaches the consumer",
          "[stream][on_error_resume]") {
    stream<int> s =
        two_then_throw() | eddy::on_error_resume([](std::exception_ptr) {
            return values_then({7}, std::make_exception_ptr(std::logic_error("fallback")));
        });
    REQUIRE(eddy::sync_wait(s.next()) == 1);
    REQUIRE(eddy::sync_wait(s.next()) == 2);
    REQUIRE(eddy::sync_wait(s.next()) == 7);
    REQUIRE_THROWS_WITH(eddy::sync_wait(s.next()), "fallback");
    REQUIRE_FALSE(eddy::sync_wait(s.next()).has_value());

    REQUIRE_THROWS_WITH(
        all<int>(two_then_throw() | eddy::on_error_resume([](std::exception_ptr e) -> stream<int> {
                     std::rethrow_exception(e); // pass the error on
                 })),
        "source failed");
}

TEST_CASE("on_error_resume: operation_cancelled is not caught", "[stream][on_error_resume]") {
    int calls = 0;
    auto f = [&calls](std::exception_ptr) {
        ++calls;
        return count_to(1);
    };
    REQUIRE_THROWS_AS(
        all<int>(values_then({1}, std::make_exception_ptr(eddy::operation_cancelled())) |
                 eddy::on_error_resume(f)),
        eddy::operation_cancelled);
    REQUIRE(calls == 0);
}

TEST_CASE("on_error_resume: the failed upstream is freed before f runs; destroying the "
          "result frees the fallback",
          "[stream][on_error_resume]") {
    counted::reset();
    int alive_in_f = -1;
    {
        stream<int> s = counted_then_throw(counted{}) |
                        eddy::on_error_resume([&alive_in_f](std::exception_ptr) {
                            alive_in_f = counted::alive();
                            return counted_forever(counted{});
                        });
        REQUIRE(eddy::sync_wait(s.next()) == 1);
        REQUIRE(eddy::sync_wait(s.next()) == 100);
        REQUIRE(eddy::sync_wait(s.next()) == 101);
        REQUIRE(alive_in_f == 0);
        REQUIRE(counted::alive() > 0);
    }
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("on_error_resume: the stop token reaches upstream and the fallback",
          "[stream][on_error_resume]") {
    virtual_time_scheduler vt;
    std::stop_source stop;
    bool cancelled = false;
    auto [values, ignored] = vt.run(eddy::when_all(
        eddy::with_stop_token(until_cancelled(ticks_then_throw(&vt, 2) |
                                                  eddy::on_error_resume([&vt](std::exception_ptr) {
                                                      return eddy::interval(vt, 10s);
                                                  }),
                                              &cancelled),
                              stop.get_token()),
        eddy::test::virtual_time::request_stop_after(vt, 25s, stop)));
    // Upstream: 0 at 1s, 1 at 2s, fails at 2s; fallback: 0 at 12s, 1 at 22s; stopped at 25s.
    REQUIRE(values == std::vector<std::size_t>{0, 1, 0, 1});
    REQUIRE(cancelled);
    REQUIRE(vt.now() == eddy::test::virtual_time::epoch + 25s);
    REQUIRE(vt.pending_timers() == 0);
}
