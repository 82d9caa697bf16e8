// Tests of eddy::async_scope: spawn runs work eagerly until its first suspension; join waits for
// all of it (including work spawned meanwhile), completes at once when nothing is pending and
// can be repeated; exceptions (join rethrows the first, failures() counts all, an error handler
// sees each instead); request_stop cancels spawned work; frames are destroyed; a spawn at the
// instant a join completes; 10,000 tasks on a thread_pool each finish exactly once.
#include <eddy/core/async_scope.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

#include <support/counted.hpp>
#include <support/virtual_time_tasks.hpp>

using namespace std::chrono_literals;
using eddy::async_scope;
using eddy::task;
using eddy::virtual_time_scheduler;
using eddy::test::counted;
using eddy::test::virtual_time::duration;
using eddy::test::virtual_time::epoch;
using eddy::test::virtual_time::time_point;

namespace {

// Marks each step it reaches: before and after its first suspension.
struct steps {
    bool started = false;
    bool resumed = false;
};

task<void> two_steps(virtual_time_scheduler& vt, steps* s) {
    s->started = true;
    co_await vt.schedule();
    s->resumed = true;
}

task<void> finish_after(virtual_time_scheduler& vt, duration d, std::vector<time_point>* ends) {
    co_await vt.schedule_after(d);
    ends->push_back(vt.now());
}

task<void> fail_after(virtual_time_scheduler& vt, duration d, std::string what) {
    co_await vt.schedule_after(d);
    throw std::runtime_error(what);
}

task<void> fail_at_once(std::string what) {
    throw std::runtime_error(what);
    co_return;
}

task<void> count_cancellation(virtual_time_scheduler& vt, duration d, int* cancelled) {
    try {
        co_await vt.schedule_after(d);
    } catch (const eddy::operation_cancelled&) {
        ++*cancelled;
    }
}

task<void> wait_uncaught(virtual_time_scheduler& vt, duration d) { co_await vt.schedule_after(d); }

// Spawns a second piece of work into the same scope after a delay (work spawned meanwhile).
task<void> spawn_later(async_scope* scope, virtual_time_scheduler& vt,
                       std::vector<time_point>* ends) {
    co_await vt.schedule_after(1s);
    scope->spawn(finish_after(vt, 5s, ends));
    ends->push_back(vt.now());
}

task<void> holds_counted(virtual_time_scheduler& vt, duration d, counted c) {
    counted local;
    co_await vt.schedule_after(d);
    if (c.id() < 0 || local.id() < 0) {
        throw std::logic_error("ids are never negative");
    }
}

task<void> fails_holding_counted(virtual_time_scheduler& vt, duration d, counted c) {
    counted local;
    co_await vt.schedule_after(d);
    if (c.id() >= 0) {
        throw std::runtime_error("failed holding counted objects");
    }
}

std::string message_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    }
}

} // namespace

TEST_CASE("async_scope: spawn runs the work at once until its first suspension",
          "[core][async_scope]") {
    virtual_time_scheduler vt;
    async_scope scope;
    steps s;
    scope.spawn(two_steps(vt, &s));
    REQUIRE(s.started);
    REQUIRE_FALSE(s.resumed);
    vt.run(scope.join());
    REQUIRE(s.resumed);
}

TEST_CASE("async_scope: join waits for every piece of work", "[core][async_scope]") {
    virtual_time_scheduler vt;
    async_scope scope;
    std::vector<time_point> ends;
    scope.spawn(finish_after(vt, 3s, &ends));
    scope.spawn(finish_after(vt, 1s, &ends));
    scope.spawn(finish_after(vt, 2h, &ends));
    vt.run(scope.join());
    REQUIRE(ends == std::vector<time_point>{epoch + 1s, epoch + 3s, epoch + 2h});
    REQUIRE(vt.now() == epoch + 2h);
}

TEST_CASE("async_scope: join waits for work spawned while it waits", "[core][async_scope]") {
    virtual_time_scheduler vt;
    async_scope scope;
    std::vector<time_point> ends;
    scope.spawn(spawn_later(&scope, vt, &ends));
    vt.run(scope.join());
    REQUIRE(ends == std::vector<time_point>{epoch + 1s, epoch + 6s});
    REQUIRE(vt.now() == epoch + 6s);
}

