// Tests of eddy::concurrency_conflict: an eddy::error carrying stream, expected and actual
// version, with a message naming them.
#include <eddy/es/concurrency_conflict.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("concurrency_conflict: carries stream, expected and actual",
          "[es][concurrency_conflict]") {
    try {
        throw eddy::concurrency_conflict("order-1", eddy::expected_version::exact(3), 5);
    } catch (const eddy::error& e) {
        REQUIRE(std::string(e.what()) ==
                "eddy: concurrency conflict on stream 'order-1': expected version 3, actual 5");
        const auto* c = dynamic_cast<const eddy::concurrency_conflict*>(&e);
        REQUIRE(c != nullptr);
        REQUIRE(c->stream() == "order-1");
        REQUIRE(c->expected() == eddy::expected_version::exact(3));
        REQUIRE(c->actual() == 5);
    }
    eddy::concurrency_conflict none("s", eddy::expected_version::stream_exists(), 0);
    REQUIRE(std::string(none.what()) ==
            "eddy: concurrency conflict on stream 's': expected version stream exists, actual 0");
}
