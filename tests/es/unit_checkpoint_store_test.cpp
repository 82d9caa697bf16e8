// Tests of the eddy::unit_checkpoint_store concept with positive and negative archetypes.
#include <eddy/es/unit_checkpoint_store.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include <eddy/es/memory_checkpoint_store.hpp>

namespace {
struct unit {};
struct fake_storage {
    using unit_type = unit;
    unit begin();
    eddy::task<eddy::commit_result> commit(unit);
};
struct other_unit {};
struct good {
    using unit_type = unit;
    eddy::task<std::uint64_t> load_checkpoint(std::string);
    eddy::task<void> save_checkpoint(std::string, std::uint64_t);
    void save_checkpoint(unit&, std::string, std::uint64_t);
    fake_storage& storage();
};
struct no_unit_save {
    using unit_type = unit;
    eddy::task<std::uint64_t> load_checkpoint(std::string);
    eddy::task<void> save_checkpoint(std::string, std::uint64_t);
    fake_storage& storage();
};
struct no_storage {
    using unit_type = unit;
    eddy::task<std::uint64_t> load_checkpoint(std::string);
    eddy::task<void> save_checkpoint(std::string, std::uint64_t);
    void save_checkpoint(unit&, std::string, std::uint64_t);
};
struct unit_of_another_storage {
    using unit_type = other_unit;
    eddy::task<std::uint64_t> load_checkpoint(std::string);
    eddy::task<void> save_checkpoint(std::string, std::uint64_t);
    void save_checkpoint(other_unit&, std::string, std::uint64_t);
    fake_storage& storage();
};
} // namespace

TEST_CASE("unit_checkpoint_store: the concept", "[es][unit_checkpoint_store]") {
    STATIC_REQUIRE(eddy::unit_checkpoint_store<good>);
    STATIC_REQUIRE(eddy::unit_checkpoint_store<eddy::memory_checkpoint_store>);
    STATIC_REQUIRE_FALSE(eddy::unit_checkpoint_store<no_unit_save>);
    STATIC_REQUIRE_FALSE(eddy::unit_checkpoint_store<no_storage>);
    STATIC_REQUIRE_FALSE(eddy::unit_checkpoint_store<unit_of_another_storage>);
    STATIC_REQUIRE_FALSE(eddy::unit_checkpoint_store<int>);
}
