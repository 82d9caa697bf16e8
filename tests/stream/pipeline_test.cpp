// Tests of eddy::pipeline: fusion (types), pulling through several stages, the end and early
// stop, errors, conversion to stream<T> and the sinks, move-only values and copy budgets,
// stack depth, stop tokens.
#include <eddy/stream/pipeline.hpp>

#include <catch2/catch.hpp>

#include <chrono>
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
#include <eddy/stream/count.hpp>
#include <eddy/stream/filter.hpp>
#include <eddy/stream/first.hpp>
#include <eddy/stream/for_each.hpp>
#include <eddy/stream/from_range.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/reduce.hpp>
#include <eddy/stream/scan.hpp>
#include <eddy/stream/skip.hpp>
#include <eddy/stream/take.hpp>
#include <eddy/stream/take_while.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/copy_move_tracker.hpp>
#include <support/stream_consumers.hpp>
#include <support/stream_sources.hpp>
#include <support/virtual_time_tasks.hpp>

using eddy::stream;
using eddy::task;
using eddy::test::copy_move_tracker;
using namespace std::chrono_literals;

using eddy::test::boxes;
using eddy::test::count_to;
using eddy::test::counted_source;
using eddy::test::is_even;
using eddy::test::two_then_throw;

using eddy::test::drain;
using eddy::test::is;

namespace {

stream<copy_move_tracker> trackers(copy_move_tracker* first) {
    co_yield std::move(*first);
    co_yield copy_move_tracker(2);
}

int square(int x) { return x * x; }
int add(int a, int x) { return a + x; }

template <class Pipeline>
task<std::vector<int>> pull(Pipeline* p, int limit) {
    std::vector<int> out;
    for (int i = 0; i < limit; ++i) {
        std::optional<int> v = co_await p->next();
        if (!v) {
            break;
        }
        out.push_back(*v);
    }
    co_return out;
}

task<long> sum_all(stream<int> s) {
    long total = 0;
    for (;;) {
        std::optional<int> v = co_await s.next();
        if (!v) {
            co_return total;
        }
        total += *v;
    }
}

stream<int> waits_an_hour(eddy::virtual_time_scheduler* vt) {
    co_yield 1;
    co_await vt->schedule_after(1h);
    co_yield 2;
}

stream<bool> reports_stop_token() {
    std::stop_token token = co_await eddy::get_stop_token();
    co_yield token.stop_possible();
}

task<std::optional<bool>> first_bool(stream<bool> s) {
    std::optional<bool> v = co_await s.next();
    co_return v;
}

struct throws_on_three {
    int operator()(int x) const {
        if (x == 3) {
            throw std::runtime_error("stage failed");
        }
        return x;
    }
};

} // namespace

TEST_CASE("pipeline: stages fuse into one pipeline type, not a stream", "[stream][pipeline]") {
    using one = decltype(count_to(1) | eddy::map(square));
    using two = decltype(count_to(1) | eddy::map(square) | eddy::filter(is_even));
    STATIC_REQUIRE(std::is_same_v<one, eddy::pipeline<stream<int>, eddy::map_stage<int (*)(int)>>>);
    STATIC_REQUIRE(std::is_same_v<two, eddy::pipeline<stream<int>, eddy::map_stage<int (*)(int)>,
                                                      eddy::filter_stage<bool (*)(int)>>>);
    STATIC_REQUIRE_FALSE(std::is_same_v<two, stream<int>>);
    STATIC_REQUIRE(std::is_convertible_v<two, stream<int>>);
    STATIC_REQUIRE(eddy::fused_stage<eddy::take_stage>);
    STATIC_REQUIRE_FALSE(eddy::fused_stage<int>);
    STATIC_REQUIRE_FALSE(eddy::fused_stage<stream<int>>);
    // The element type follows the stages.
    using strings = decltype(count_to(1) | eddy::map([](int x) { return std::to_string(x); }));
    STATIC_REQUIRE(std::is_same_v<strings::value_type, std::string>);
}

TEST_CASE("pipeline: values flow through every stage, in order", "[stream][pipeline]") {
    auto p =
        count_to(10) | eddy::map(square) | eddy::filter(is_even) | eddy::skip(1) | eddy::take(2);
    REQUIRE(eddy::sync_wait(pull(&p, 10)) == std::vector<int>{16, 36});
}

TEST_CASE("pipeline: after the end next() yields empty optionals and pulls nothing",
          "[stream][pipeline]") {
    int pulls = 0;
    auto p = counted_source(3, &pulls) | eddy::map(square);
    REQUIRE_FALSE(p.ended());
    REQUIRE(eddy::sync_wait(pull(&p, 10)) == std::vector<int>{1, 4, 9});
    REQUIRE(p.ended());
    REQUIRE_FALSE(eddy::sync_wait(p.next()).has_value());
    REQUIRE_FALSE(eddy::sync_wait(p.next()).has_value());
    REQUIRE(pulls == 3);
}

