// Tests of eddy::defer(factory): laziness (one factory call per subscription, at the first
// pull), conversion to stream<T>, stages and sinks after it, errors, cancellation, lifetime.
#include <eddy/stream/defer.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/count.hpp>
#include <eddy/stream/interval.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/on_error_resume.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/counted.hpp>
#include <support/stream_sources.hpp>
#include <support/virtual_time_tasks.hpp>

using eddy::stream;
using eddy::task;
using eddy::virtual_time_scheduler;
using eddy::test::all;
using eddy::test::boxes;
using eddy::test::count_to;
using eddy::test::counted;
using eddy::test::two_then_throw;
using namespace std::chrono_literals;

namespace {

stream<int> holds_counted(counted c) {
    for (int i = 1;; ++i) {
        co_yield i + 0 * c.id();
    }
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

TEST_CASE("defer: the factory's stream, in order, to its end", "[stream][defer]") {
    REQUIRE(all<int>(eddy::defer([] { return count_to(3); })) == std::vector<int>{1, 2, 3});
    REQUIRE(all<int>(eddy::defer([] { return count_to(0); })).empty());
    using d = decltype(eddy::defer([] { return count_to(1); }));
    STATIC_REQUIRE(std::is_same_v<d::value_type, int>);
    STATIC_REQUIRE(std::is_convertible_v<d, stream<int>>);
}

TEST_CASE("defer: lazy, the factory is called once at the first pull", "[stream][defer]") {
    int calls = 0;
    auto d = eddy::defer([&calls] {
        ++calls;
        return count_to(2);
    });
    stream<int> s = std::move(d);
    REQUIRE(calls == 0);
    REQUIRE(eddy::sync_wait(s.next()) == 1);
    REQUIRE(calls == 1);
    REQUIRE(eddy::sync_wait(s.next()) == 2);
    REQUIRE_FALSE(eddy::sync_wait(s.next()).has_value());
    REQUIRE(calls == 1);
}

TEST_CASE("defer: each subscription calls the factory anew", "[stream][defer]") {
    int calls = 0;
    auto d = eddy::defer([&calls] {
        ++calls;
        return count_to(calls);
    });
    REQUIRE(all<int>(stream<int>(d.subscribe())) == std::vector<int>{1});
    REQUIRE(calls == 1); // subscribe() calls it now
    auto copy = d;       // copyable: a recipe
    REQUIRE(all<int>(std::move(copy)) == std::vector<int>{1, 2});
    REQUIRE(all<int>(std::move(d)) == std::vector<int>{1, 2, 3});
    REQUIRE(calls == 3);
}

TEST_CASE("defer: a factory returning a pipeline; stages and sinks after it", "[stream][defer]") {
    auto d = eddy::defer([] { return count_to(3) | eddy::map([](int x) { return x * 2; }); });
    STATIC_REQUIRE(std::is_same_v<decltype(d)::value_type, int>);
    REQUIRE(eddy::sync_wait(eddy::to_vector(std::move(d) | eddy::map([](int x) {
                                                return x + 1;
                                            }))) == std::vector<int>{3, 5, 7});
    REQUIRE(eddy::sync_wait(eddy::count(eddy::defer([] { return count_to(4); }))) == 4);
    REQUIRE(eddy::sync_wait(eddy::to_vector(eddy::defer([] { return count_to(2); }))) ==
            std::vector<int>{1, 2});
    // An ordinary async stage gets one subscription.
    auto resumed = eddy::defer([] { return two_then_throw(); }) |
                   eddy::on_error_resume([](std::exception_ptr) { return count_to(1); });
    REQUIRE(all<int>(std::move(resumed)) == std::vector<int>{1, 2, 1});
}

TEST_CASE("defer: errors of the factory and of its stream reach the consumer", "[stream][defer]") {
    stream<int> s = eddy::defer([]() -> stream<int> { throw std::runtime_error("no source"); });
    REQUIRE_THROWS_WITH(eddy::sync_wait(s.next()), "no source");
    REQUIRE_FALSE(eddy::sync_wait(s.next()).has_value());
    REQUIRE_THROWS_WITH(all<int>(eddy::defer([] { return two_then_throw(); })), "source failed");
    auto d = eddy::defer([]() -> stream<int> { throw std::runtime_error("eager"); });
    REQUIRE_THROWS_WITH(d.subscribe(), "eager");
}

TEST_CASE("defer: move-only elements", "[stream][defer]") {
    std::vector<std::unique_ptr<int>> v =
        all<std::unique_ptr<int>>(eddy::defer([] { return boxes(2); }));
    REQUIRE(v.size() == 2);
    REQUIRE(*v[1] == 2);
}

TEST_CASE("defer: the consumer's stop token reaches the subscription", "[stream][defer]") {
    virtual_time_scheduler vt;
    std::stop_source stop;
    bool cancelled = false;
    auto [values, ignored] = vt.run(eddy::when_all(
        eddy::with_stop_token(
            until_cancelled(eddy::defer([&vt] { return eddy::interval(vt, 1s); }), &cancelled),
            stop.get_token()),
        eddy::test::virtual_time::request_stop_after(vt, 2500ms, stop)));
    REQUIRE(values == std::vector<std::size_t>{0, 1});
    REQUIRE(cancelled);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("defer: destroying the stream mid-way frees the subscription", "[stream][defer]") {
    counted::reset();
    {
        stream<int> s = eddy::defer([] { return holds_counted(counted{}); });
        REQUIRE(eddy::sync_wait(s.next()) == 1);
        REQUIRE(eddy::sync_wait(s.next()) == 2);
        REQUIRE(counted::alive() > 0);
    }
    REQUIRE(counted::alive() == 0);
    const int before = counted::constructed();
    {
        stream<int> never_pulled = eddy::defer([] { return holds_counted(counted{}); });
    }
    REQUIRE(counted::constructed() == before); // the factory never ran
    REQUIRE(counted::alive() == 0);
}