TEST_CASE("async_scope: join with nothing pending completes at once", "[core][async_scope]") {
    async_scope scope;
    REQUIRE(scope.join().await_ready());
    eddy::sync_wait(scope.join()); // no scheduler involved: completes inline

    SECTION("including when all spawned work already finished") {
        scope.spawn(fail_at_once("x"));
        REQUIRE(scope.join().await_ready());
        REQUIRE_THROWS_WITH(eddy::sync_wait(scope.join()), "x");
    }
}

TEST_CASE("async_scope: join can be repeated", "[core][async_scope]") {
    virtual_time_scheduler vt;
    async_scope scope;
    std::vector<time_point> ends;
    scope.spawn(finish_after(vt, 1s, &ends));
    vt.run(scope.join());
    REQUIRE(ends.size() == 1);

    vt.run(scope.join()); // nothing pending
    REQUIRE(vt.now() == epoch + 1s);

    scope.spawn(finish_after(vt, 1s, &ends));
    scope.spawn(finish_after(vt, 2s, &ends));
    vt.run(scope.join());
    REQUIRE(ends == std::vector<time_point>{epoch + 1s, epoch + 2s, epoch + 3s});
}

TEST_CASE("async_scope: join rethrows the first exception; failures() counts all",
          "[core][async_scope]") {
    virtual_time_scheduler vt;
    async_scope scope;
    std::vector<time_point> ends;
    scope.spawn(fail_after(vt, 2s, "second"));
    scope.spawn(fail_after(vt, 1s, "first"));
    scope.spawn(finish_after(vt, 3s, &ends));
    scope.spawn(fail_after(vt, 4s, "third"));
    REQUIRE(scope.failures() == 0);

    REQUIRE_THROWS_WITH(vt.run(scope.join()), "first");
    REQUIRE(scope.failures() == 3);
    // join waited for everything, failures included.
    REQUIRE(ends == std::vector<time_point>{epoch + 3s});
    REQUIRE(vt.now() == epoch + 4s);

    // The rethrown exception was handed over: the next join does not rethrow it again.
    REQUIRE_NOTHROW(vt.run(scope.join()));
    scope.spawn(fail_at_once("later"));
    REQUIRE_THROWS_WITH(vt.run(scope.join()), "later");
    REQUIRE(scope.failures() == 4);
}

TEST_CASE("async_scope: with an error handler, join does not rethrow and the handler sees each",
          "[core][async_scope]") {
    virtual_time_scheduler vt;
    std::vector<std::string> seen;
    async_scope scope([&seen](std::exception_ptr e) { seen.push_back(message_of(e)); });
    scope.spawn(fail_after(vt, 2s, "b"));
    scope.spawn(fail_at_once("a"));
    scope.spawn(fail_after(vt, 3s, "c"));
    REQUIRE(seen == std::vector<std::string>{"a"}); // on the thread where it escaped: here

    REQUIRE_NOTHROW(vt.run(scope.join()));
    REQUIRE(seen == std::vector<std::string>{"a", "b", "c"});
    REQUIRE(scope.failures() == 3);
}

TEST_CASE("async_scope: request_stop cancels spawned work waiting on timers",
          "[core][async_scope]") {
    virtual_time_scheduler vt;
    async_scope scope;
    int cancelled = 0;
    scope.spawn(count_cancellation(vt, 1h, &cancelled));
    scope.spawn(count_cancellation(vt, 2h, &cancelled));
    scope.spawn(wait_uncaught(vt, 3h));
    vt.advance(1min);
    REQUIRE(vt.pending_timers() == 3);

    scope.request_stop();
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE_THROWS_AS(vt.run(scope.join()), eddy::operation_cancelled); // the uncaught one
    REQUIRE(cancelled == 2);
    REQUIRE(scope.failures() == 1);
    REQUIRE(vt.now() == epoch + 1min);

    SECTION("work spawned after the request is cancelled as it waits") {
        scope.spawn(count_cancellation(vt, 1h, &cancelled));
        REQUIRE(cancelled == 3); // at once, inside spawn
        REQUIRE(vt.pending_timers() == 0);
        vt.run(scope.join());
    }

    SECTION("work with a token of its own is not cancelled") {
        std::stop_source own;
        scope.spawn(eddy::with_stop_token(count_cancellation(vt, 1h, &cancelled), own.get_token()));
        vt.run(scope.join());
        REQUIRE(cancelled == 2);
        REQUIRE(vt.now() == epoch + 1min + 1h);
    }
}

