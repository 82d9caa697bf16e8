// Tests of the eddy::unit_of_work_storage concept with positive and negative archetypes.
#include <eddy/es/unit_of_work_storage.hpp>

#include <catch2/catch.hpp>

#include <memory>

#include <eddy/es/memory_storage.hpp>

namespace {
struct unit {};
struct good {
    using unit_type = unit;
    unit begin();
    eddy::task<eddy::commit_result> commit(unit);
};
struct no_unit_type {
    unit begin();
    eddy::task<eddy::commit_result> commit(unit);
};
struct sync_commit {
    using unit_type = unit;
    unit begin();
    eddy::commit_result commit(unit);
};
struct begin_returns_other {
    using unit_type = unit;
    int begin();
    eddy::task<eddy::commit_result> commit(unit);
};
struct commit_by_reference { // a unit must be given away, not borrowed
    using unit_type = unit;
    unit begin();
    eddy::task<eddy::commit_result> commit(unit&);
};
struct immovable_unit_storage {
    struct pinned {
        pinned() = default;
        pinned(pinned&&) = delete;
    };
    using unit_type = pinned;
    pinned begin();
    eddy::task<eddy::commit_result> commit(pinned);
};
} // namespace

TEST_CASE("unit_of_work_storage: the concept", "[es][unit_of_work_storage]") {
    STATIC_REQUIRE(eddy::unit_of_work_storage<good>);
    STATIC_REQUIRE(eddy::unit_of_work_storage<eddy::memory_storage>);
    STATIC_REQUIRE_FALSE(eddy::unit_of_work_storage<no_unit_type>);
    STATIC_REQUIRE_FALSE(eddy::unit_of_work_storage<sync_commit>);
    STATIC_REQUIRE_FALSE(eddy::unit_of_work_storage<begin_returns_other>);
    STATIC_REQUIRE_FALSE(eddy::unit_of_work_storage<commit_by_reference>);
    STATIC_REQUIRE_FALSE(eddy::unit_of_work_storage<immovable_unit_storage>);
    STATIC_REQUIRE_FALSE(eddy::unit_of_work_storage<int>);
}
