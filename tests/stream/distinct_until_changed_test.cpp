// Tests of eddy::distinct_until_changed: runs collapse to their first element, the predicate
// overload, the kept copy, errors, independence of stage copies, cancellation.
#include <eddy/stream/distinct_until_changed.hpp>

#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <cstddef>
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
#include <eddy/stream/just.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/copy_move_tracker.hpp>
#include <support/stream_sources.hpp>
#include <support/virtual_time_tasks.hpp>

using eddy::stream;
using eddy::task;
using eddy::virtual_time_scheduler;
using eddy::test::all;
using eddy::test::copy_move_tracker;
using eddy::test::count_to;
using eddy::test::next_of;
using namespace std::chrono_literals;

namespace {

stream<int> of(std::vector<int> values) {
    for (int v : values) {
        co_yield v;
    }
}

stream<int> values_then_throw(std::vector<int> values) {
    for (int v : values) {
        co_yield v;
    }
    throw std::runtime_error("source failed");
}

// Compares equal by value(); counts comparisons.
struct tracked_equal {
    int* comparisons;
    bool operator()(const copy_move_tracker& a, const copy_move_tracker& b) const {
        ++*comparisons;
        return a.value() == b.value();
    }
};

// Moves each of `*items` out (the test keeps the moved-from objects, which keep the counts).
stream<copy_move_tracker> moved_out(std::vector<copy_move_tracker>* items) {
    for (copy_move_tracker& x : *items) {
        co_yield std::move(x);
    }
}

struct throws_on_compare {
    int v;
    bool operator==(const throws_on_compare& other) const {
        if (v == 3 || other.v == 3) {
            throw std::runtime_error("compare failed");
        }
        return v == other.v;
    }
};

stream<throws_on_compare> comparables(std::vector<int> values) {
    for (int v : values) {
        co_yield throws_on_compare{v};
    }
}

bool same_ignoring_case(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
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

TEST_CASE("distinct_until_changed: runs of equal elements collapse to their first",
          "[stream][distinct_until_changed]") {
    REQUIRE(all<int>(of({1, 1, 2, 2, 2, 1, 3, 3}) | eddy::distinct_until_changed()) ==
            std::vector<int>{1, 2, 1, 3});
    REQUIRE(all<int>(of({5, 5, 5}) | eddy::distinct_until_changed()) == std::vector<int>{5});
    REQUIRE(all<int>(of({}) | eddy::distinct_until_changed()).empty());
    REQUIRE(all<int>(count_to(4) | eddy::distinct_until_changed()) == std::vector<int>{1, 2, 3, 4});
    REQUIRE(all<std::string>(eddy::just(std::string("a"), std::string("a"), std::string("b")) |
                             eddy::distinct_until_changed()) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("distinct_until_changed: a fused stage keeping the element type",
          "[stream][distinct_until_changed]") {
    using p = decltype(count_to(1) | eddy::distinct_until_changed());
    STATIC_REQUIRE(std::is_same_v<p::value_type, int>);
    STATIC_REQUIRE_FALSE(std::is_same_v<p, stream<int>>);
}

TEST_CASE("distinct_until_changed: compares with the last element passed on, after earlier "
          "stages",
          "[stream][distinct_until_changed]") {
    REQUIRE(all<int>(of({1, 2, 3, 4, 5, 6}) | eddy::map([](int x) { return x / 2; }) |
                     eddy::distinct_until_changed()) == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("distinct_until_changed: with an equality predicate",
          "[stream][distinct_until_changed]") {
    REQUIRE(all<std::string>(eddy::just(std::string("Hello"), std::string("HELLO"),
                                        std::string("world"), std::string("World"),
                                        std::string("hello")) |
                             eddy::distinct_until_changed(same_ignoring_case)) ==
            std::vector<std::string>{"Hello", "world", "hello"});
    // The predicate gets (last passed on, current): a drift below the threshold never resets.
    REQUIRE(all<int>(of({10, 11, 12, 13, 20}) | eddy::distinct_until_changed([](int last, int x) {
                         return x - last < 3;
                     })) == std::vector<int>{10, 13, 20});
}

TEST_CASE("distinct_until_changed: one copy per element passed on, none for dropped ones",
          "[stream][distinct_until_changed]") {
    std::vector<copy_move_tracker> items;
    for (int v : {1, 1, 2, 2, 3}) {
        items.emplace_back(v);
    }
    int comparisons = 0;
    std::vector<copy_move_tracker> out = all<copy_move_tracker>(
        moved_out(&items) | eddy::distinct_until_changed(tracked_equal{&comparisons}));
    REQUIRE(out.size() == 3);
    REQUIRE(out[0].value() == 1);
    REQUIRE(out[1].value() == 2);
    REQUIRE(out[2].value() == 3);
    REQUIRE(comparisons == 4);
    REQUIRE(items[0].copies() == 1); // passed on: one copy kept by the stage
    REQUIRE(items[1].copies() == 0); // dropped: never copied
    REQUIRE(items[2].copies() == 1);
    REQUIRE(items[3].copies() == 0);
    REQUIRE(items[4].copies() == 1);
}

TEST_CASE("distinct_until_changed: errors of == and of the source reach the consumer",
          "[stream][distinct_until_changed]") {
    auto p = comparables({1, 1, 3, 4}) | eddy::distinct_until_changed();
    std::optional<throws_on_compare> first = eddy::sync_wait(p.next());
    REQUIRE(first->v == 1);
    REQUIRE_THROWS_WITH(eddy::sync_wait(p.next()), "compare failed");
    REQUIRE_FALSE(eddy::sync_wait(p.next()).has_value());
    REQUIRE_THROWS_WITH(all<int>(values_then_throw({1, 1, 2}) | eddy::distinct_until_changed()),
                        "source failed");
}

TEST_CASE("distinct_until_changed: a stage value is reusable; each pipeline starts afresh",
          "[stream][distinct_until_changed]") {
    const auto op = eddy::distinct_until_changed();
    REQUIRE(all<int>(of({1, 1, 2}) | op) == std::vector<int>{1, 2});
    REQUIRE(all<int>(of({2, 2, 1}) | op) == std::vector<int>{2, 1});
    auto p = of({7, 7, 8}) | eddy::distinct_until_changed();
    REQUIRE(eddy::sync_wait(next_of(&p)) == 7);
    auto moved = std::move(p); // the kept element moves with the pipeline
    REQUIRE(eddy::sync_wait(next_of(&moved)) == 8);
    REQUIRE_FALSE(eddy::sync_wait(next_of(&moved)).has_value());
}

TEST_CASE("distinct_until_changed: the stop token reaches the source",
          "[stream][distinct_until_changed]") {
    virtual_time_scheduler vt;
    std::stop_source stop;
    bool cancelled = false;
    auto [values, ignored] = vt.run(eddy::when_all(
        eddy::with_stop_token(until_cancelled(eddy::interval(vt, 1s) | eddy::map([](std::size_t i) {
                                                  return i / 2;
                                              }) | eddy::distinct_until_changed(),
                                              &cancelled),
                              stop.get_token()),
        eddy::test::virtual_time::request_stop_after(vt, 4500ms, stop)));
    // 0 0 1 1 at 1s..4s pass as 0 (1s), 1 (3s); stopped at 4.5s.
    REQUIRE(values == std::vector<std::size_t>{0, 1});
    REQUIRE(cancelled);
    REQUIRE(vt.pending_timers() == 0);
}