TEST_CASE("async_scope: spawned frames are all destroyed", "[core][async_scope]") {
    counted::reset();
    virtual_time_scheduler vt;
    async_scope scope;
    for (int i = 0; i < 20; ++i) {
        scope.spawn(holds_counted(vt, std::chrono::seconds(i), counted{}));
    }
    scope.spawn(fails_holding_counted(vt, 5s, counted{}));
    REQUIRE(counted::alive() > 0);
    REQUIRE_THROWS_AS(vt.run(scope.join()), std::runtime_error);
    REQUIRE(counted::constructed() > 0);
    REQUIRE(counted::alive() == 0);
}

namespace {

task<void> hop_and_count(virtual_time_scheduler& vt, int* done) {
    co_await vt.schedule();
    ++*done;
}

// A coroutine to stand in as the continuation of a join. Each time it is resumed it counts the
// resumption; the first time it also runs `m_between` (another thread acting at exactly that
// instant) and then continues `m_next`, the real awaiter. Resuming it again is well defined (it
// only counts), so a join that resumes its continuation twice shows up as a count of 2.
class relay {
public:
    struct promise_type {
        int m_resumptions = 0;
        std::function<void()> m_between;
        std::coroutine_handle<> m_next;

        relay get_return_object() noexcept {
            return relay{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }
    };

    struct hand_off {
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) {
            promise_type& p = h.promise();
            if (++p.m_resumptions == 1) {
                p.m_between();
                return p.m_next;
            }
            return std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };

    explicit relay(std::coroutine_handle<promise_type> coro) noexcept : m_coro(coro) {}
    relay(relay&& other) noexcept : m_coro(std::exchange(other.m_coro, {})) {}
    relay& operator=(relay&&) = delete;
    ~relay() {
        if (m_coro) {
            m_coro.destroy();
        }
    }

    [[nodiscard]] promise_type& promise() const { return m_coro.promise(); }
    [[nodiscard]] std::coroutine_handle<promise_type> handle() const { return m_coro; }

private:
    std::coroutine_handle<promise_type> m_coro;
};

relay make_relay() {
    for (;;) {
        co_await relay::hand_off{};
    }
}

// Awaits a join with the relay as the join's continuation.
struct join_through_relay {
    async_scope::join_awaiter m_join;
    std::coroutine_handle<relay::promise_type> m_relay;

    bool await_ready() const noexcept { return m_join.await_ready(); }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
        m_relay.promise().m_next = awaiting;
        return m_join.await_suspend(m_relay);
    }
    void await_resume() { m_join.await_resume(); }
};

} // namespace

// A spawn from another thread may land at the very instant the last piece of work finishes and
// hands the waiting join its continuation, before the join's await_resume has run. The relay
// puts a spawn exactly there, deterministically, on one thread. Whether the new work belongs to
// this join or the next, the join's continuation must be resumed once, and once everything has
// finished the scope must be idle (joinable at once, destructible). (An earlier version of the
// header lost the join's count here and resumed the continuation a second time.)
TEST_CASE("async_scope: a spawn at the instant join completes resumes the join once",
          "[core][async_scope]") {
    virtual_time_scheduler vt;
    auto scope = std::make_unique<async_scope>();
    int done = 0;
    scope->spawn(hop_and_count(vt, &done));
    relay continuation = make_relay();
    continuation.promise().m_between = [&scope, &vt, &done] {
        scope->spawn(hop_and_count(vt, &done));
    };
    vt.run(join_through_relay{scope->join(), continuation.handle()});
    vt.run_until_idle();

    const int resumptions = continuation.promise().m_resumptions;
    const bool idle = scope->join().await_ready();
    if (!idle) {
        // Destroying a scope that is not idle terminates the test run; leak it so that the
        // failure is reported instead.
        static_cast<void>(scope.release());
    }
    REQUIRE(done == 2);
    REQUIRE(resumptions == 1);
    REQUIRE(idle);
}

