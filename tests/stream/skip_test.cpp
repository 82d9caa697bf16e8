// Tests of eddy::skip: drops the first n, pulls, end, errors, move-only values.
#include <eddy/stream/skip.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/stream/take.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/copy_move_tracker.hpp>

using eddy::stream;
using eddy::task;
using eddy::test::copy_move_tracker;

namespace {

stream<int> count_to(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield i;
    }
}

// Counts how many values the consumer made the body produce.
stream<int> counted_source(int n, int* pulls) {
    for (int i = 1; i <= n; ++i) {
        ++*pulls;
        co_yield i;
    }
}

stream<int> two_then_throw() {
    co_yield 1;
    co_yield 2;
    throw std::runtime_error("source failed");
}

stream<std::unique_ptr<int>> boxes(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield std::make_unique<int>(i);
    }
}

template <class T>
std::vector<T> all(stream<T> s) {
    return eddy::sync_wait(eddy::to_vector(std::move(s)));
}

template <class Pipeline>
task<std::optional<int>> next_of(Pipeline* p) {
    std::optional<int> v = co_await p->next();
    co_return v;
}

} // namespace

TEST_CASE("skip: every element but the first n, in order", "[stream][skip]") {
    REQUIRE(all<int>(count_to(5) | eddy::skip(2)) == std::vector<int>{3, 4, 5});
    REQUIRE(all<int>(count_to(3) | eddy::skip(0)) == std::vector<int>{1, 2, 3});
    REQUIRE(all<int>(count_to(3) | eddy::skip(3)).empty());
    REQUIRE(all<int>(count_to(3) | eddy::skip(10)).empty());
}

TEST_CASE("skip: the first next() pulls n + 1 times; then one pull per element", "[stream][skip]") {
    int pulls = 0;
    auto p = counted_source(5, &pulls) | eddy::skip(3);
    REQUIRE(eddy::sync_wait(next_of(&p)) == 4);
    REQUIRE(pulls == 4);
    REQUIRE(eddy::sync_wait(next_of(&p)) == 5);
    REQUIRE(pulls == 5);
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
}

TEST_CASE("skip: combined with take, a window", "[stream][skip]") {
    int pulls = 0;
    REQUIRE(all<int>(counted_source(100, &pulls) | eddy::skip(10) | eddy::take(2)) ==
            std::vector<int>{11, 12});
    REQUIRE(pulls == 12);
    STATIC_REQUIRE(std::is_same_v<decltype(count_to(1) | eddy::skip(1) | eddy::take(1)),
                                  eddy::pipeline<stream<int>, eddy::skip_stage, eddy::take_stage>>);
}

TEST_CASE("skip: the source's error reaches the consumer, even while skipping", "[stream][skip]") {
    REQUIRE_THROWS_WITH(all<int>(two_then_throw() | eddy::skip(5)), "source failed");
    REQUIRE_THROWS_WITH(all<int>(two_then_throw() | eddy::skip(1)), "source failed");
}

TEST_CASE("skip: move-only elements", "[stream][skip]") {
    std::vector<std::unique_ptr<int>> v = all<std::unique_ptr<int>>(boxes(3) | eddy::skip(2));
    REQUIRE(v.size() == 1);
    REQUIRE(*v[0] == 3);
}
