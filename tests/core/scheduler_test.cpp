// Tests of the eddy::scheduler concept (every eddy scheduler models it; archetypes missing
// schedule, schedule_after or now, or with the wrong now, do not) and of sleep_for on each
// scheduler.
#include <eddy/core/scheduler.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <coroutine>
#include <stop_token>
#include <thread>

#include <eddy/core/error.hpp>
#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

using namespace std::chrono_literals;
using eddy::task;

namespace {

using clock = std::chrono::steady_clock;

// Archetypes: each differs from a minimal scheduler in one way.
struct minimal {
    std::suspend_never schedule() { return {}; }
    std::suspend_never schedule_after(clock::duration) { return {}; }
    clock::time_point now() const { return {}; }
};
struct no_schedule {
    std::suspend_never schedule_after(clock::duration) { return {}; }
    clock::time_point now() const { return {}; }
};
struct no_schedule_after {
    std::suspend_never schedule() { return {}; }
    clock::time_point now() const { return {}; }
};
struct no_now {
    std::suspend_never schedule() { return {}; }
    std::suspend_never schedule_after(clock::duration) { return {}; }
};
struct now_of_another_clock {
    std::suspend_never schedule() { return {}; }
    std::suspend_never schedule_after(clock::duration) { return {}; }
    std::chrono::system_clock::time_point now() const { return {}; }
};
struct now_not_const {
    std::suspend_never schedule() { return {}; }
    std::suspend_never schedule_after(clock::duration) { return {}; }
    clock::time_point now() { return {}; }
};
struct schedule_not_awaitable {
    int schedule() { return 0; }
    std::suspend_never schedule_after(clock::duration) { return {}; }
    clock::time_point now() const { return {}; }
};
struct schedule_after_not_awaitable {
    std::suspend_never schedule() { return {}; }
    int schedule_after(clock::duration) { return 0; }
    clock::time_point now() const { return {}; }
};
struct schedule_after_without_duration {
    std::suspend_never schedule() { return {}; }
    std::suspend_never schedule_after() { return {}; }
    clock::time_point now() const { return {}; }
};

task<bool> sleep_then_on_pool(eddy::thread_pool& pool, clock::duration d) {
    co_await eddy::sleep_for(pool, d);
    co_return pool.on_pool_thread();
}

} // namespace

TEST_CASE("scheduler concept: eddy's schedulers model it", "[core][scheduler]") {
    STATIC_REQUIRE(eddy::scheduler<eddy::thread_pool>);
    STATIC_REQUIRE(eddy::scheduler<eddy::inline_scheduler>);
    STATIC_REQUIRE(eddy::scheduler<eddy::virtual_time_scheduler>);
    STATIC_REQUIRE(eddy::scheduler<minimal>);
}

TEST_CASE("scheduler concept: archetypes missing a member do not model it", "[core][scheduler]") {
    STATIC_REQUIRE_FALSE(eddy::scheduler<no_schedule>);
    STATIC_REQUIRE_FALSE(eddy::scheduler<no_schedule_after>);
    STATIC_REQUIRE_FALSE(eddy::scheduler<no_now>);
    STATIC_REQUIRE_FALSE(eddy::scheduler<now_of_another_clock>);
    STATIC_REQUIRE_FALSE(eddy::scheduler<now_not_const>);
    STATIC_REQUIRE_FALSE(eddy::scheduler<schedule_not_awaitable>);
    STATIC_REQUIRE_FALSE(eddy::scheduler<schedule_after_not_awaitable>);
    STATIC_REQUIRE_FALSE(eddy::scheduler<schedule_after_without_duration>);
    STATIC_REQUIRE_FALSE(eddy::scheduler<int>);
}

TEST_CASE("sleep_for on a virtual_time_scheduler advances virtual time only", "[core][scheduler]") {
    eddy::virtual_time_scheduler vt;
    vt.run(eddy::sleep_for(vt, 3h));
    REQUIRE(vt.now() == eddy::virtual_time_scheduler::time_point{} + 3h);

    std::stop_source source;
    source.request_stop();
    REQUIRE_THROWS_AS(vt.run(eddy::with_stop_token(eddy::sleep_for(vt, 1h), source.get_token())),
                      eddy::operation_cancelled);
    REQUIRE(vt.now() == eddy::virtual_time_scheduler::time_point{} + 3h);
}

TEST_CASE("sleep_for on an inline_scheduler blocks at least the duration", "[core][scheduler]") {
    eddy::inline_scheduler s;
    const clock::time_point before = clock::now();
    eddy::sync_wait(eddy::sleep_for(s, 2ms));
    REQUIRE(clock::now() - before >= 2ms);

    std::stop_source source;
    source.request_stop();
    REQUIRE_THROWS_AS(
        eddy::sync_wait(eddy::with_stop_token(eddy::sleep_for(s, 1h), source.get_token())),
        eddy::operation_cancelled);
}

TEST_CASE("sleep_for on a thread_pool resumes on a pool thread after the duration",
          "[core][scheduler][concurrency]") {
    eddy::thread_pool pool(2);
    const clock::time_point before = clock::now();
    REQUIRE(eddy::sync_wait(sleep_then_on_pool(pool, 2ms)));
    REQUIRE(clock::now() - before >= 2ms);

    std::stop_source source;
    source.request_stop();
    REQUIRE_THROWS_AS(
        eddy::sync_wait(eddy::with_stop_token(eddy::sleep_for(pool, 1h), source.get_token())),
        eddy::operation_cancelled);
}
