// Tests of eddy::virtual_time_scheduler: the clock (start, advance, advance_to never going
// back), FIFO ready work, timers in deadline order (FIFO among equal deadlines) each seeing
// now() == its deadline, run() jumping the clock and returning or rethrowing, deadlock
// detection, cancellation of timed waits (before and while waiting), cancellation of pending
// timers on destruction, and a long backoff running in no real time.
#include <eddy/core/virtual_time_scheduler.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <coroutine>
#include <ostream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <eddy/core/async_scope.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/task.hpp>

#include <support/counted.hpp>
#include <support/virtual_time_tasks.hpp>

using namespace std::chrono_literals;
using eddy::task;
using eddy::virtual_time_scheduler;
using eddy::test::counted;
using namespace eddy::test::virtual_time;

namespace {

// One resumption: who resumed and what the clock said then.
struct event {
    int id;
    time_point at;
    bool operator==(const event&) const = default;
};

std::ostream& operator<<(std::ostream& out, const event& e) {
    return out << "{id " << e.id << " at " << (e.at - epoch).count() << "ns}";
}

task<void> hop_and_record(virtual_time_scheduler& vt, int id, std::vector<event>* log) {
    co_await vt.schedule();
    log->push_back({id, vt.now()});
}

task<void> wait_and_record(virtual_time_scheduler& vt, duration d, int id,
                           std::vector<event>* log) {
    co_await vt.schedule_after(d);
    log->push_back({id, vt.now()});
}

task<void> wait_until_and_record(virtual_time_scheduler& vt, time_point t, int id,
                                 std::vector<event>* log) {
    co_await vt.schedule_at(t);
    log->push_back({id, vt.now()});
}

task<void> wait_twice(virtual_time_scheduler& vt, duration d, std::vector<event>* log) {
    co_await vt.schedule_after(d);
    log->push_back({0, vt.now()});
    co_await vt.schedule_after(d);
    log->push_back({1, vt.now()});
}

task<std::string> ready_text() { co_return "ready"; }

task<int> fail_after(virtual_time_scheduler& vt, duration d) {
    co_await vt.schedule_after(d);
    throw std::runtime_error("failed in virtual time");
}

// Records whether the wait was cancelled and when it ended.
struct outcome {
    bool finished = false;
    bool cancelled = false;
    time_point at{};
};

task<void> wait_observed(virtual_time_scheduler& vt, duration d, outcome* out) {
    bool cancelled = false;
    try {
        co_await vt.schedule_after(d);
    } catch (const eddy::operation_cancelled&) {
        cancelled = true;
    }
    out->finished = true;
    out->cancelled = cancelled;
    out->at = vt.now();
}

// Suspends the awaiting coroutine and never resumes it: a deadlock.
struct suspend_forever {
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<>) const noexcept { return true; }
    void await_resume() const noexcept {}
};

task<int> blocked_forever(counted c) {
    counted local;
    co_await suspend_forever{};
    co_return c.id() + local.id();
}

// Retries with exponential backoff: waits 1 h, 2 h, 4 h, ... `attempts` times; returns the
// total waited.
task<duration> backoff(virtual_time_scheduler& vt, int attempts) {
    duration delay = 1h;
    duration total{};
    for (int i = 0; i < attempts; ++i) {
        co_await vt.schedule_after(delay);
        total += delay;
        delay *= 2;
    }
    co_return total;
}

} // namespace

TEST_CASE("virtual_time_scheduler: the clock starts at the epoch or the given start",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler at_epoch;
    REQUIRE(at_epoch.now() == epoch);
    REQUIRE(at_epoch.pending_timers() == 0);
    REQUIRE(at_epoch.run_until_idle() == 0);

    const time_point start = epoch + 1000h;
    virtual_time_scheduler later(start);
    REQUIRE(later.now() == start);
    std::vector<event> log;
    later.run(wait_and_record(later, 5s, 1, &log));
    REQUIRE(log == std::vector<event>{{1, start + 5s}});
}

TEST_CASE("virtual_time_scheduler: schedule() resumes in FIFO order, without moving the clock",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler vt;
    eddy::async_scope scope;
    std::vector<event> log;
    for (int id = 0; id < 5; ++id) {
        scope.spawn(hop_and_record(vt, id, &log));
    }
    REQUIRE(log.empty()); // queued, not run: work runs only inside run*/advance*
    REQUIRE(vt.run_until_idle() == 5);
    REQUIRE(log == std::vector<event>{{0, epoch}, {1, epoch}, {2, epoch}, {3, epoch}, {4, epoch}});
    REQUIRE(vt.run_until_idle() == 0);
    vt.run(scope.join());
}

