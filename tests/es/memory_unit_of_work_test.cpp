// Tests of eddy::memory_unit_of_work on its own: empty until something is added, an empty
// callback is bad input, moving keeps the intents, dropping discards them.
#include <eddy/es/memory_unit_of_work.hpp>

#include <catch2/catch.hpp>

#include <utility>

#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/es/memory_checkpoint_store.hpp>
#include <eddy/es/memory_storage.hpp>

TEST_CASE("memory_unit_of_work: collects intents; moved units keep them",
          "[es][memory_unit_of_work]") {
    eddy::memory_storage storage;
    eddy::memory_checkpoint_store checkpoints(storage);
    eddy::memory_unit_of_work unit = storage.begin();
    REQUIRE(unit.empty());
    REQUIRE_THROWS_AS(unit.on_commit({}), eddy::error);
    REQUIRE(unit.empty());
    int calls = 0;
    unit.on_commit([&calls] { ++calls; });
    checkpoints.save_checkpoint(unit, "p", 3);
    REQUIRE_FALSE(unit.empty());

    eddy::memory_unit_of_work moved = std::move(unit);
    REQUIRE(calls == 0);
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("p")) == 0);
    eddy::sync_wait(storage.commit(std::move(moved)));
    REQUIRE(calls == 1);
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("p")) == 3);

    {
        eddy::memory_unit_of_work dropped = storage.begin();
        dropped.on_commit([&calls] { ++calls; });
        checkpoints.save_checkpoint(dropped, "p", 4);
    }
    REQUIRE(calls == 1);
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("p")) == 3);
}
