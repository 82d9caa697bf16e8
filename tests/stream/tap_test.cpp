// Tests of eddy::tap(f): elements unchanged and in order, f called once per pulled element,
// lazily, errors, move-only values and copies, cancellation.
#include <eddy/stream/tap.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <type_traits>
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
#include <eddy/stream/take.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/copy_move_tracker.hpp>
#include <support/stream_sources.hpp>
#include <support/virtual_time_tasks.hpp>

using eddy::stream;
using eddy::task;
using eddy::virtual_time_scheduler;
using eddy::test::all;
using eddy::test::boxes;
using eddy::test::copy_move_tracker;
using eddy::test::count_to;
using eddy::test::counted_source;
using eddy::test::moves_out;
using eddy::test::next_of;
using eddy::test::two_then_throw;
using namespace std::chrono_literals;

namespace {

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

TEST_CASE("tap: f sees each element; the elements pass on unchanged, in order", "[stream][tap]") {
    std::vector<int> seen;
    REQUIRE(all<int>(count_to(4) | eddy::tap([&seen](const int& x) { seen.push_back(x); })) ==
            std::vector<int>{1, 2, 3, 4});
    REQUIRE(seen == std::vector<int>{1, 2, 3, 4});
    REQUIRE(all<int>(count_to(0) | eddy::tap([&seen](int x) { seen.push_back(x); })).empty());
    REQUIRE(seen.size() == 4);
}

TEST_CASE("tap: a fused stage keeping the element type; f's result is ignored", "[stream][tap]") {
    using p = decltype(count_to(1) | eddy::tap([](int x) { return std::to_string(x); }));
    STATIC_REQUIRE(std::is_same_v<p::value_type, int>);
    STATIC_REQUIRE_FALSE(std::is_same_v<p, stream<int>>);
}

TEST_CASE("tap: lazy, f runs as elements are pulled; nothing after the end", "[stream][tap]") {
    std::vector<std::string> events;
    int pulls = 0;
    auto p = counted_source(2, &pulls) |
             eddy::tap([&events](int x) { events.push_back("tap " + std::to_string(x)); });
    REQUIRE(events.empty());
    REQUIRE(eddy::sync_wait(next_of(&p)) == 1);
    events.emplace_back("got 1");
    REQUIRE(eddy::sync_wait(next_of(&p)) == 2);
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE(events == std::vector<std::string>{"tap 1", "got 1", "tap 2"});
    REQUIRE(pulls == 2);
}

TEST_CASE("tap: sees only what passes earlier stages; later stages see its output",
          "[stream][tap]") {
    std::vector<int> seen;
    REQUIRE(all<int>(count_to(10) | eddy::map([](int x) { return x * 2; }) |
                     eddy::tap([&seen](int x) { seen.push_back(x); }) | eddy::take(3)) ==
            std::vector<int>{2, 4, 6});
    REQUIRE(seen == std::vector<int>{2, 4, 6});
}

TEST_CASE("tap: an exception of f ends the pipeline without the element; source errors pass",
          "[stream][tap]") {
    int pulls = 0;
    auto p = counted_source(5, &pulls) | eddy::tap([](int x) {
                 if (x == 2) {
                     throw std::runtime_error("tap failed");
                 }
             });
    REQUIRE(eddy::sync_wait(next_of(&p)) == 1);
    REQUIRE_THROWS_WITH(eddy::sync_wait(next_of(&p)), "tap failed");
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE(pulls == 2);
    std::vector<int> seen;
    REQUIRE_THROWS_WITH(
        all<int>(two_then_throw() | eddy::tap([&seen](int x) { seen.push_back(x); })),
        "source failed");
    REQUIRE(seen == std::vector<int>{1, 2});
}

TEST_CASE("tap: move-only elements; never copies an element", "[stream][tap]") {
    int sum = 0;
    std::vector<std::unique_ptr<int>> v = all<std::unique_ptr<int>>(
        boxes(3) | eddy::tap([&sum](const std::unique_ptr<int>& b) { sum += *b; }));
    REQUIRE(v.size() == 3);
    REQUIRE(sum == 6);
    copy_move_tracker t(5);
    int value = 0;
    std::vector<copy_move_tracker> out = all<copy_move_tracker>(
        moves_out(&t) | eddy::tap([&value](const copy_move_tracker& x) { value = x.value(); }));
    REQUIRE(out.size() == 1);
    REQUIRE(value == 5);
    REQUIRE(t.copies() == 0);
}

TEST_CASE("tap: the stop token reaches the source", "[stream][tap]") {
    virtual_time_scheduler vt;
    std::stop_source stop;
    bool cancelled = false;
    int taps = 0;
    auto [values, ignored] = vt.run(eddy::when_all(
        eddy::with_stop_token(
            until_cancelled(eddy::interval(vt, 1s) | eddy::tap([&taps](std::size_t) { ++taps; }),
                            &cancelled),
            stop.get_token()),
        eddy::test::virtual_time::request_stop_after(vt, 2500ms, stop)));
    REQUIRE(values == std::vector<std::size_t>{0, 1});
    REQUIRE(taps == 2);
    REQUIRE(cancelled);
    REQUIRE(vt.pending_timers() == 0);
}
