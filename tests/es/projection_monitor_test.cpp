// Tests of eddy::projection_monitor: checkpoint, lag, handled count and last progress reported
// by the projector (sequential and parallel), at exact virtual times; an idle projection is
// not late; an empty clock is bad input.
#include <eddy/es/projection_monitor.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/es/memory_checkpoint_store.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/es/projector.hpp>

namespace {

struct pinged {
    static constexpr std::string_view event_name = "pinged";
    int n = 0;
};
using events = std::variant<pinged>;
using store_type = eddy::memory_event_store<events>;
using envelope = eddy::event_envelope<events>;

struct counter {
    int count = 0;
    std::string_view name() const { return "counter"; }
    void handle(const envelope&) { ++count; }
};

void ping(store_type& store, int n) {
    eddy::sync_wait(
        store.append("s-" + std::to_string(n % 3), eddy::expected_version::any(), {pinged{n}}));
}

} // namespace

TEST_CASE("projection_monitor: progress, lag and last progress from the projector",
          "[es][projection_monitor]") {
    using namespace std::chrono_literals;
    eddy::virtual_time_scheduler vt;
    eddy::projection_monitor monitor([&vt] { return vt.now(); });
    store_type store;
    eddy::memory_checkpoint_store checkpoints;
    eddy::projector proj(store, checkpoints);
    const auto t0 = vt.now();

    eddy::projection_status s = monitor.status(0);
    REQUIRE(s.checkpoint == 0);
    REQUIRE(s.lag == 0);
    REQUIRE(s.handled == 0);

    for (int i = 1; i <= 3; ++i) {
        ping(store, i);
    }
    vt.advance(2s);
    s = monitor.status(store.last_position());
    REQUIRE(s.lag == 3);
    REQUIRE(s.last_progress == t0);
    REQUIRE(s.since_progress == 2s);
    REQUIRE(s.stalled(2s));
    REQUIRE_FALSE(s.stalled(3s));

    counter c;
    REQUIRE(eddy::sync_wait(proj.catch_up(c, monitor)) == 3);
    s = monitor.status(store.last_position());
    REQUIRE(s.checkpoint == 3);
    REQUIRE(s.head == 3);
    REQUIRE(s.lag == 0);
    REQUIRE(s.handled == 3);
    REQUIRE(s.last_progress == t0 + 2s);

    vt.advance(10s);
    s = monitor.status(store.last_position()); // idle, caught up: not late
    REQUIRE(s.since_progress == 0s);
    REQUIRE(s.last_progress == t0 + 12s);
    ping(store, 4);
    vt.advance(1s);
    s = monitor.status(store.last_position());
    REQUIRE(s.lag == 1);
    REQUIRE(s.since_progress == 1s);
    REQUIRE_FALSE(s.stalled(2s));

    REQUIRE_THROWS_AS(eddy::projection_monitor({}), eddy::error);
}

TEST_CASE("projection_monitor: catch_up_parallel reports the contiguous checkpoint",
          "[es][projection_monitor][concurrency]") {
    eddy::thread_pool pool(2);
    eddy::projection_monitor monitor([] { return std::chrono::steady_clock::now(); });
    store_type store;
    eddy::memory_checkpoint_store checkpoints;
    eddy::projector proj(store, checkpoints);
    for (int i = 1; i <= 60; ++i) {
        ping(store, i);
    }
    struct atomic_counter {
        std::atomic<int> count{0};
        std::string_view name() const { return "atomic_counter"; }
        void handle(const envelope&) { ++count; }
    } c;
    REQUIRE(eddy::sync_wait(proj.catch_up_parallel(c, pool, 3, 4, &monitor)) == 60);
    const eddy::projection_status s = monitor.status(store.last_position());
    REQUIRE(s.checkpoint == 60);
    REQUIRE(s.lag == 0);
    REQUIRE(s.handled == 60);
    REQUIRE(c.count == 60);
}
