// Tests of eddy::stream_metadata: defaults (no limit) and equality.
#include <eddy/es/stream_metadata.hpp>

#include <catch2/catch.hpp>

TEST_CASE("stream_metadata: value semantics", "[es][stream_metadata]") {
    eddy::stream_metadata none;
    REQUIRE(none.truncate_before == 0);
    REQUIRE(none.max_count == 0);
    REQUIRE(eddy::stream_metadata{.truncate_before = 3} == eddy::stream_metadata{3, 0});
    REQUIRE_FALSE(eddy::stream_metadata{.max_count = 3} == none);
}
