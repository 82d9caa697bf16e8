// Tests of eddy::from(range): order, laziness, ownership of the range, copies and moves.
#include <eddy/stream/from_range.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <eddy/core/generator.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

#include <support/copy_move_tracker.hpp>

using eddy::stream;
using eddy::task;
using eddy::test::copy_move_tracker;

namespace {

// Pulls by hand, so the tests see the source's own next() (not a sink's handling of it).
template <class S, class T = typename S::value_type>
task<std::vector<T>> collect(S s) {
    std::vector<T> out;
    for (;;) {
        std::optional<T> v = co_await s.next();
        if (!v) {
            co_return out;
        }
        out.push_back(std::move(*v));
    }
}

eddy::generator<int> squares(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield i* i;
    }
}

} // namespace

TEST_CASE("from(range): yields the elements in order", "[stream][from_range]") {
    std::vector<std::string> words{"a", "b", "c"};
    REQUIRE(eddy::sync_wait(collect(eddy::from(words))) == words);
    REQUIRE(words.size() == 3); // an lvalue range is copied into the stream, left intact
}

TEST_CASE("from(range): an empty range ends at once", "[stream][from_range]") {
    REQUIRE(eddy::sync_wait(collect(eddy::from(std::vector<int>{}))).empty());
}

TEST_CASE("from(range): owns the range, so it may outlive the original", "[stream][from_range]") {
    stream<int> s;
    {
        std::vector<int> local{4, 5, 6};
        s = eddy::from(local);
    }
    REQUIRE(eddy::sync_wait(collect(std::move(s))) == std::vector<int>{4, 5, 6});
}

TEST_CASE("from(range): an owned range's elements are moved out", "[stream][from_range]") {
    SECTION("move-only elements") {
        std::vector<std::unique_ptr<int>> boxes;
        boxes.push_back(std::make_unique<int>(1));
        boxes.push_back(std::make_unique<int>(2));
        std::vector<std::unique_ptr<int>> out =
            eddy::sync_wait(collect(eddy::from(std::move(boxes))));
        REQUIRE(out.size() == 2);
        REQUIRE(*out[1] == 2);
    }
    SECTION("an rvalue range: no copies") {
        std::vector<copy_move_tracker> v;
        v.emplace_back(3);
        copy_move_tracker probe = v[0]; // one copy, to read the shared counts afterwards
        std::vector<copy_move_tracker> out = eddy::sync_wait(collect(eddy::from(std::move(v))));
        REQUIRE(out.at(0).value() == 3);
        REQUIRE(probe.copies() == 1);
    }
    SECTION("an lvalue range: one copy per element") {
        std::vector<copy_move_tracker> v;
        v.emplace_back(3);
        std::vector<copy_move_tracker> out = eddy::sync_wait(collect(eddy::from(v)));
        REQUIRE(out.at(0).value() == 3);
        REQUIRE(v[0].copies() == 1);
    }
}

TEST_CASE("from(range): a view's elements are copied, not stolen", "[stream][from_range]") {
    std::vector<std::string> words{"x", "y"};
    REQUIRE(eddy::sync_wait(collect(eddy::from(std::span<std::string>(words)))) == words);
    REQUIRE(words == std::vector<std::string>{"x", "y"});
}

TEST_CASE("from(range): a generator, pulled lazily", "[stream][from_range]") {
    REQUIRE(eddy::sync_wait(collect(eddy::from(squares(4)))) == std::vector<int>{1, 4, 9, 16});
}

namespace {

eddy::generator<int> one_then_throw() {
    co_yield 1;
    throw std::runtime_error("generator failed");
}

eddy::generator<int> counting_generator(int* produced) {
    for (int i = 1;; ++i) {
        ++*produced;
        co_yield i;
    }
}

// Counts the suspensions of its own frame: a pull that suspends would have to resume it.
struct pulls_without_suspending {
    bool suspended = false;
};

template <class S>
task<std::vector<int>> pull_all_checking_ready(S s, pulls_without_suspending* probe) {
    std::vector<int> out;
    for (;;) {
        auto awaiter = s.next();
        if (!awaiter.await_ready()) {
            probe->suspended = true;
        }
        std::optional<int> v = co_await std::move(awaiter);
        if (!v) {
            co_return out;
        }
        out.push_back(*v);
    }
}

} // namespace

TEST_CASE("from(range): every pull completes without suspending", "[stream][from_range]") {
    pulls_without_suspending probe;
    REQUIRE(eddy::sync_wait(pull_all_checking_ready(eddy::from(std::vector<int>{1, 2, 3}),
                                                    &probe)) == std::vector<int>{1, 2, 3});
    REQUIRE_FALSE(probe.suspended);
}

TEST_CASE("from(range): moving the source mid-way keeps its position", "[stream][from_range]") {
    // std::array's iterators point into the array itself: the source keeps the range on the
    // heap so a move does not leave the position dangling.
    auto source = eddy::from(std::array<int, 3>{7, 8, 9});
    REQUIRE(source.next_sync() == 7);
    auto moved = std::move(source);
    REQUIRE(moved.next_sync() == 8);
    REQUIRE(moved.next_sync() == 9);
    REQUIRE(moved.next_sync() == std::nullopt);
}

TEST_CASE("from(range): an exception of the range reaches the pull, then the source ends",
          "[stream][from_range]") {
    auto source = eddy::from(one_then_throw());
    REQUIRE(source.next_sync() == 1);
    REQUIRE_THROWS_WITH(source.next_sync(), "generator failed");
    REQUIRE(source.next_sync() == std::nullopt);
}

TEST_CASE("from(range): converts to a coroutine stream with the same elements",
          "[stream][from_range]") {
    stream<std::string> s = eddy::from(std::vector<std::string>{"p", "q"});
    REQUIRE(eddy::sync_wait(collect(std::move(s))) == std::vector<std::string>{"p", "q"});
}

TEST_CASE("from(range): a lazy range computes nothing ahead of the consumer",
          "[stream][from_range]") {
    int produced = 0;
    auto source = eddy::from(counting_generator(&produced));
    REQUIRE(produced == 0);
    REQUIRE(source.next_sync() == 1);
    REQUIRE(produced == 1);
    REQUIRE(source.next_sync() == 2);
    REQUIRE(produced == 2);
}
