// Tests of eddy::from(range): order, laziness, ownership of the range, copies and moves.
#include <eddy/stream/from_range.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <span>
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

template <class T>
task<std::vector<T>> collect(stream<T> s) {
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
