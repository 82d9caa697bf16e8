// Tests of eddy::just(values...).
#include <eddy/stream/just.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

} // namespace

TEST_CASE("just: yields its values in order, then ends", "[stream][just]") {
    REQUIRE(eddy::sync_wait(collect(eddy::just(3, 1, 2))) == std::vector<int>{3, 1, 2});
    REQUIRE(eddy::sync_wait(collect(eddy::just(std::string("one")))) ==
            std::vector<std::string>{"one"});
}

TEST_CASE("just: move-only values", "[stream][just]") {
    std::vector<std::unique_ptr<int>> out =
        eddy::sync_wait(collect(eddy::just(std::make_unique<int>(1), std::make_unique<int>(2))));
    REQUIRE(out.size() == 2);
    REQUIRE(*out[0] == 1);
    REQUIRE(*out[1] == 2);
}

TEST_CASE("just: rvalues are never copied", "[stream][just]") {
    copy_move_tracker t(4);
    copy_move_tracker probe = t; // one copy, to read the counts
    std::vector<copy_move_tracker> out = eddy::sync_wait(collect(eddy::just(std::move(t))));
    REQUIRE(out.at(0).value() == 4);
    REQUIRE(probe.copies() == 1);
}
