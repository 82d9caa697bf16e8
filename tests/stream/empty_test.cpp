// Tests of eddy::empty<T>().
#include <eddy/stream/empty.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <optional>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

namespace {

template <class T>
eddy::task<int> values_until_end(eddy::stream<T> s) {
    int n = 0;
    for (int i = 0; i < 3; ++i) { // keeps pulling after the end: still empty
        std::optional<T> v = co_await s.next();
        n += v.has_value() ? 1 : 0;
    }
    co_return n;
}

} // namespace

TEST_CASE("empty: the first next() yields an empty optional, and so do later ones",
          "[stream][empty]") {
    REQUIRE(eddy::sync_wait(values_until_end(eddy::empty<int>())) == 0);
    REQUIRE(eddy::sync_wait(values_until_end(eddy::empty<std::unique_ptr<int>>())) == 0);
}
