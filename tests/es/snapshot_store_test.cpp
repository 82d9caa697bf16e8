// Tests of the eddy::snapshot_store concept (positive and negative archetypes) and
// eddy::snapshot's defaults.
#include <eddy/es/snapshot_store.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>

namespace {
struct good {
    using state_type = int;
    eddy::task<void> save_snapshot(std::string, eddy::snapshot<int>);
    eddy::task<std::optional<eddy::snapshot<int>>> load_snapshot(std::string);
};
struct sync_load {
    using state_type = int;
    eddy::task<void> save_snapshot(std::string, eddy::snapshot<int>);
    std::optional<eddy::snapshot<int>> load_snapshot(std::string);
};
struct no_state_type {
    eddy::task<void> save_snapshot(std::string, eddy::snapshot<int>);
    eddy::task<std::optional<eddy::snapshot<int>>> load_snapshot(std::string);
};
} // namespace

TEST_CASE("snapshot_store: the concept", "[es][snapshot_store]") {
    STATIC_REQUIRE(eddy::snapshot_store<good>);
    STATIC_REQUIRE_FALSE(eddy::snapshot_store<sync_load>);
    STATIC_REQUIRE_FALSE(eddy::snapshot_store<no_state_type>);
    STATIC_REQUIRE_FALSE(eddy::snapshot_store<int>);
    eddy::snapshot<int> s;
    REQUIRE(s.version == 0);
    REQUIRE(s.schema_version == 1);
}
