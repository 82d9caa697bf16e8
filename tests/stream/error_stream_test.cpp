// Tests of eddy::error_stream<T>(e).
#include <eddy/stream/error_stream.hpp>

#include <catch2/catch.hpp>

#include <exception>
#include <optional>
#include <stdexcept>

#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

using eddy::stream;

namespace {

eddy::task<std::optional<int>> next_of(stream<int>* s) {
    std::optional<int> v = co_await s->next();
    co_return v;
}

} // namespace

TEST_CASE("error_stream: the first next() rethrows, later ones end", "[stream][error_stream]") {
    SECTION("from an exception object") {
        stream<int> s = eddy::error_stream<int>(std::runtime_error("down"));
        REQUIRE_THROWS_AS(eddy::sync_wait(next_of(&s)), std::runtime_error);
        REQUIRE_FALSE(eddy::sync_wait(next_of(&s)).has_value());
    }
    SECTION("from an exception_ptr") {
        stream<int> s =
            eddy::error_stream<int>(std::make_exception_ptr(eddy::timeout_error("slow")));
        REQUIRE_THROWS_WITH(eddy::sync_wait(next_of(&s)), "slow");
        REQUIRE_FALSE(eddy::sync_wait(next_of(&s)).has_value());
    }
}

TEST_CASE("error_stream: lazy, nothing is thrown before next()", "[stream][error_stream]") {
    stream<int> s = eddy::error_stream<int>(std::logic_error("later")); // does not throw
    REQUIRE(s.valid());
}

TEST_CASE("error_stream: does not hide the class eddy::error", "[stream][error_stream]") {
    REQUIRE_THROWS_AS(throw eddy::error("still a class"), eddy::error);
}
