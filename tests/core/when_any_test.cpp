// Tests of eddy::when_any: the first child to finish wins (index and value, or its exception);
// the losers are cancelled and waited for, their results and exceptions discarded; a loser that
// ignores stop delays the result; the vector form (values, void, empty is an error); the
// caller's stop token; frame lifetime; children racing on a thread_pool.
#include <eddy/core/when_any.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/scheduler.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>

#include <support/counted.hpp>
#include <support/thread_pool_tasks.hpp>
#include <support/virtual_time_tasks.hpp>

using namespace std::chrono_literals;
using eddy::task;
using eddy::virtual_time_scheduler;
using eddy::test::cancelled_pool_wait;
using eddy::test::counted;
using namespace eddy::test::virtual_time;

namespace {

// What a child saw: whether its wait was cancelled and when (in virtual time) it finished.
struct probe {
    bool finished = false;
    bool cancelled = false;
    time_point at{};
};

// Waits `d` and returns `v`; records how the wait ended; a cancelled wait rethrows.
template <class T>
task<T> value_after(virtual_time_scheduler& vt, duration d, T v, probe* p) {
    bool cancelled = false;
    try {
        co_await vt.schedule_after(d);
    } catch (const eddy::operation_cancelled&) {
        cancelled = true;
    }
    p->finished = true;
    p->cancelled = cancelled;
    p->at = vt.now();
    if (cancelled) {
        throw eddy::operation_cancelled();
    }
    co_return v;
}

task<void> void_after(virtual_time_scheduler& vt, duration d, probe* p) {
    bool cancelled = false;
    try {
        co_await vt.schedule_after(d);
    } catch (const eddy::operation_cancelled&) {
        cancelled = true;
    }
    p->finished = true;
    p->cancelled = cancelled;
    p->at = vt.now();
    if (cancelled) {
        throw eddy::operation_cancelled();
    }
}

// A loser that reacts to cancellation with an exception of its own.
task<int> fail_when_cancelled(virtual_time_scheduler& vt, duration d, probe* p) {
    bool cancelled = false;
    try {
        co_await vt.schedule_after(d);
    } catch (const eddy::operation_cancelled&) {
        cancelled = true;
    }
    p->finished = true;
    p->cancelled = cancelled;
    p->at = vt.now();
    throw std::logic_error("loser failed");
}

// Waits `d` on a stop source of its own, so a stop request on its token does not end the wait.
task<int> ignore_stop(virtual_time_scheduler& vt, duration d, int v, probe* p) {
    std::stop_source own;
    co_await eddy::with_stop_token(sleep_on(vt, d), own.get_token());
    p->finished = true;
    p->at = vt.now();
    co_return v;
}

task<int> fail_ignoring_stop(virtual_time_scheduler& vt, duration d) {
    std::stop_source own;
    co_await eddy::with_stop_token(sleep_on(vt, d), own.get_token());
    throw std::runtime_error("loser failed late");
}

} // namespace

