// Tests of eddy::watch_projection in virtual time: a live projection stuck in a handler is
// reported once, at the exact virtual time it has been behind without progress for the
// threshold; not while idle; again after it recovered and stalled anew; bad arguments.
#include <eddy/es/watch_projection.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <eddy/core/async_event.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/es/memory_checkpoint_store.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/es/projector.hpp>

#include <support/detached.hpp>

namespace {

struct pinged {
    static constexpr std::string_view event_name = "pinged";
    bool stuck = false;
};
using events = std::variant<pinged>;
using store_type = eddy::memory_event_store<events>;
using envelope = eddy::event_envelope<events>;

// A read model that hangs on "stuck" events until the test releases them.
struct hanging_projection {
    std::vector<std::unique_ptr<eddy::async_event>>* gates;
    int handled = 0;

    std::string_view name() const { return "hanging"; }
    eddy::task<> handle(envelope e) {
        if (std::get<pinged>(e.payload).stuck) {
            eddy::async_event* gate = (*gates)[static_cast<std::size_t>(handled)].get();
            co_await gate->wait();
        }
        ++handled;
    }
};

eddy::task<> run_projection(eddy::projector<store_type, eddy::memory_checkpoint_store>* proj,
                            hanging_projection* p, eddy::projection_monitor* monitor) {
    co_await proj->run(*p, *monitor);
}

void ping(store_type& store, bool stuck) {
    eddy::sync_wait(store.append("s", eddy::expected_version::any(), {pinged{stuck}}));
}

} // namespace

TEST_CASE("watch_projection: a stalled projection is reported once per stall",
          "[es][watch_projection]") {
    using namespace std::chrono_literals;
    eddy::virtual_time_scheduler vt;
    const auto t0 = vt.now();
    store_type store;
    eddy::memory_checkpoint_store checkpoints;
    eddy::projector proj(store, checkpoints);
    eddy::projection_monitor monitor([&vt] { return vt.now(); });
    std::vector<std::unique_ptr<eddy::async_event>> gates;
    for (int i = 0; i < 8; ++i) {
        gates.push_back(std::make_unique<eddy::async_event>());
    }
    hanging_projection p{&gates};
    std::vector<eddy::projection_status> reports;
    std::vector<std::chrono::steady_clock::time_point> reported_at;

    std::stop_source stop;
    eddy::test::outcome projector_out;
    eddy::test::outcome watch_out;
    ping(store, false); // position 1
    eddy::test::start(eddy::with_stop_token(run_projection(&proj, &p, &monitor), stop.get_token()),
                      &projector_out);
    eddy::test::start(
        eddy::with_stop_token(eddy::watch_projection(
                                  monitor, [&store] { return store.last_position(); }, vt, 1s, 3s,
                                  [&](const eddy::projection_status& s) {
                                      reports.push_back(s);
                                      reported_at.push_back(vt.now());
                                  }),
                              stop.get_token()),
        &watch_out);
    REQUIRE(p.handled == 1);

    vt.advance(10s + 500ms); // idle and caught up: never late
    REQUIRE(reports.empty());
    ping(store, true);  // position 2: the handler hangs
    ping(store, false); // position 3: waits behind it
    REQUIRE(p.handled == 1);
    vt.advance(2s + 400ms); // t = 12.9 s: behind for 2.4 s (last seen caught up at 10 s)
    REQUIRE(reports.empty());
    vt.advance(100ms); // t = 13 s: no progress for 3 s
    REQUIRE(reports.size() == 1);
    REQUIRE(reported_at[0] == t0 + 13s);
    REQUIRE(reports[0].checkpoint == 1);
    REQUIRE(reports[0].lag == 2);
    REQUIRE(reports[0].since_progress == 3s);
    vt.advance(7s); // t = 20 s: still stuck, already reported
    REQUIRE(reports.size() == 1);

    gates[1]->set(); // released: positions 2 and 3 are handled now
    REQUIRE(p.handled == 3);
    REQUIRE(monitor.status(store.last_position()).lag == 0);
    vt.advance(10s); // t = 30 s
    REQUIRE(reports.size() == 1);

    ping(store, true); // position 4 hangs: a new stall
    vt.advance(3s);
    REQUIRE(reports.size() == 2);
    REQUIRE(reported_at[1] == t0 + 33s);
    REQUIRE(reports[1].checkpoint == 3);
    REQUIRE(reports[1].lag == 1);

    gates[3]->set();
    REQUIRE(p.handled == 4);
    stop.request_stop();
    vt.advance(0s); // the watchdog's cancelled timer resumes here
    REQUIRE(projector_out.done);
    REQUIRE(eddy::test::failed_with<eddy::operation_cancelled>(projector_out));
    REQUIRE(watch_out.done);
    REQUIRE(eddy::test::failed_with<eddy::operation_cancelled>(watch_out));
}

TEST_CASE("watch_projection: bad arguments", "[es][watch_projection]") {
    using namespace std::chrono_literals;
    eddy::virtual_time_scheduler vt;
    eddy::projection_monitor monitor([&vt] { return vt.now(); });
    auto head = [] { return std::uint64_t{0}; };
    auto report = [](const eddy::projection_status&) {};
    REQUIRE_THROWS_AS(eddy::watch_projection(monitor, head, vt, 0s, 1s, report), eddy::error);
    REQUIRE_THROWS_AS(eddy::watch_projection(monitor, head, vt, 1s, -1s, report), eddy::error);
    REQUIRE_THROWS_AS(eddy::watch_projection(monitor, {}, vt, 1s, 1s, report), eddy::error);
    REQUIRE_THROWS_AS(eddy::watch_projection(monitor, head, vt, 1s, 1s, {}), eddy::error);
}
