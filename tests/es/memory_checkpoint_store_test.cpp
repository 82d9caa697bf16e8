// Tests of eddy::memory_checkpoint_store: models checkpoint_store; 0 when unknown; per-name
// positions; reset to 0; save count.
#include <eddy/es/memory_checkpoint_store.hpp>

#include <catch2/catch.hpp>

#include <eddy/core/sync_wait.hpp>

TEST_CASE("memory_checkpoint_store: positions by name", "[es][memory_checkpoint_store]") {
    STATIC_REQUIRE(eddy::checkpoint_store<eddy::memory_checkpoint_store>);
    eddy::memory_checkpoint_store store;
    REQUIRE(eddy::sync_wait(store.load_checkpoint("p")) == 0);
    eddy::sync_wait(store.save_checkpoint("p", 5));
    eddy::sync_wait(store.save_checkpoint("q", 2));
    REQUIRE(eddy::sync_wait(store.load_checkpoint("p")) == 5);
    REQUIRE(eddy::sync_wait(store.load_checkpoint("q")) == 2);
    eddy::sync_wait(store.save_checkpoint("p", 0)); // a replay starts over
    REQUIRE(eddy::sync_wait(store.load_checkpoint("p")) == 0);
    REQUIRE(store.saves() == 3);
}