TEST_CASE("when_any: the first to finish wins; the losers are cancelled and waited for",
          "[core][when_any]") {
    virtual_time_scheduler vt;
    probe a;
    probe b;
    probe c;
    auto result = vt.run(eddy::when_any(value_after(vt, 3s, 1, &a),
                                        value_after(vt, 1s, std::string("fast"), &b),
                                        void_after(vt, 2s, &c)));
    STATIC_REQUIRE(
        std::is_same_v<decltype(result), std::variant<int, std::string, std::monostate>>);
    REQUIRE(result.index() == 1);
    REQUIRE(std::get<1>(result) == "fast");

    REQUIRE(b.finished);
    REQUIRE_FALSE(b.cancelled);
    // The losers saw their waits cancelled at the winner's deadline, and when_any waited for
    // them: no timer is left and the clock stopped there.
    REQUIRE(a.cancelled);
    REQUIRE(a.at == epoch + 1s);
    REQUIRE(c.cancelled);
    REQUIRE(c.at == epoch + 1s);
    REQUIRE(vt.now() == epoch + 1s);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("when_any: the index tells apart children of the same type", "[core][when_any]") {
    virtual_time_scheduler vt;
    probe a;
    probe b;
    probe c;
    auto result = vt.run(eddy::when_any(value_after(vt, 2s, 10, &a), value_after(vt, 3s, 20, &b),
                                        value_after(vt, 1s, 30, &c)));
    REQUIRE(result.index() == 2);
    REQUIRE(std::get<2>(result) == 30);
    REQUIRE(a.cancelled);
    REQUIRE(b.cancelled);
}

TEST_CASE("when_any: children completing synchronously", "[core][when_any]") {
    virtual_time_scheduler vt;

    SECTION("the first of several ready children wins") {
        auto result = eddy::sync_wait(eddy::when_any(ready(1), ready(2)));
        REQUIRE(result.index() == 0);
        REQUIRE(std::get<0>(result) == 1);
    }

    SECTION("a ready child beats an earlier, suspended one, which is cancelled") {
        probe slow;
        auto result = vt.run(eddy::when_any(value_after(vt, 1h, 1, &slow), ready(2)));
        REQUIRE(result.index() == 1);
        REQUIRE(std::get<1>(result) == 2);
        REQUIRE(slow.cancelled);
        REQUIRE(vt.now() == epoch);
        REQUIRE(vt.pending_timers() == 0);
    }
}

TEST_CASE("when_any: a reference result is a reference_wrapper to the object", "[core][when_any]") {
    virtual_time_scheduler vt;
    probe p;
    int x = 3;
    auto result = vt.run(eddy::when_any(reference_to(&x), value_after(vt, 1s, 1, &p)));
    STATIC_REQUIRE(
        std::is_same_v<decltype(result), std::variant<std::reference_wrapper<int>, int>>);
    REQUIRE(result.index() == 0);
    REQUIRE(&std::get<0>(result).get() == &x);
}

TEST_CASE("when_any: a timer as a child makes a timeout", "[core][when_any]") {
    virtual_time_scheduler vt;
    probe work;
    auto result = vt.run(eddy::when_any(eddy::sleep_for(vt, 5s), value_after(vt, 1h, 1, &work)));
    REQUIRE(result.index() == 0);
    REQUIRE(work.cancelled);
    REQUIRE(vt.now() == epoch + 5s);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("when_any rethrows the winner's exception after the losers finished",
          "[core][when_any]") {
    virtual_time_scheduler vt;
    probe loser;
    probe stubborn;
    REQUIRE_THROWS_WITH(
        vt.run(eddy::when_any(value_after(vt, 1h, 1, &loser), fail_after(vt, 1s, "winner failed"),
                              ignore_stop(vt, 2s, 3, &stubborn))),
        "winner failed");
    REQUIRE(loser.cancelled);
    REQUIRE(loser.at == epoch + 1s);
    REQUIRE(stubborn.finished);
    REQUIRE(vt.now() == epoch + 2s);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("when_any discards the losers' exceptions", "[core][when_any]") {
    virtual_time_scheduler vt;
    probe winner;
    probe loser;
    auto result =
        vt.run(eddy::when_any(fail_when_cancelled(vt, 1h, &loser), value_after(vt, 1s, 7, &winner),
                              fail_ignoring_stop(vt, 2s)));
    REQUIRE(result.index() == 1);
    REQUIRE(std::get<1>(result) == 7);
    REQUIRE(loser.cancelled);        // then threw std::logic_error, discarded
    REQUIRE(vt.now() == epoch + 2s); // the late failure was waited for, then discarded
}

TEST_CASE("when_any: a loser that ignores stop delays the result until it ends",
          "[core][when_any]") {
    virtual_time_scheduler vt;
    probe winner;
    probe stubborn;
    auto result =
        vt.run(eddy::when_any(ignore_stop(vt, 5s, 1, &stubborn), value_after(vt, 1s, 2, &winner)));
    REQUIRE(result.index() == 1);
    REQUIRE(std::get<1>(result) == 2);
    REQUIRE(winner.at == epoch + 1s);
    REQUIRE(stubborn.finished);
    REQUIRE(stubborn.at == epoch + 5s);
    REQUIRE(vt.now() == epoch + 5s);
}

TEST_CASE("when_any over a vector yields the winner's index and value", "[core][when_any]") {
    virtual_time_scheduler vt;
    std::vector<probe> probes(6);

    SECTION("values") {
        const std::vector<duration> deadlines{6s, 5s, 4s, 2s, 3s, 3s};
        std::vector<task<int>> work;
        for (std::size_t i = 0; i < probes.size(); ++i) {
            work.push_back(value_after(vt, deadlines[i], static_cast<int>(i) * 100, &probes[i]));
        }
        eddy::when_any_result<int> result = vt.run(eddy::when_any(std::move(work)));
        REQUIRE(result.index == 3);
        REQUIRE(result.value == 300);
        for (std::size_t i = 0; i < probes.size(); ++i) {
            REQUIRE(probes[i].cancelled == (i != 3));
        }
        REQUIRE(vt.now() == epoch + 2s);
        REQUIRE(vt.pending_timers() == 0);
    }

    SECTION("void: the index only") {
        std::vector<task<void>> work;
        for (std::size_t i = 0; i < probes.size(); ++i) {
            work.push_back(void_after(vt, std::chrono::seconds(10 - i), &probes[i]));
        }
        eddy::when_any_result<void> result = vt.run(eddy::when_any(std::move(work)));
        REQUIRE(result.index == probes.size() - 1);
        REQUIRE(vt.now() == epoch + std::chrono::seconds(10 - (probes.size() - 1)));
        REQUIRE(vt.pending_timers() == 0);
    }

    SECTION("the winner's exception") {
        std::vector<task<int>> work;
        work.push_back(value_after(vt, 1h, 1, &probes[0]));
        work.push_back(fail_after(vt, 1min, "vector winner failed"));
        REQUIRE_THROWS_WITH(vt.run(eddy::when_any(std::move(work))), "vector winner failed");
        REQUIRE(probes[0].cancelled);
    }

    SECTION("a single awaitable") {
        std::vector<task<int>> work;
        work.push_back(value_after(vt, 1s, 5, &probes[0]));
        auto result = vt.run(eddy::when_any(std::move(work)));
        REQUIRE(result.index == 0);
        REQUIRE(result.value == 5);
    }
}

TEST_CASE("when_any over an empty vector throws eddy::error when awaited", "[core][when_any]") {
    auto lazy = eddy::when_any(std::vector<task<int>>{}); // lazy: creating it does not throw
    REQUIRE_THROWS_AS(eddy::sync_wait(std::move(lazy)), eddy::error);
    REQUIRE_THROWS_WITH(eddy::sync_wait(eddy::when_any(std::vector<task<void>>{})),
                        Catch::Contains("empty"));
}

TEST_CASE("when_any forwards the caller's stop request to its children", "[core][when_any]") {
    virtual_time_scheduler vt;
    std::stop_source source;
    probe a;
    probe b;
    auto guarded = eddy::with_stop_token(
        eddy::when_any(value_after(vt, 1h, 1, &a), value_after(vt, 2h, 2, &b)), source.get_token());

    SECTION("while the children wait: every child is cancelled; the first to end decides") {
        auto ended = eddy::when_any(std::move(guarded), request_stop_after(vt, 10min, source));
        // The stopper finishes first (index 1), at 10 min, and the cancelled guarded when_any
        // is waited for.
        auto result = vt.run(std::move(ended));
        REQUIRE(result.index() == 1);
        REQUIRE(a.cancelled);
        REQUIRE(b.cancelled);
        REQUIRE(a.at == epoch + 10min);
        REQUIRE(vt.now() == epoch + 10min);
    }

    SECTION("before it starts: the winner is a cancelled child, rethrown") {
        source.request_stop();
        REQUIRE_THROWS_AS(vt.run(std::move(guarded)), eddy::operation_cancelled);
        REQUIRE(a.cancelled);
        REQUIRE(b.cancelled);
        REQUIRE(vt.now() == epoch);
    }
}

TEST_CASE("when_any destroys every child frame", "[core][when_any]") {
    virtual_time_scheduler vt;
    counted::reset();

    SECTION("variadic") {
        auto result = vt.run(
            eddy::when_any(holds_counted(vt, 2s, counted{}), holds_counted(vt, 1s, counted{})));
        REQUIRE(result.index() == 1);
    }

    SECTION("vector") {
        std::vector<task<int>> work;
        for (int i = 0; i < 10; ++i) {
            work.push_back(holds_counted(vt, std::chrono::seconds(10 - i), counted{}));
        }
        auto result = vt.run(eddy::when_any(std::move(work)));
        REQUIRE(result.index == 9);
    }

    SECTION("never awaited") {
        auto any = eddy::when_any(holds_counted(vt, 1s, counted{}));
        REQUIRE(counted::alive() > 0);
    }
    REQUIRE(counted::constructed() > 0);
    REQUIRE(counted::alive() == 0);
}

// ---------------------------------------------------------------------------------------------
// On a thread_pool: children race on different threads.

namespace {

// Hops until its token is stopped (or a bound is reached); counts itself when it ends.
task<int> hop_until_stopped(eddy::thread_pool& pool, int id, int limit,
                            std::atomic<int>* finished) {
    for (int hops = 0; hops < limit; ++hops) {
        std::stop_token token = co_await eddy::get_stop_token();
        if (token.stop_requested()) {
            finished->fetch_add(1, std::memory_order_relaxed);
            throw eddy::operation_cancelled();
        }
        co_await pool.schedule();
    }
    finished->fetch_add(1, std::memory_order_relaxed);
    co_return id;
}

} // namespace

TEST_CASE("when_any on a thread_pool: exactly one winner, every loser waited for",
          "[core][when_any][concurrency]") {
    eddy::thread_pool pool(4);
    for (int round = 0; round < 20; ++round) {
        std::atomic<int> finished{0};
        std::vector<task<int>> work;
        constexpr int n = 8;
        for (int i = 0; i < n; ++i) {
            // Child 0 needs few hops and usually wins; the others would run long unless stopped.
            work.push_back(hop_until_stopped(pool, i, i == 0 ? 2 : 100000, &finished));
        }
        auto result = eddy::sync_wait(eddy::when_any(std::move(work)));
        REQUIRE(result.index < static_cast<std::size_t>(n));
        REQUIRE(result.value == static_cast<int>(result.index));
        REQUIRE(finished.load() == n);
    }
}

TEST_CASE("when_any on a thread_pool: a timer child cancelled by the winner",
          "[core][when_any][concurrency]") {
    eddy::thread_pool pool(2);
    std::atomic<int> finished{0};
    auto result = eddy::sync_wait(
        eddy::when_any(cancelled_pool_wait(pool, 1h), hop_until_stopped(pool, 7, 3, &finished)));
    REQUIRE(result.index() == 1);
    REQUIRE(std::get<1>(result) == 7);
}

namespace {
eddy::task<int> answer_after(eddy::virtual_time_scheduler& vt, std::chrono::seconds d, int v) {
    co_await vt.schedule_after(d);
    co_return v;
}
int global_value = 5;
eddy::task<int&> global_ref() { co_return global_value; }
} // namespace

TEST_CASE("when_any takes a scheduler's timer awaiter directly, as a timeout", "[core][when_any]") {
    eddy::virtual_time_scheduler vt;
    using namespace std::chrono_literals;
    auto r = vt.run(eddy::when_any(vt.schedule_after(5s), answer_after(vt, 10s, 1)));
    REQUIRE(r.index() == 0);
    REQUIRE(vt.now() == eddy::virtual_time_scheduler::time_point{} + 5s);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("when_all over a vector of reference tasks yields reference wrappers",
          "[core][when_all]") {
    std::vector<eddy::task<int&>> refs;
    refs.push_back(global_ref());
    refs.push_back(global_ref());
    auto results = eddy::sync_wait(eddy::when_all(std::move(refs)));
    REQUIRE(results.size() == 2);
    REQUIRE(&results[0].get() == &global_value);
    REQUIRE(&results[1].get() == &global_value);
}
