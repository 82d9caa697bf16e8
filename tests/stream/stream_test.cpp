// Tests of eddy::stream<T>: laziness, order, end, exceptions, frame lifetime, move-only values
// and copy budgets, stack depth, producers on another thread, stop tokens.
#include <eddy/stream/stream.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>

#include <support/copy_move_tracker.hpp>
#include <support/counted.hpp>
#include <support/stream_consumers.hpp>
#include <support/virtual_time_tasks.hpp>

using eddy::stream;
using eddy::task;
using eddy::test::copy_move_tracker;
using eddy::test::counted;
using namespace std::chrono_literals;

using eddy::test::drain;
using eddy::test::is;

namespace {

stream<int> count_to(int n, bool* started) {
    *started = true;
    for (int i = 1; i <= n; ++i) {
        co_yield i;
    }
}

stream<int> count_to(int n) {
    for (int i = 1; i <= n; ++i) {
        co_yield i;
    }
}

// Pulls every value (at most `limit`) into a vector; the stream stays owned by the caller.
task<std::vector<int>> pull(stream<int>* s, int limit) {
    std::vector<int> out;
    for (int i = 0; i < limit; ++i) {
        std::optional<int> v = co_await s->next();
        if (!v) {
            break;
        }
        out.push_back(*v);
    }
    co_return out;
}

task<std::optional<int>> next_of(stream<int>* s) {
    std::optional<int> v = co_await s->next();
    co_return v;
}

stream<int> one_then_throw() {
    co_yield 1;
    throw std::runtime_error("producer failed");
}

stream<int> holds_counted(counted parameter) {
    counted local;
    co_yield parameter.id();
    co_yield local.id();
    co_yield 99;
}

stream<std::unique_ptr<int>> boxes(int n) {
    for (int i = 0; i < n; ++i) {
        co_yield std::make_unique<int>(i);
    }
}

task<int> sum_boxes(stream<std::unique_ptr<int>> s) {
    int total = 0;
    for (;;) {
        std::optional<std::unique_ptr<int>> v = co_await s.next();
        if (!v) {
            co_return total;
        }
        total += **v;
    }
}

stream<copy_move_tracker> yields_rvalue() { co_yield copy_move_tracker(7); }

stream<copy_move_tracker> yields_lvalue(copy_move_tracker* seen) {
    copy_move_tracker t(8);
    *seen = t; // shares t's record (counts as one copy, subtracted below)
    co_yield t;
}

task<int> value_of_first(stream<copy_move_tracker>* s, copy_move_tracker* out) {
    std::optional<copy_move_tracker> v = co_await s->next();
    *out = std::move(*v);
    co_return v->value();
}

task<long> sum_all(stream<int> s) {
    long total = 0;
    for (;;) {
        std::optional<int> v = co_await s.next();
        if (!v) {
            co_return total;
        }
        total += *v;
    }
}

stream<int> hops_between_yields(eddy::thread_pool* pool, int n) {
    for (int i = 0; i < n; ++i) {
        if (i % 3 != 2) { // two of three values are yielded from a pool thread
            co_await pool->schedule();
        }
        co_yield i;
    }
}

stream<int> waits_an_hour(eddy::virtual_time_scheduler* vt) {
    co_yield 1;
    co_await vt->schedule_after(1h);
    co_yield 2;
}

stream<bool> reports_stop_token() {
    std::stop_token token = co_await eddy::get_stop_token();
    co_yield token.stop_possible();
    co_yield token.stop_requested();
}

task<std::vector<bool>> pull_bools(stream<bool>* s) {
    std::vector<bool> out;
    for (;;) {
        std::optional<bool> v = co_await s->next();
        if (!v) {
            co_return out;
        }
        out.push_back(*v);
    }
}

} // namespace

TEST_CASE("stream: lazy, nothing runs before the first next()", "[stream][stream]") {
    bool started = false;
    stream<int> s = count_to(3, &started);
    REQUIRE(s.valid());
    REQUIRE_FALSE(started);
    REQUIRE(eddy::sync_wait(next_of(&s)) == 1);
    REQUIRE(started);
}

TEST_CASE("stream: values in order, then empty optionals, repeatedly", "[stream][stream]") {
    stream<int> s = count_to(3);
    REQUIRE(eddy::sync_wait(pull(&s, 10)) == std::vector<int>{1, 2, 3});
    REQUIRE_FALSE(eddy::sync_wait(next_of(&s)).has_value());
    REQUIRE_FALSE(eddy::sync_wait(next_of(&s)).has_value());
}

TEST_CASE("stream: a co_yield suspends the producer until the next next()", "[stream][stream]") {
    bool started = false;
    stream<int> s = count_to(5, &started);
    REQUIRE(eddy::sync_wait(pull(&s, 2)) == std::vector<int>{1, 2});
    REQUIRE(eddy::sync_wait(pull(&s, 10)) == std::vector<int>{3, 4, 5});
}

TEST_CASE("stream: the producer's exception is rethrown once, then the stream has ended",
          "[stream][stream]") {
    stream<int> s = one_then_throw();
    REQUIRE(eddy::sync_wait(next_of(&s)) == 1);
    REQUIRE_THROWS_WITH(eddy::sync_wait(next_of(&s)), "producer failed");
    REQUIRE_FALSE(eddy::sync_wait(next_of(&s)).has_value());
    REQUIRE_FALSE(eddy::sync_wait(next_of(&s)).has_value());
}

