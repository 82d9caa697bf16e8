// Tests of eddy::when_all: results in argument order (values, void, references, move-only) and
// in input order for the vector form; failure (stop requested on the siblings, the first
// exception rethrown only once every child has finished); the caller's stop token; frame
// lifetime and copy budgets; children finishing on the threads of a thread_pool.
#include <eddy/core/when_all.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

#include <support/copy_move_tracker.hpp>
#include <support/counted.hpp>
#include <support/thread_pool_tasks.hpp>
#include <support/virtual_time_tasks.hpp>

using namespace std::chrono_literals;
using eddy::task;
using eddy::virtual_time_scheduler;
using eddy::test::cancelled_pool_wait;
using eddy::test::copy_move_tracker;
using eddy::test::counted;
using namespace eddy::test::virtual_time;

namespace {

// What a child saw: whether its wait was cancelled, whether its token was stopped, and when
// (in virtual time) it finished.
struct probe {
    bool finished = false;
    bool cancelled = false;
    bool saw_stop = false;
    time_point at{};
};

task<void> nothing_after(virtual_time_scheduler& vt, duration d, int* ran) {
    co_await vt.schedule_after(d);
    ++*ran;
}

task<std::unique_ptr<int>> owned_after(virtual_time_scheduler& vt, int v) {
    co_await vt.schedule();
    co_return std::make_unique<int>(v);
}

task<std::string> text_after(virtual_time_scheduler& vt, duration d, std::string s) {
    co_await vt.schedule_after(d);
    co_return s;
}

// Waits `d`; records whether the wait was cancelled and when it ended, then rethrows a
// cancellation (a child that gives up).
task<int> wait_and_record(virtual_time_scheduler& vt, duration d, probe* p, int v) {
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

// Waits `d` on a stop source of its own, so a stop request on its token does not end the wait;
// then records whether its token had been stopped meanwhile.
task<int> ignore_stop(virtual_time_scheduler& vt, duration d, probe* p, int v) {
    std::stop_source own;
    co_await eddy::with_stop_token(sleep_on(vt, d), own.get_token());
    std::stop_token token = co_await eddy::get_stop_token();
    p->finished = true;
    p->saw_stop = token.stop_requested();
    p->at = vt.now();
    co_return v;
}

// Throws `what` once `d` has passed, even if stop is requested meanwhile.
task<int> fail_ignoring_stop(virtual_time_scheduler& vt, duration d, std::string what) {
    std::stop_source own;
    co_await eddy::with_stop_token(sleep_on(vt, d), own.get_token());
    throw std::runtime_error(what);
}

// True when the wait of `d` ended by cancellation.
task<bool> cancelled_wait(virtual_time_scheduler& vt, duration d) {
    bool cancelled = false;
    try {
        co_await vt.schedule_after(d);
    } catch (const eddy::operation_cancelled&) {
        cancelled = true;
    }
    co_return cancelled;
}

task<int> fails_holding_counted(virtual_time_scheduler& vt, duration d, counted c) {
    counted local;
    co_await vt.schedule_after(d);
    if (c.id() >= 0) {
        throw std::runtime_error("failed while holding counted objects");
    }
    co_return local.id();
}

task<copy_move_tracker> pass_through(copy_move_tracker t) { co_return std::move(t); }

} // namespace

TEST_CASE("when_all yields a tuple in argument order with mixed result types", "[core][when_all]") {
    virtual_time_scheduler vt;
    int x = 5;
    int ran = 0;
    // The children finish at 3 s, 1 s, at once, on the next tick and at once: not in
    // argument order.
    auto result = vt.run(eddy::when_all(value_after(vt, 3s, 1), nothing_after(vt, 1s, &ran),
                                        reference_to(&x), owned_after(vt, 4), ready(9)));
    STATIC_REQUIRE(
        std::is_same_v<decltype(result),
                       std::tuple<int, std::monostate, int&, std::unique_ptr<int>, int>>);
    REQUIRE(std::get<0>(result) == 1);
    REQUIRE(ran == 1);
    REQUIRE(&std::get<2>(result) == &x);
    REQUIRE(std::get<3>(result) != nullptr);
    REQUIRE(*std::get<3>(result) == 4);
    REQUIRE(std::get<4>(result) == 9);
    REQUIRE(vt.now() == epoch + 3s); // the last child decides when when_all finishes
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("when_all is lazy: no child starts before it is awaited", "[core][when_all]") {
    virtual_time_scheduler vt;
    int ran = 0;
    auto all = eddy::when_all(nothing_after(vt, 0s, &ran), nothing_after(vt, 0s, &ran));
    REQUIRE(vt.pending_timers() == 0);
    REQUIRE(vt.run_until_idle() == 0);
    vt.run(std::move(all));
    REQUIRE(ran == 2);
}

TEST_CASE("when_all of children that all complete synchronously does not suspend",
          "[core][when_all]") {
    auto [a, b, c] = eddy::sync_wait(eddy::when_all(ready(1), ready(2), ready(3)));
    REQUIRE(a == 1);
    REQUIRE(b == 2);
    REQUIRE(c == 3);

    auto none = eddy::sync_wait(eddy::when_all());
    STATIC_REQUIRE(std::is_same_v<decltype(none), std::tuple<>>);
}

TEST_CASE("when_all over a vector yields results in input order", "[core][when_all]") {
    virtual_time_scheduler vt;

    SECTION("values: later children finish first") {
        std::vector<task<int>> work;
        for (int i = 0; i < 8; ++i) {
            work.push_back(value_after(vt, std::chrono::seconds(8 - i), i * 10));
        }
        std::vector<int> results = vt.run(eddy::when_all(std::move(work)));
        REQUIRE(results == std::vector<int>{0, 10, 20, 30, 40, 50, 60, 70});
        REQUIRE(vt.now() == epoch + 8s);
    }

    SECTION("move-only values") {
        std::vector<task<std::unique_ptr<int>>> work;
        for (int i = 0; i < 4; ++i) {
            work.push_back(owned_after(vt, i));
        }
        std::vector<std::unique_ptr<int>> results = vt.run(eddy::when_all(std::move(work)));
        REQUIRE(results.size() == 4);
        for (int i = 0; i < 4; ++i) {
            REQUIRE(*results[static_cast<std::size_t>(i)] == i);
        }
    }

    SECTION("void: the result is void and every child ran") {
        int ran = 0;
        std::vector<task<void>> work;
        for (int i = 0; i < 5; ++i) {
            work.push_back(nothing_after(vt, std::chrono::seconds(i), &ran));
        }
        auto all = eddy::when_all(std::move(work));
        STATIC_REQUIRE(std::is_void_v<eddy::await_result_t<decltype(all)>>);
        vt.run(std::move(all));
        REQUIRE(ran == 5);
        REQUIRE(vt.now() == epoch + 4s);
    }

    SECTION("empty: an empty result at once, without a scheduler") {
        std::vector<int> results = eddy::sync_wait(eddy::when_all(std::vector<task<int>>{}));
        REQUIRE(results.empty());
        eddy::sync_wait(eddy::when_all(std::vector<task<void>>{}));
        REQUIRE(vt.now() == epoch);
    }
}

TEST_CASE("when_all rethrows the first failure only after every child has finished",
          "[core][when_all]") {
    virtual_time_scheduler vt;
    probe slow;
    probe stubborn;
    // Argument order differs from failure order: "first" fails at 1 s, "second" at 1.5 s.
    auto all = eddy::when_all(fail_ignoring_stop(vt, 1500ms, "second"),
                              wait_and_record(vt, 1h, &slow, 1), fail_after(vt, 1s, "first"),
                              ignore_stop(vt, 2s, &stubborn, 2), text_after(vt, 0s, "done"));
    REQUIRE_THROWS_WITH(vt.run(std::move(all)), "first");

    // The failure at 1 s requested stop: the one-hour wait ended then, cancelled.
    REQUIRE(slow.finished);
    REQUIRE(slow.cancelled);
    REQUIRE(slow.at == epoch + 1s);
    // The child that ignores stop ran to its end and saw the stop request on its token.
    REQUIRE(stubborn.finished);
    REQUIRE(stubborn.saw_stop);
    REQUIRE(stubborn.at == epoch + 2s);
    // when_all finished with its last child, not with the first failure.
    REQUIRE(vt.now() == epoch + 2s);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("when_all: a child failing synchronously stops the children started after it",
          "[core][when_all]") {
    virtual_time_scheduler vt;
    probe later;
    REQUIRE_THROWS_WITH(
        vt.run(eddy::when_all(fail_after(vt, 0s, "at once"), wait_and_record(vt, 1h, &later, 1))),
        "at once");
    REQUIRE(later.cancelled);
    REQUIRE(vt.now() == epoch);
}

TEST_CASE("when_all over a vector rethrows the first failure after all finished",
          "[core][when_all]") {
    virtual_time_scheduler vt;
    probe a;
    probe b;
    std::vector<task<int>> work;
    work.push_back(wait_and_record(vt, 1h, &a, 1));
    work.push_back(fail_ignoring_stop(vt, 3s, "late"));
    work.push_back(fail_after(vt, 2s, "early"));
    work.push_back(ignore_stop(vt, 4s, &b, 2));
    REQUIRE_THROWS_WITH(vt.run(eddy::when_all(std::move(work))), "early");
    REQUIRE(a.cancelled);
    REQUIRE(a.at == epoch + 2s);
    REQUIRE(b.saw_stop);
    REQUIRE(vt.now() == epoch + 4s);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("when_all forwards the caller's stop request to its children", "[core][when_all]") {
    virtual_time_scheduler vt;
    std::stop_source source;

    SECTION("while the children wait") {
        auto guarded = eddy::with_stop_token(
            eddy::when_all(cancelled_wait(vt, 1h), cancelled_wait(vt, 2h)), source.get_token());
        auto [inner, stopper] =
            vt.run(eddy::when_all(std::move(guarded), request_stop_after(vt, 10min, source)));
        REQUIRE(inner == std::tuple{true, true});
        REQUIRE(vt.now() == epoch + 10min);
        REQUIRE(vt.pending_timers() == 0);
    }

    SECTION("requested before when_all starts") {
        source.request_stop();
        auto result = vt.run(eddy::with_stop_token(
            eddy::when_all(cancelled_wait(vt, 1h), cancelled_wait(vt, 2h)), source.get_token()));
        REQUIRE(result == std::tuple{true, true});
        REQUIRE(vt.now() == epoch);
    }

    SECTION("vector form") {
        std::vector<task<bool>> work;
        for (int i = 1; i <= 3; ++i) {
            work.push_back(cancelled_wait(vt, std::chrono::hours(i)));
        }
        auto guarded = eddy::with_stop_token(eddy::when_all(std::move(work)), source.get_token());
        auto [inner, stopper] =
            vt.run(eddy::when_all(std::move(guarded), request_stop_after(vt, 1min, source)));
        REQUIRE(inner == std::vector<bool>{true, true, true});
        REQUIRE(vt.now() == epoch + 1min);
    }
}

TEST_CASE("when_all destroys every child frame", "[core][when_all]") {
    virtual_time_scheduler vt;
    counted::reset();

    SECTION("after success") {
        auto [a, b] = vt.run(
            eddy::when_all(holds_counted(vt, 1s, counted{}), holds_counted(vt, 2s, counted{})));
        REQUIRE(a >= 0);
        REQUIRE(b >= 0);
        REQUIRE(counted::alive() == 0);
    }

    SECTION("after failure") {
        REQUIRE_THROWS_AS(vt.run(eddy::when_all(holds_counted(vt, 1h, counted{}),
                                                fails_holding_counted(vt, 1s, counted{}))),
                          std::runtime_error);
        REQUIRE(counted::alive() == 0);
    }

    SECTION("vector form") {
        std::vector<task<int>> work;
        for (int i = 0; i < 10; ++i) {
            work.push_back(holds_counted(vt, std::chrono::seconds(i), counted{}));
        }
        std::vector<int> results = vt.run(eddy::when_all(std::move(work)));
        REQUIRE(results.size() == 10);
        REQUIRE(counted::alive() == 0);
    }

    SECTION("never awaited") {
        {
            auto all = eddy::when_all(holds_counted(vt, 1s, counted{}));
            REQUIRE(counted::alive() > 0);
        }
        REQUIRE(counted::alive() == 0);
    }
    REQUIRE(counted::constructed() > 0);
}

TEST_CASE("when_all moves results without copying them", "[core][when_all]") {
    copy_move_tracker a(1);
    copy_move_tracker b(2);
    auto [ra, rb] = eddy::sync_wait(eddy::when_all(pass_through(a), pass_through(b)));
    REQUIRE(ra.value() == 1);
    REQUIRE(rb.value() == 2);
    REQUIRE(a.copies() == 1); // the argument copy made by the call above, nothing more
    REQUIRE(b.copies() == 1);

    std::vector<task<copy_move_tracker>> work;
    copy_move_tracker c(3);
    work.push_back(pass_through(std::move(c)));
    std::vector<copy_move_tracker> results = eddy::sync_wait(eddy::when_all(std::move(work)));
    REQUIRE(results.at(0).value() == 3);
    REQUIRE(c.copies() == 0);
}

// ---------------------------------------------------------------------------------------------
// On a thread_pool: children finish on different threads.

namespace {

task<int> square_on(eddy::thread_pool& pool, int i, std::atomic<int>* finished) {
    int local = i; // touched on the awaiting thread and on the pool thread, in order
    for (int hop = 0; hop < 3; ++hop) {
        co_await pool.schedule();
        ++local;
    }
    finished->fetch_add(1, std::memory_order_relaxed);
    co_return (local - 3) * (local - 3);
}

task<void> hop_and_count(eddy::thread_pool& pool, std::atomic<int>* finished) {
    co_await pool.schedule();
    finished->fetch_add(1, std::memory_order_relaxed);
}

task<int> fail_on(eddy::thread_pool& pool, std::atomic<int>* finished) {
    co_await pool.schedule();
    finished->fetch_add(1, std::memory_order_relaxed);
    throw std::runtime_error("failed on the pool");
}

// Hops until its token is stopped (or a bound is reached); counts itself when it ends.
task<int> hop_until_stopped(eddy::thread_pool& pool, std::atomic<int>* finished) {
    int hops = 0;
    for (; hops < 100000; ++hops) {
        std::stop_token token = co_await eddy::get_stop_token();
        if (token.stop_requested()) {
            break;
        }
        co_await pool.schedule();
    }
    finished->fetch_add(1, std::memory_order_relaxed);
    co_return hops;
}

} // namespace

TEST_CASE("when_all on a thread_pool: exact results from many children",
          "[core][when_all][concurrency]") {
    eddy::thread_pool pool(4);
    std::atomic<int> finished{0};

    SECTION("vector form") {
        constexpr int n = 500;
        std::vector<task<int>> work;
        for (int i = 0; i < n; ++i) {
            work.push_back(square_on(pool, i, &finished));
        }
        std::vector<int> squares = eddy::sync_wait(eddy::when_all(std::move(work)));
        REQUIRE(finished.load() == n);
        REQUIRE(squares.size() == static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            REQUIRE(squares[static_cast<std::size_t>(i)] == i * i);
        }
    }

    SECTION("void vector form") {
        std::vector<task<void>> work;
        for (int i = 0; i < 500; ++i) {
            work.push_back(hop_and_count(pool, &finished));
        }
        eddy::sync_wait(eddy::when_all(std::move(work)));
        REQUIRE(finished.load() == 500);
    }

    SECTION("variadic form") {
        auto [a, b, c, d] = eddy::sync_wait(
            eddy::when_all(square_on(pool, 1, &finished), square_on(pool, 2, &finished),
                           hop_and_count(pool, &finished), square_on(pool, 4, &finished)));
        REQUIRE(a == 1);
        REQUIRE(b == 4);
        REQUIRE(c == std::monostate{});
        REQUIRE(d == 16);
        REQUIRE(finished.load() == 4);
    }
}

TEST_CASE("when_all on a thread_pool: a failure stops the others and is rethrown after all",
          "[core][when_all][concurrency]") {
    eddy::thread_pool pool(4);
    std::atomic<int> finished{0};
    std::vector<task<int>> work;
    for (int i = 0; i < 16; ++i) {
        work.push_back(hop_until_stopped(pool, &finished));
    }
    work.push_back(fail_on(pool, &finished));
    REQUIRE_THROWS_WITH(eddy::sync_wait(eddy::when_all(std::move(work))), "failed on the pool");
    REQUIRE(finished.load() == 17);
}

TEST_CASE("when_all on a thread_pool: a stop request from another thread cancels the children",
          "[core][when_all][concurrency]") {
    eddy::thread_pool pool(2);
    std::stop_source source;
    std::vector<task<bool>> work;
    for (int i = 0; i < 8; ++i) {
        work.push_back(cancelled_pool_wait(pool, 1h));
    }
    auto guarded = eddy::with_stop_token(eddy::when_all(std::move(work)), source.get_token());
    // Whether the request lands before, during or after the timers are armed, every wait ends
    // cancelled (and the test does not take an hour).
    std::thread stopper([&source] { source.request_stop(); });
    std::vector<bool> cancelled = eddy::sync_wait(std::move(guarded));
    stopper.join();
    REQUIRE(cancelled == std::vector<bool>(8, true));
}