TEST_CASE("pipeline: lazy, nothing is pulled before next()", "[stream][pipeline]") {
    int pulls = 0;
    {
        auto p = counted_source(3, &pulls) | eddy::map(square) | eddy::filter(is_even);
        stream<int> s = std::move(p);
    }
    REQUIRE(pulls == 0);
}

TEST_CASE("pipeline: appending to a partly pulled pipeline continues where it was",
          "[stream][pipeline]") {
    auto p = count_to(6) | eddy::map(square);
    REQUIRE(eddy::sync_wait(pull(&p, 2)) == std::vector<int>{1, 4});
    auto q = std::move(p) | eddy::filter(is_even);
    REQUIRE(eddy::sync_wait(pull(&q, 10)) == std::vector<int>{16, 36});
}

TEST_CASE("pipeline: the source's exception reaches next(), then the pipeline has ended",
          "[stream][pipeline]") {
    auto p = two_then_throw() | eddy::map(square);
    REQUIRE(eddy::sync_wait(pull(&p, 2)) == std::vector<int>{1, 4});
    REQUIRE_THROWS_WITH(eddy::sync_wait(p.next()), "source failed");
    REQUIRE(p.ended());
    REQUIRE_FALSE(eddy::sync_wait(p.next()).has_value());
}

TEST_CASE("pipeline: a stage's exception reaches next(), then the pipeline has ended",
          "[stream][pipeline]") {
    int pulls = 0;
    auto p = counted_source(10, &pulls) | eddy::map(throws_on_three{});
    REQUIRE(eddy::sync_wait(pull(&p, 2)) == std::vector<int>{1, 2});
    REQUIRE_THROWS_WITH(eddy::sync_wait(p.next()), "stage failed");
    REQUIRE_FALSE(eddy::sync_wait(p.next()).has_value());
    REQUIRE(pulls == 3);
}

TEST_CASE("pipeline: converts to stream<T>; sinks take it directly", "[stream][pipeline]") {
    stream<int> s = count_to(5) | eddy::map(square);
    REQUIRE(eddy::sync_wait(eddy::to_vector(std::move(s))) == std::vector<int>{1, 4, 9, 16, 25});
    REQUIRE(eddy::sync_wait(eddy::to_vector(count_to(5) | eddy::filter(is_even))) ==
            std::vector<int>{2, 4});
    REQUIRE(eddy::sync_wait(eddy::count(count_to(5) | eddy::skip(2))) == 3);
    REQUIRE(eddy::sync_wait(eddy::first(count_to(5) | eddy::skip(3))) == 4);
    REQUIRE(eddy::sync_wait(eddy::reduce(count_to(4) | eddy::map(square), 0, add)) == 30);
    std::vector<int> seen;
    eddy::sync_wait(
        eddy::for_each(count_to(3) | eddy::scan(0, add), [&seen](int v) { seen.push_back(v); }));
    REQUIRE(seen == std::vector<int>{1, 3, 6});
}

TEST_CASE("pipeline: errors cross the conversion to stream", "[stream][pipeline]") {
    REQUIRE_THROWS_WITH(eddy::sync_wait(eddy::to_vector(two_then_throw() | eddy::map(square))),
                        "source failed");
    REQUIRE_THROWS_WITH(
        eddy::sync_wait(eddy::to_vector(count_to(5) | eddy::map(throws_on_three{}))),
        "stage failed");
}

TEST_CASE("pipeline: take stops pulling the converted stream's source", "[stream][pipeline]") {
    int pulls = 0;
    REQUIRE(eddy::sync_wait(eddy::to_vector(counted_source(100, &pulls) | eddy::map(square) |
                                            eddy::take(3))) == std::vector<int>{1, 4, 9});
    REQUIRE(pulls == 3);
}

TEST_CASE("pipeline: move-only values", "[stream][pipeline]") {
    auto v = eddy::sync_wait(eddy::to_vector(
        boxes(4) | eddy::filter([](const std::unique_ptr<int>& b) { return *b % 2 == 0; }) |
        eddy::map([](std::unique_ptr<int> b) { return b; }) | eddy::take(1)));
    REQUIRE(v.size() == 1);
    REQUIRE(*v[0] == 2);
}

TEST_CASE("pipeline: map, filter and take never copy an element", "[stream][pipeline]") {
    copy_move_tracker first(1);
    auto p = trackers(&first) | eddy::map([](copy_move_tracker t) { return t; }) |
             eddy::filter([](const copy_move_tracker& t) { return t.value() == 1; }) |
             eddy::take(1);
    std::vector<copy_move_tracker> v = eddy::sync_wait(eddy::to_vector(std::move(p)));
    REQUIRE(v.size() == 1);
    REQUIRE(v[0].value() == 1);
    REQUIRE(first.copies() == 0);
}