TEST_CASE("stream: destroying a stream mid-way destroys the producer frame", "[stream][stream]") {
    counted::reset();
    SECTION("never started") {
        { stream<int> s = holds_counted(counted{}); }
        REQUIRE(counted::alive() == 0);
    }
    SECTION("suspended at a co_yield") {
        {
            stream<int> s = holds_counted(counted{});
            REQUIRE(eddy::sync_wait(pull(&s, 2)) == std::vector<int>{0, 1});
            REQUIRE(counted::alive() == 2); // the parameter and the local
        }
        REQUIRE(counted::alive() == 0);
    }
    SECTION("finished") {
        {
            stream<int> s = holds_counted(counted{});
            REQUIRE(eddy::sync_wait(pull(&s, 10)).size() == 3);
        }
        REQUIRE(counted::alive() == 0);
    }
}

TEST_CASE("stream: move-only streams and values", "[stream][stream]") {
    stream<std::unique_ptr<int>> s = boxes(4);
    stream<std::unique_ptr<int>> moved = std::move(s);
    REQUIRE_FALSE(s.valid()); // NOLINT(bugprone-use-after-move): checking the moved-from state
    REQUIRE(eddy::sync_wait(sum_boxes(std::move(moved))) == 0 + 1 + 2 + 3);
    stream<int> empty;
    REQUIRE_FALSE(empty.valid());
}

TEST_CASE("stream: yielded rvalues are moved, never copied; lvalues copied once",
          "[stream][stream]") {
    SECTION("rvalue") {
        stream<copy_move_tracker> s = yields_rvalue();
        copy_move_tracker out;
        REQUIRE(eddy::sync_wait(value_of_first(&s, &out)) == 7);
        REQUIRE(out.copies() == 0);
        REQUIRE(out.moves() == 2); // into the optional, then into `out` by the test
    }
    SECTION("lvalue") {
        copy_move_tracker seen;
        stream<copy_move_tracker> s = yields_lvalue(&seen);
        copy_move_tracker out;
        REQUIRE(eddy::sync_wait(value_of_first(&s, &out)) == 8);
        REQUIRE(out.copies() == 1 + 1); // the copy into the stream, plus the test's `*seen = t`
        REQUIRE(out.moves() == 2);
    }
}

TEST_CASE("stream: a million synchronous pulls run in constant stack", "[stream][stream]") {
    constexpr int n = 1'000'000;
    REQUIRE(eddy::sync_wait(sum_all(count_to(n))) == static_cast<long>(n) * (n + 1) / 2);
}

TEST_CASE("stream: a producer hopping to a thread_pool between yields",
          "[stream][stream][concurrency]") {
    eddy::thread_pool pool(4);
    constexpr int n = 2'000;
    REQUIRE(eddy::sync_wait(sum_all(hops_between_yields(&pool, n))) ==
            static_cast<long>(n) * (n - 1) / 2);
}

TEST_CASE("stream: the consumer's stop token reaches a producer waiting on a timer",
          "[stream][stream]") {
    eddy::virtual_time_scheduler vt;
    std::stop_source source;
    stream<int> s = waits_an_hour(&vt);
    auto [r, stopper] =
        vt.run(eddy::when_all(eddy::with_stop_token(drain(&s), source.get_token()),
                              eddy::test::virtual_time::request_stop_after(vt, 30min, source)));
    REQUIRE(r.values == std::vector<int>{1});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(vt.now() == eddy::virtual_time_scheduler::time_point{} + 30min);
    REQUIRE_FALSE(eddy::sync_wait(next_of(&s)).has_value()); // ended with the exception
}

TEST_CASE("stream: with_stop_token overrides the consumer's token", "[stream][stream]") {
    eddy::virtual_time_scheduler vt;
    std::stop_source source;
    stream<int> s = eddy::with_stop_token(waits_an_hour(&vt), source.get_token());
    auto [r, stopper] = vt.run(
        eddy::when_all(drain(&s), eddy::test::virtual_time::request_stop_after(vt, 10min, source)));
    REQUIRE(r.values == std::vector<int>{1});
    REQUIRE(is<eddy::operation_cancelled>(r.error));
    REQUIRE(vt.now() == eddy::virtual_time_scheduler::time_point{} + 10min);
}

TEST_CASE("stream: the producer's promise exposes the stop token", "[stream][stream]") {
    SECTION("inherited from the awaiting task") {
        std::stop_source source;
        stream<bool> s = reports_stop_token();
        REQUIRE(eddy::sync_wait(eddy::with_stop_token(pull_bools(&s), source.get_token())) ==
                std::vector<bool>{true, false});
    }
    SECTION("none when the awaiter has none") {
        stream<bool> s = reports_stop_token();
        REQUIRE(eddy::sync_wait(pull_bools(&s)) == std::vector<bool>{false, false});
    }
    SECTION("set on the stream") {
        std::stop_source source;
        source.request_stop();
        stream<bool> s = reports_stop_token();
        s.set_stop_token(source.get_token());
        REQUIRE(eddy::sync_wait(pull_bools(&s)) == std::vector<bool>{true, true});
    }
}
