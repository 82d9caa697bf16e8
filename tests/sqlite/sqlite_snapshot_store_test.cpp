// Tests of eddy::sqlite_snapshot_store: the snapshot_store concept; save and load with every
// field through the JSON codec; a late older save does not replace a newer snapshot; kinds
// apart; snapshots survive a reopen; an undecodable state is a decode_error.
#include <eddy/sqlite/sqlite_snapshot_store.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/es/decode_error.hpp>
#include <eddy/es/snapshot_store.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>

#include <sqlite/temp_dir.hpp>

namespace {

struct cart {
    int items = 0;
    std::string owner;
    friend bool operator==(const cart&, const cart&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(cart, items, owner)

using store_type = eddy::sqlite_snapshot_store<cart>;
using eddy::test::sqlite::temp_dir;

eddy::snapshot<cart> snap(std::uint64_t version, int items, std::uint32_t schema = 1) {
    return eddy::snapshot<cart>{version, schema, cart{items, "ann"}};
}

} // namespace

TEST_CASE("sqlite_snapshot_store models eddy::snapshot_store", "[sqlite][sqlite_snapshot_store]") {
    STATIC_REQUIRE(eddy::snapshot_store<store_type>);
    STATIC_REQUIRE_FALSE(eddy::snapshot_store<eddy::sqlite_storage>);
}

TEST_CASE("sqlite_snapshot_store: save, load, newer wins, kinds apart, across a reopen",
          "[sqlite][sqlite_snapshot_store]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    const std::string path = dir.file("snap.db");
    {
        eddy::sqlite_storage db(path, s);
        store_type carts(db, "cart");
        store_type other(db, "other");
        REQUIRE_FALSE(eddy::sync_wait(carts.load_snapshot("c1")));
        eddy::sync_wait(carts.save_snapshot("c1", snap(5, 2, 3)));
        auto loaded = eddy::sync_wait(carts.load_snapshot("c1"));
        REQUIRE(loaded);
        REQUIRE(loaded->version == 5);
        REQUIRE(loaded->schema_version == 3);
        REQUIRE(loaded->state == cart{2, "ann"});
        eddy::sync_wait(carts.save_snapshot("c1", snap(4, 99))); // late and older: dropped
        REQUIRE(eddy::sync_wait(carts.load_snapshot("c1"))->state.items == 2);
        eddy::sync_wait(carts.save_snapshot("c1", snap(9, 7)));
        REQUIRE(eddy::sync_wait(carts.load_snapshot("c1"))->version == 9);
        REQUIRE_FALSE(eddy::sync_wait(other.load_snapshot("c1")));
    }
    eddy::sqlite_storage db(path, s);
    store_type carts(db, "cart");
    REQUIRE(eddy::sync_wait(carts.load_snapshot("c1"))->state == cart{7, "ann"});

    sqlite3* raw = nullptr;
    sqlite3_open(path.c_str(), &raw);
    sqlite3_exec(raw, "UPDATE eddy_snapshots SET state = '[1,2]'", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
    REQUIRE_THROWS_AS(eddy::sync_wait(carts.load_snapshot("c1")), eddy::decode_error);
}
