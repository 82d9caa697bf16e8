// Tests of eddy::scan: running accumulations, empty source, end, errors, early stop.
#include <eddy/stream/scan.hpp>

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
#include <support/stream_sources.hpp>

using eddy::stream;
using eddy::task;
using eddy::test::copy_move_tracker;

using eddy::test::all;
using eddy::test::boxes;
using eddy::test::count_to;
using eddy::test::counted_source;
using eddy::test::next_of;
using eddy::test::two_then_throw;

namespace {

int add(int a, int x) { return a + x; }

} // namespace

TEST_CASE("scan: each running accumulation, in order (not the initial value)", "[stream][scan]") {
    REQUIRE(all<int>(count_to(4) | eddy::scan(0, add)) == std::vector<int>{1, 3, 6, 10});
    REQUIRE(all<int>(count_to(0) | eddy::scan(0, add)).empty());
    REQUIRE(all<std::string>(count_to(3) | eddy::scan(std::string(">"), [](std::string a, int x) {
                                 return a + std::to_string(x);
                             })) == std::vector<std::string>{">1", ">12", ">123"});
}

TEST_CASE("scan: the element type is the accumulator's (decayed)", "[stream][scan]") {
    using p = decltype(count_to(1) | eddy::scan(0L, [](long a, int x) { return a + x; }));
    STATIC_REQUIRE(std::is_same_v<p::value_type, long>);
    using q = decltype(count_to(1) | eddy::scan(0, [](long a, int x) { return a + x; }));
    STATIC_REQUIRE(std::is_same_v<q::value_type, int>);
}

TEST_CASE("scan: with take, stops pulling early; then the end", "[stream][scan]") {
    int pulls = 0;
    auto p = counted_source(10, &pulls) | eddy::scan(0, add) | eddy::take(2);
    REQUIRE(eddy::sync_wait(next_of(&p)) == 1);
    REQUIRE(eddy::sync_wait(next_of(&p)) == 3);
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE(pulls == 2);
}

TEST_CASE("scan: errors of the function and of the source reach the consumer", "[stream][scan]") {
    auto p = count_to(5) | eddy::scan(0, [](int a, int x) {
                 if (x == 2) {
                     throw std::runtime_error("scan failed");
                 }
                 return a + x;
             });
    REQUIRE(eddy::sync_wait(next_of(&p)) == 1);
    REQUIRE_THROWS_WITH(eddy::sync_wait(next_of(&p)), "scan failed");
    REQUIRE_FALSE(eddy::sync_wait(next_of(&p)).has_value());
    REQUIRE_THROWS_WITH(all<int>(two_then_throw() | eddy::scan(0, add)), "source failed");
}

TEST_CASE("scan: move-only elements are moved into the function", "[stream][scan]") {
    REQUIRE(all<int>(boxes(3) | eddy::scan(0, [](int a, std::unique_ptr<int> b) {
                         return a + *b;
                     })) == std::vector<int>{1, 3, 6});
}
