// Tests of eddy::first(stream).
#include <eddy/stream/first.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/stream/interval.hpp>

#include <support/counted.hpp>

using eddy::stream;
using eddy::test::counted;
using namespace std::chrono_literals;

namespace {

// Counts how far the body ran: *pulled is the number of values it produced.
stream<int> counts_pulls(int* pulled, counted guard) {
    for (int i = 10;; ++i) {
        ++*pulled;
        co_yield i + guard.id() * 0;
    }
}

stream<int> nothing() { co_return; }

stream<int> throws_first() {
    throw std::runtime_error("none");
    co_return;
}

} // namespace

TEST_CASE("first: the first value, then the stream is destroyed", "[stream][first]") {
    counted::reset();
    int pulled = 0;
    auto t = eddy::first(counts_pulls(&pulled, counted{}));
    REQUIRE(pulled == 0); // lazy
    REQUIRE(eddy::sync_wait(t) == std::optional<int>(10));
    REQUIRE(pulled == 1);           // stopped pulling after the first
    REQUIRE(counted::alive() == 0); // the infinite stream's frame is gone
}

TEST_CASE("first: an empty stream gives an empty optional", "[stream][first]") {
    REQUIRE_FALSE(eddy::sync_wait(eddy::first(nothing())).has_value());
}

TEST_CASE("first: an exception before the first value reaches the awaiter", "[stream][first]") {
    REQUIRE_THROWS_WITH(eddy::sync_wait(eddy::first(throws_first())), "none");
}

TEST_CASE("first: the first tick of an interval, in virtual time", "[stream][first]") {
    eddy::virtual_time_scheduler vt;
    REQUIRE(vt.run(eddy::first(eddy::interval(vt, 1s))) == std::optional<std::size_t>(0));
    REQUIRE(vt.now() == eddy::virtual_time_scheduler::time_point{} + 1s);
    REQUIRE(vt.pending_timers() == 0);
}
