// Tests of eddy::memory_snapshot_store: models snapshot_store; missing is empty; the latest
// snapshot per stream; an older one arriving late is ignored; tasks outlive the store object.
#include <eddy/es/memory_snapshot_store.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <utility>

#include <eddy/core/sync_wait.hpp>

TEST_CASE("memory_snapshot_store: save and load the latest per stream",
          "[es][memory_snapshot_store]") {
    STATIC_REQUIRE(eddy::snapshot_store<eddy::memory_snapshot_store<std::string>>);
    eddy::memory_snapshot_store<std::string> store;
    REQUIRE_FALSE(eddy::sync_wait(store.load_snapshot("a")).has_value());
    eddy::sync_wait(store.save_snapshot("a", {5, 1, "five"}));
    eddy::sync_wait(store.save_snapshot("b", {2, 1, "b-two"}));
    eddy::sync_wait(store.save_snapshot("a", {9, 2, "nine"}));
    auto a = eddy::sync_wait(store.load_snapshot("a"));
    REQUIRE(a.has_value());
    REQUIRE(a->version == 9);
    REQUIRE(a->schema_version == 2);
    REQUIRE(a->state == "nine");
    REQUIRE(eddy::sync_wait(store.load_snapshot("b"))->state == "b-two");
    eddy::sync_wait(store.save_snapshot("a", {7, 2, "late"})); // older: ignored
    REQUIRE(eddy::sync_wait(store.load_snapshot("a"))->state == "nine");
    REQUIRE(store.saves() == 3);
}

TEST_CASE("memory_snapshot_store: a task outlives the store object",
          "[es][memory_snapshot_store]") {
    eddy::task<void> save;
    eddy::task<std::optional<eddy::snapshot<int>>> load;
    {
        eddy::memory_snapshot_store<int> store;
        save = store.save_snapshot("a", {1, 1, 42});
        load = store.load_snapshot("a");
    }
    eddy::sync_wait(std::move(save)); // the shared state is still alive
    auto snap = eddy::sync_wait(std::move(load));
    REQUIRE(snap.has_value());
    REQUIRE(snap->state == 42);
}