TEST_CASE("pipeline: a million elements through map | filter in constant stack",
          "[stream][pipeline]") {
    constexpr int n = 1'000'000;
    // The even numbers up to n, halved: 1 .. n/2.
    auto p = count_to(n) | eddy::filter(is_even) | eddy::map([](int x) { return x / 2; });
    constexpr long half = n / 2;
    REQUIRE(eddy::sync_wait(sum_all(std::move(p))) == half * (half + 1) / 2);
    // A filter that drops almost everything loops over the pulls without nesting.
    auto sparse = count_to(n) | eddy::map([](int x) { return x * 2; }) |
                  eddy::filter([](int x) { return x == 2 * n; });
    REQUIRE(eddy::sync_wait(sum_all(std::move(sparse))) == 2 * n);
}

TEST_CASE("pipeline: the source sees the converted stream consumer's stop token",
          "[stream][pipeline]") {
    std::stop_source source;
    stream<bool> s = reports_stop_token() | eddy::map([](bool b) { return b; });
    REQUIRE(eddy::sync_wait(eddy::with_stop_token(first_bool(std::move(s)), source.get_token())) ==
            true);

    eddy::virtual_time_scheduler vt;
    auto [r, stopper] = vt.run(eddy::when_all(
        eddy::with_stop_token(drain(stream<int>(waits_an_hour(&vt) | eddy::map(square))),
                              source.get_token()),
        eddy::test::virtual_time::request_stop_after(vt, 30min, source)));
    REQUIRE(r.values == std::vector<int>{1});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(vt.now() == eddy::virtual_time_scheduler::time_point{} + 30min);
}

TEST_CASE("pipeline: over from(range) every pull completes without suspending",
          "[stream][pipeline]") {
    auto p = eddy::from(std::vector<int>{1, 2, 3, 4, 5, 6}) | eddy::map(square) |
             eddy::filter(is_even) | eddy::take(2);
    STATIC_REQUIRE(decltype(p)::is_synchronous);
    STATIC_REQUIRE_FALSE(decltype(count_to(1) | eddy::map(square))::is_synchronous);
    REQUIRE(p.next().await_ready());
    REQUIRE(p.next_sync() == 4);
    REQUIRE(p.next_sync() == 16);
    REQUIRE(p.next_sync() == std::nullopt); // take(2) is done
    REQUIRE(p.ended());
}

TEST_CASE("pipeline: over from(range) sinks, conversion and errors behave as over a stream",
          "[stream][pipeline]") {
    const std::vector<int> v{1, 2, 3, 4, 5};
    REQUIRE(eddy::sync_wait(eddy::to_vector(eddy::from(v) | eddy::map(square))) ==
            std::vector<int>{1, 4, 9, 16, 25});
    REQUIRE(eddy::sync_wait(eddy::reduce(eddy::from(v) | eddy::scan(0, add), 0, add)) == 35);
    REQUIRE(eddy::sync_wait(eddy::count(eddy::from(v) | eddy::filter(is_even))) == 2);
    stream<int> s = eddy::from(v) | eddy::skip(3);
    REQUIRE(eddy::sync_wait(eddy::to_vector(std::move(s))) == std::vector<int>{4, 5});
    auto failing = eddy::from(v) | eddy::map(throws_on_three{});
    REQUIRE(failing.next_sync() == 1);
    REQUIRE(failing.next_sync() == 2);
    REQUIRE_THROWS_WITH(failing.next_sync(), "stage failed");
    REQUIRE(failing.next_sync() == std::nullopt);
}

TEST_CASE("pipeline: over from(range) an error reaches the sink's awaiter", "[stream][pipeline]") {
    const std::vector<int> v{1, 2, 3, 4};
    REQUIRE_THROWS_WITH(
        eddy::sync_wait(eddy::to_vector(eddy::from(v) | eddy::map(throws_on_three{}))),
        "stage failed");
    REQUIRE_THROWS_WITH(
        eddy::sync_wait(eddy::reduce(eddy::from(v) | eddy::map(throws_on_three{}), 0, add)),
        "stage failed");
    // An accumulator that throws ends the reduction the same way.
    auto failing_add = [](int acc, int x) {
        if (x == 2) {
            throw std::runtime_error("accumulator failed");
        }
        return acc + x;
    };
    REQUIRE_THROWS_WITH(eddy::sync_wait(eddy::reduce(eddy::from(v), 0, failing_add)),
                        "accumulator failed");
}