// ---------------------------------------------------------------------------------------------
// On a thread_pool.

namespace {

task<void> hop_and_mark(eddy::thread_pool& pool, std::atomic<int>* mark, counted c) {
    co_await pool.schedule();
    if (c.id() >= 0) {
        mark->fetch_add(1, std::memory_order_relaxed);
    }
}

// Spawns `fanout` more pieces of work into the scope from a pool thread.
task<void> spawn_from_pool(eddy::thread_pool& pool, async_scope* scope, int fanout,
                           std::atomic<int>* marks) {
    co_await pool.schedule();
    for (int i = 0; i < fanout; ++i) {
        scope->spawn(hop_and_mark(pool, &marks[i], counted{}));
    }
}

task<void> fail_on(eddy::thread_pool& pool) {
    co_await pool.schedule();
    throw std::runtime_error("failed on the pool");
}

} // namespace

TEST_CASE("async_scope: 10,000 tasks on a thread_pool of 4 each finish exactly once",
          "[core][async_scope][concurrency]") {
    counted::reset();
    constexpr int n = 10000;
    auto marks = std::make_unique<std::atomic<int>[]>(n);
    eddy::thread_pool pool(4);
    async_scope scope;
    for (int i = 0; i < n; ++i) {
        scope.spawn(hop_and_mark(pool, &marks[i], counted{}));
    }
    eddy::sync_wait(scope.join());
    int exactly_once = 0;
    for (int i = 0; i < n; ++i) {
        exactly_once += marks[i].load() == 1 ? 1 : 0;
    }
    REQUIRE(exactly_once == n);
    REQUIRE(counted::alive() == 0);
    REQUIRE(scope.failures() == 0);
}

TEST_CASE("async_scope: work spawned from pool threads while join waits",
          "[core][async_scope][concurrency]") {
    counted::reset();
    constexpr int spawners = 8;
    constexpr int fanout = 100;
    auto marks = std::make_unique<std::atomic<int>[]>(spawners * fanout);
    eddy::thread_pool pool(4);
    async_scope scope;
    for (int i = 0; i < spawners; ++i) {
        scope.spawn(spawn_from_pool(pool, &scope, fanout, &marks[i * fanout]));
    }
    eddy::sync_wait(scope.join());
    int exactly_once = 0;
    for (int i = 0; i < spawners * fanout; ++i) {
        exactly_once += marks[i].load() == 1 ? 1 : 0;
    }
    REQUIRE(exactly_once == spawners * fanout);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("async_scope: failures on pool threads are counted and the handler sees each",
          "[core][async_scope][concurrency]") {
    eddy::thread_pool pool(4);
    SECTION("join rethrows one of them") {
        async_scope scope;
        for (int i = 0; i < 100; ++i) {
            scope.spawn(fail_on(pool));
        }
        REQUIRE_THROWS_WITH(eddy::sync_wait(scope.join()), "failed on the pool");
        REQUIRE(scope.failures() == 100);
    }

    SECTION("an error handler, called on the pool threads") {
        std::mutex mutex;
        int seen = 0;
        async_scope scope([&](std::exception_ptr e) {
            const std::string what = message_of(e);
            std::lock_guard lock(mutex);
            seen += what == "failed on the pool" ? 1 : 0;
        });
        for (int i = 0; i < 100; ++i) {
            scope.spawn(fail_on(pool));
        }
        eddy::sync_wait(scope.join());
        REQUIRE(scope.failures() == 100);
        std::lock_guard lock(mutex);
        REQUIRE(seen == 100);
    }
}
