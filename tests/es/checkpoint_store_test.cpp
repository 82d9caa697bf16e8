// Tests of the eddy::checkpoint_store concept with positive and negative archetypes.
#include <eddy/es/checkpoint_store.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

namespace {
struct good {
    eddy::task<std::uint64_t> load_checkpoint(std::string);
    eddy::task<void> save_checkpoint(std::string, std::uint64_t);
};
struct sync_save {
    eddy::task<std::uint64_t> load_checkpoint(std::string);
    void save_checkpoint(std::string, std::uint64_t);
};
struct no_load {
    eddy::task<void> save_checkpoint(std::string, std::uint64_t);
};
} // namespace

TEST_CASE("checkpoint_store: the concept", "[es][checkpoint_store]") {
    STATIC_REQUIRE(eddy::checkpoint_store<good>);
    STATIC_REQUIRE_FALSE(eddy::checkpoint_store<sync_save>);
    STATIC_REQUIRE_FALSE(eddy::checkpoint_store<no_load>);
    STATIC_REQUIRE_FALSE(eddy::checkpoint_store<int>);
}