TEST_CASE("virtual_time_scheduler: timers fire in deadline order, FIFO among equal deadlines",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler vt;
    eddy::async_scope scope;
    std::vector<event> log;
    scope.spawn(wait_and_record(vt, 3s, 0, &log));
    scope.spawn(wait_and_record(vt, 1s, 1, &log));
    scope.spawn(wait_and_record(vt, 2s, 2, &log));
    scope.spawn(wait_and_record(vt, 1s, 3, &log));
    scope.spawn(wait_until_and_record(vt, epoch + 2s, 4, &log));
    scope.spawn(wait_and_record(vt, 0s, 5, &log));
    scope.spawn(wait_and_record(vt, -5s, 6, &log)); // a negative delay is due at once
    REQUIRE(vt.pending_timers() == 7);

    vt.run(scope.join());
    REQUIRE(log == std::vector<event>{{5, epoch},
                                      {6, epoch},
                                      {1, epoch + 1s},
                                      {3, epoch + 1s},
                                      {2, epoch + 2s},
                                      {4, epoch + 2s},
                                      {0, epoch + 3s}});
    REQUIRE(vt.now() == epoch + 3s);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("virtual_time_scheduler: advance fires only the timers due, each at its deadline",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler vt;
    eddy::async_scope scope;
    std::vector<event> log;
    scope.spawn(wait_and_record(vt, 10s, 0, &log));
    scope.spawn(wait_and_record(vt, 3s, 1, &log));
    scope.spawn(wait_and_record(vt, 5s, 2, &log));

    vt.advance(2s);
    REQUIRE(log.empty());
    REQUIRE(vt.now() == epoch + 2s);
    REQUIRE(vt.pending_timers() == 3);

    vt.advance(3s); // to 5 s: the 3 s and the 5 s timers are due (a deadline equal to the
                    // target is due)
    REQUIRE(log == std::vector<event>{{1, epoch + 3s}, {2, epoch + 5s}});
    REQUIRE(vt.now() == epoch + 5s);
    REQUIRE(vt.pending_timers() == 1);

    vt.advance(0s);
    REQUIRE(log.size() == 2);

    vt.advance_to(epoch + 20s);
    REQUIRE(log.back() == event{0, epoch + 10s});
    REQUIRE(vt.now() == epoch + 20s);
    REQUIRE(vt.pending_timers() == 0);
    vt.run(scope.join());
}

TEST_CASE("virtual_time_scheduler: a timer armed while advancing fires if due on the way",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler vt;
    eddy::async_scope scope;
    std::vector<event> log;
    // Waits 1 s, then 1 s again: both are due within one advance of 5 s.
    scope.spawn(wait_twice(vt, 1s, &log));
    vt.advance(5s);
    REQUIRE(log == std::vector<event>{{0, epoch + 1s}, {1, epoch + 2s}});
    REQUIRE(vt.now() == epoch + 5s);
    vt.run(scope.join());
}

TEST_CASE("virtual_time_scheduler: advance_to never moves the clock backwards",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler vt(epoch + 1h);
    vt.advance_to(epoch + 30min);
    REQUIRE(vt.now() == epoch + 1h);
    vt.advance(-10min);
    REQUIRE(vt.now() == epoch + 1h);
    vt.advance_to(epoch + 2h);
    REQUIRE(vt.now() == epoch + 2h);
}

TEST_CASE("virtual_time_scheduler: run jumps to the next deadline and returns or rethrows",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler vt;

    SECTION("a value") {
        REQUIRE(vt.run(value_after(vt, 90min, 7)) == 7);
        REQUIRE(vt.now() == epoch + 90min);
    }

    SECTION("an exception") {
        REQUIRE_THROWS_WITH(vt.run(fail_after(vt, 1h)), "failed in virtual time");
        REQUIRE(vt.now() == epoch + 1h);
    }

    SECTION("a synchronous result needs no scheduling") {
        REQUIRE(vt.run(ready_text()) == "ready");
        REQUIRE(vt.now() == epoch);
    }

    SECTION("a reference result") {
        int x = 1;
        int& r = vt.run(reference_to(&x));
        REQUIRE(&r == &x);
    }

    SECTION("other work runs meanwhile; run stops when the awaitable is done") {
        eddy::async_scope scope;
        std::vector<event> log;
        scope.spawn(wait_and_record(vt, 1s, 0, &log));
        scope.spawn(wait_and_record(vt, 1h, 1, &log));
        REQUIRE(vt.run(value_after(vt, 10s, 3)) == 3);
        REQUIRE(log == std::vector<event>{{0, epoch + 1s}});
        REQUIRE(vt.now() == epoch + 10s);
        REQUIRE(vt.pending_timers() == 1);
        vt.run(scope.join());
        REQUIRE(log.back() == event{1, epoch + 1h});
    }
}

TEST_CASE("virtual_time_scheduler: run on a deadlocked awaitable throws eddy::error",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler vt;

    SECTION("an awaiter that never resumes") {
        REQUIRE_THROWS_AS(vt.run(suspend_forever{}), eddy::error);
        REQUIRE_THROWS_WITH(vt.run(suspend_forever{}), Catch::Contains("deadlock"));
    }

    SECTION("a task blocked on it; its frames are destroyed") {
        counted::reset();
        REQUIRE_THROWS_WITH(vt.run(blocked_forever(counted{})), Catch::Contains("deadlock"));
        REQUIRE(counted::constructed() > 0);
        REQUIRE(counted::alive() == 0);
    }
}

TEST_CASE("virtual_time_scheduler: a stop request before the wait cancels it without suspending",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler vt;
    eddy::async_scope scope;
    std::stop_source source;
    source.request_stop();
    outcome out;
    scope.spawn(eddy::with_stop_token(wait_observed(vt, 1h, &out), source.get_token()));
    // spawn ran the task until its first suspension: it finished there, cancelled, without
    // arming a timer or queuing anything on the scheduler.
    REQUIRE(out.finished);
    REQUIRE(out.cancelled);
    REQUIRE(out.at == epoch);
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(vt.run_until_idle() == 0);
    vt.run(scope.join());
}

TEST_CASE("virtual_time_scheduler: a stop request while waiting resumes the waiter cancelled, "
          "at the current virtual time",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler vt;
    eddy::async_scope scope;
    std::stop_source source;
    outcome cancelled;
    outcome unaffected;
    scope.spawn(eddy::with_stop_token(wait_observed(vt, 1h, &cancelled), source.get_token()));
    scope.spawn(wait_observed(vt, 2h, &unaffected));
    vt.advance(10min);
    REQUIRE(vt.pending_timers() == 2);

    source.request_stop();
    REQUIRE(vt.pending_timers() == 1); // the timer is removed at once
    REQUIRE_FALSE(cancelled.finished); // and the waiter resumes on the scheduler, not inline
    REQUIRE(vt.run_until_idle() == 1);
    REQUIRE(cancelled.finished);
    REQUIRE(cancelled.cancelled);
    REQUIRE(cancelled.at == epoch + 10min);

    source.request_stop(); // a second request changes nothing
    vt.run(scope.join());
    REQUIRE(unaffected.finished);
    REQUIRE_FALSE(unaffected.cancelled);
    REQUIRE(unaffected.at == epoch + 2h);
}

TEST_CASE("virtual_time_scheduler: a stop request after the timer fired changes nothing",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler vt;
    eddy::async_scope scope;
    std::stop_source source;
    outcome out;
    scope.spawn(eddy::with_stop_token(wait_observed(vt, 1s, &out), source.get_token()));
    vt.advance(1s);
    REQUIRE(out.finished);
    source.request_stop();
    REQUIRE(vt.run_until_idle() == 0);
    REQUIRE_FALSE(out.cancelled);
    vt.run(scope.join());
}

TEST_CASE("virtual_time_scheduler: destruction cancels pending timers and resumes their waiters",
          "[core][virtual_time_scheduler]") {
    eddy::async_scope scope; // outlives the scheduler: its work finishes during destruction
    std::vector<outcome> outcomes(3);
    {
        virtual_time_scheduler vt;
        scope.spawn(wait_observed(vt, 1h, &outcomes[0]));
        scope.spawn(wait_observed(vt, 2h, &outcomes[1]));
        scope.spawn(wait_observed(vt, 1s, &outcomes[2]));
        vt.advance(1s);
        REQUIRE(outcomes[2].finished);
        REQUIRE(vt.pending_timers() == 2);
        REQUIRE_FALSE(outcomes[0].finished);
    }
    int cancelled = 0;
    for (const outcome& o : outcomes) {
        REQUIRE(o.finished);
        cancelled += o.cancelled ? 1 : 0;
    }
    REQUIRE(cancelled == 2);
    REQUIRE(outcomes[0].at == epoch + 1s); // cancelled at the time of destruction
    // Nothing is left running: join completes at once.
    auto join = scope.join();
    REQUIRE(join.await_ready());
}

TEST_CASE("virtual_time_scheduler: an exponential backoff of hours runs without real waiting",
          "[core][virtual_time_scheduler]") {
    virtual_time_scheduler vt;
    // 1 h + 2 h + ... + 512 h = 1023 h, across ten timers.
    const duration total = vt.run(backoff(vt, 10));
    REQUIRE(total == 1023h);
    REQUIRE(vt.now() == epoch + 1023h);
    REQUIRE(vt.pending_timers() == 0);
}
