// eddy::outbox_listener: unregisters once, when reset, destroyed or assigned over; moves carry
// the registration; the stores' on_enqueue calls stop with it.
#include <eddy/outbox/outbox_listener.hpp>

#include <catch2/catch.hpp>

#include <utility>

#include <eddy/core/sync_wait.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/outbox/memory_outbox_store.hpp>

TEST_CASE("outbox_listener unregisters exactly once", "[outbox][outbox_listener]") {
    int removed = 0;
    SECTION("when destroyed") {
        {
            eddy::outbox_listener l([&removed] { ++removed; });
        }
        REQUIRE(removed == 1);
    }
    SECTION("when reset, and not again when destroyed") {
        {
            eddy::outbox_listener l([&removed] { ++removed; });
            REQUIRE(static_cast<bool>(l));
            l.reset();
            REQUIRE(removed == 1);
            REQUIRE_FALSE(static_cast<bool>(l));
            l.reset();
        }
        REQUIRE(removed == 1);
    }
    SECTION("a move carries the registration") {
        {
            eddy::outbox_listener a([&removed] { ++removed; });
            eddy::outbox_listener b(std::move(a));
            REQUIRE_FALSE(static_cast<bool>(a)); // NOLINT(bugprone-use-after-move): asserted
            a.reset();                           // NOLINT(bugprone-use-after-move)
            REQUIRE(removed == 0);
        }
        REQUIRE(removed == 1);
    }
    SECTION("assigning over a listener unregisters what it held") {
        int other = 0;
        eddy::outbox_listener a([&removed] { ++removed; });
        a = eddy::outbox_listener([&other] { ++other; });
        REQUIRE(removed == 1);
        REQUIRE(other == 0);
        a = eddy::outbox_listener();
        REQUIRE(other == 1);
    }
}

TEST_CASE("memory_outbox_store: on_enqueue calls stop when its listener is reset",
          "[outbox][outbox_listener]") {
    eddy::memory_storage storage;
    eddy::memory_outbox_store<int> outbox(storage);
    int calls = 0;
    eddy::outbox_listener l = outbox.on_enqueue([&calls] { ++calls; });
    auto enqueue_one = [&] {
        eddy::outbox_message<int> m;
        m.topic = "t";
        m.aggregate_id = "a";
        auto unit = storage.begin();
        outbox.enqueue(unit, {m});
        eddy::sync_wait(storage.commit(std::move(unit)));
    };
    enqueue_one();
    REQUIRE(calls == 1);
    l.reset();
    enqueue_one();
    REQUIRE(calls == 1);
}
