// Tests of eddy::retry(policy, scheduler) after eddy::defer, in virtual time: the exact backoff
// schedule, replay on re-subscription, attempts and time budget, non-retryable errors and
// cancellation passing through at once, a stop request during a wait, laziness, lifetime.
#include <eddy/stream/retry.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <eddy/core/async_event.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/retry_policy.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/defer.hpp>
#include <eddy/stream/map.hpp>
#include <eddy/stream/to_vector.hpp>

#include <support/counted.hpp>
#include <support/stream_sources.hpp>
#include <support/virtual_time_tasks.hpp>

using eddy::retry_policy;
using eddy::stream;
using eddy::task;
using eddy::virtual_time_scheduler;
using eddy::test::counted;
using eddy::test::virtual_time::duration;
using eddy::test::virtual_time::epoch;
using eddy::test::virtual_time::request_stop_after;
using eddy::test::virtual_time::time_point;
using namespace std::chrono_literals;

namespace {

// What the subscriptions of a test did: when each started (virtual time).
struct subscription_log {
    std::vector<time_point> subscribed_at;
    [[nodiscard]] int subscriptions() const { return static_cast<int>(subscribed_at.size()); }
};

// Subscription k (1-based) yields 1..emit, then fails with "attempt k" while k <= failures,
// else ends.
stream<int> flaky(virtual_time_scheduler* vt, subscription_log* l, int failures, int emit) {
    l->subscribed_at.push_back(vt->now());
    const int k = l->subscriptions();
    for (int i = 1; i <= emit; ++i) {
        co_yield i;
    }
    if (k <= failures) {
        throw std::runtime_error("attempt " + std::to_string(k));
    }
}

// A factory of flaky subscriptions (not a coroutine itself: it captures).
auto flaky_factory(virtual_time_scheduler* vt, subscription_log* l, int failures, int emit = 0) {
    return [=] { return flaky(vt, l, failures, emit); };
}

template <class E>
stream<int> throws_now(subscription_log* l, virtual_time_scheduler* vt, E e) {
    l->subscribed_at.push_back(vt->now());
    throw e;
    co_return;
}

// Collects values until the end or an error; records the error's message and when it came.
struct outcome {
    std::vector<int> values;
    std::string error;
    bool cancelled = false;
    time_point ended_at;
};

task<outcome> drain(virtual_time_scheduler* vt, stream<int> s) {
    outcome out;
    try {
        for (;;) {
            std::optional<int> v = co_await s.next();
            if (!v) {
                break;
            }
            out.values.push_back(*v);
        }
    } catch (const eddy::operation_cancelled&) {
        out.cancelled = true;
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    out.ended_at = vt->now();
    co_return out;
}

// A subscription that holds a `counted` and waits long between values.
stream<int> slow_counted(virtual_time_scheduler* vt, counted c) {
    for (int i = 1;; ++i) {
        co_await vt->schedule_after(1s);
        co_yield i + 0 * c.id();
    }
}

// Subscription k hops to the pool, yields 10k, then fails while k <= failures, else yields
// 10k + 1 and ends.
stream<int> pool_flaky(eddy::thread_pool* pool, std::atomic<int>* subscriptions, int failures,
                       eddy::async_event* failing) {
    co_await pool->schedule();
    const int k = ++*subscriptions;
    co_yield k * 10;
    if (k <= failures) {
        if (failing != nullptr) {
            failing->set();
        }
        throw std::runtime_error("pool attempt failed");
    }
    co_yield k * 10 + 1;
}

task<std::vector<int>> drain_until_cancelled(stream<int> s, bool* cancelled) {
    std::vector<int> out;
    try {
        for (;;) {
            std::optional<int> v = co_await s.next();
            if (!v) {
                break;
            }
            out.push_back(*v);
        }
    } catch (const eddy::operation_cancelled&) {
        *cancelled = true;
    }
    co_return out;
}

// Requests stop once the first subscription is about to fail (from whichever thread sets it).
task<void> stop_when(eddy::async_event* failing, std::stop_source stop) {
    co_await failing->wait();
    stop.request_stop();
}

} // namespace

TEST_CASE("retry: exact backoff schedule 1s, 2s, 4s, capped at max_interval", "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    const retry_policy p{.initial_interval = 1s, .max_interval = 5s, .max_attempts = 6};
    outcome o = vt.run(drain(&vt, eddy::defer(flaky_factory(&vt, &l, 5, 0)) | eddy::retry(p, vt)));
    // Waits 1s, 2s, 4s, 5s (8s capped), 5s (16s capped); the 6th subscription ends normally.
    REQUIRE(l.subscribed_at == std::vector<time_point>{epoch, epoch + 1s, epoch + 3s, epoch + 7s,
                                                       epoch + 12s, epoch + 17s});
    REQUIRE(o.error.empty());
    REQUIRE(o.values.empty());
    REQUIRE(o.ended_at == epoch + 17s);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("retry: values in order; a subscription that succeeds ends the stream",
          "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    outcome o = vt.run(drain(&vt, eddy::defer(flaky_factory(&vt, &l, 0, 3)) |
                                      eddy::retry(retry_policy{.initial_interval = 1s}, vt)));
    REQUIRE(o.values == std::vector<int>{1, 2, 3});
    REQUIRE(o.error.empty());
    REQUIRE(l.subscriptions() == 1);
    REQUIRE(o.ended_at == epoch);
}

TEST_CASE("retry: a re-subscription replays from its start (emitted values not suppressed)",
          "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    outcome o = vt.run(drain(&vt, eddy::defer(flaky_factory(&vt, &l, 2, 2)) |
                                      eddy::retry(retry_policy{.initial_interval = 1s}, vt)));
    REQUIRE(o.values == std::vector<int>{1, 2, 1, 2, 1, 2});
    REQUIRE(o.error.empty());
    REQUIRE(l.subscribed_at == std::vector<time_point>{epoch, epoch + 1s, epoch + 3s});
}

TEST_CASE("retry: after max_attempts the last error passes through", "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    const retry_policy p{.initial_interval = 1s, .max_attempts = 3};
    outcome o =
        vt.run(drain(&vt, eddy::defer(flaky_factory(&vt, &l, 100, 1)) | eddy::retry(p, vt)));
    REQUIRE(o.values == std::vector<int>{1, 1, 1});
    REQUIRE(o.error == "attempt 3");
    REQUIRE(l.subscribed_at == std::vector<time_point>{epoch, epoch + 1s, epoch + 3s});
    REQUIRE(o.ended_at == epoch + 3s); // no wait after the last attempt
}

TEST_CASE("retry: max_attempts = 1 never retries", "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    outcome o = vt.run(drain(&vt, eddy::defer(flaky_factory(&vt, &l, 100)) |
                                      eddy::retry(retry_policy{.max_attempts = 1}, vt)));
    REQUIRE(o.error == "attempt 1");
    REQUIRE(l.subscriptions() == 1);
    REQUIRE(o.ended_at == epoch);
}

TEST_CASE("retry: max_elapsed stops before a wait that would end past the budget",
          "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    const retry_policy p{.initial_interval = 1s,
                         .max_interval = 1min,
                         .max_attempts = retry_policy::unlimited,
                         .max_elapsed = 6s};
    outcome o = vt.run(drain(&vt, eddy::defer(flaky_factory(&vt, &l, 100)) | eddy::retry(p, vt)));
    // Attempts at 0s, 1s, 3s; the next would start at 7s > 6s: give up at 3s.
    REQUIRE(l.subscribed_at == std::vector<time_point>{epoch, epoch + 1s, epoch + 3s});
    REQUIRE(o.error == "attempt 3");
    REQUIRE(o.ended_at == epoch + 3s);

    // A budget the next attempt starts exactly at is used.
    virtual_time_scheduler vt2;
    subscription_log l2;
    const retry_policy exact{.initial_interval = 1s,
                             .max_interval = 1min,
                             .max_attempts = retry_policy::unlimited,
                             .max_elapsed = 7s};
    outcome o2 =
        vt2.run(drain(&vt2, eddy::defer(flaky_factory(&vt2, &l2, 100)) | eddy::retry(exact, vt2)));
    REQUIRE(l2.subscribed_at == std::vector<time_point>{epoch, epoch + 1s, epoch + 3s, epoch + 7s});
    REQUIRE(o2.error == "attempt 4");
    REQUIRE(o2.ended_at == epoch + 7s);
}

TEST_CASE("retry: max_elapsed is measured from the first pull", "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    const retry_policy p{
        .initial_interval = 1s, .max_attempts = retry_policy::unlimited, .max_elapsed = 3s};
    auto s = eddy::defer(flaky_factory(&vt, &l, 100)) | eddy::retry(p, vt);
    vt.advance(1h); // created long before it is pulled
    const time_point t0 = vt.now();
    outcome o = vt.run(drain(&vt, std::move(s)));
    REQUIRE(l.subscribed_at == std::vector<time_point>{t0, t0 + 1s, t0 + 3s});
    REQUIRE(o.error == "attempt 3");
}

TEST_CASE("retry: seeded jitter gives the policy's own jittered schedule", "[stream][retry]") {
    const retry_policy p{
        .initial_interval = 1s, .max_interval = 100s, .max_attempts = 6, .jitter = 0.5, .seed = 7};
    // The expected waits, from the same policy and seed.
    std::vector<time_point> expected{epoch};
    eddy::retry_state state;
    const std::exception_ptr e = std::make_exception_ptr(std::runtime_error("x"));
    for (int i = 0; i < 5; ++i) {
        expected.push_back(expected.back() + *state.on_failure(p, expected.back() - epoch, e));
    }
    virtual_time_scheduler vt;
    subscription_log l;
    outcome o = vt.run(drain(&vt, eddy::defer(flaky_factory(&vt, &l, 100)) | eddy::retry(p, vt)));
    REQUIRE(l.subscribed_at == expected);
    REQUIRE(o.error == "attempt 6");
    // Each wait lies in [d/2, 3d/2) around 1s, 2s, 4s, 8s, 16s, and some differ from d.
    duration base = 1s;
    bool any_jittered = false;
    for (std::size_t i = 1; i < l.subscribed_at.size(); ++i) {
        const duration wait = l.subscribed_at[i] - l.subscribed_at[i - 1];
        REQUIRE(wait >= base / 2);
        REQUIRE(wait < base + base / 2);
        any_jittered = any_jittered || wait != base;
        base *= 2;
    }
    REQUIRE(any_jittered);
}

TEST_CASE("retry: a non-retryable error passes through at once, with no wait", "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    const retry_policy p{.initial_interval = 1s,
                         .max_attempts = 10,
                         .non_retryable = retry_policy::error_types<std::invalid_argument>()};
    auto factory = [&] { return throws_now(&l, &vt, std::invalid_argument("bad request")); };
    outcome o = vt.run(drain(&vt, eddy::defer(factory) | eddy::retry(p, vt)));
    REQUIRE(o.error == "bad request");
    REQUIRE(l.subscriptions() == 1);
    REQUIRE(o.ended_at == epoch);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("retry: operation_cancelled from upstream is never retried", "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    auto factory = [&] { return throws_now(&l, &vt, eddy::operation_cancelled()); };
    outcome o = vt.run(
        drain(&vt, eddy::defer(factory) | eddy::retry(retry_policy{.max_attempts = 10}, vt)));
    REQUIRE(o.cancelled);
    REQUIRE(l.subscriptions() == 1);
    REQUIRE(o.ended_at == epoch);
}

TEST_CASE("retry: a stop request during a backoff wait ends it with operation_cancelled",
          "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    std::stop_source stop;
    const retry_policy p{.initial_interval = 1s, .max_attempts = 10};
    auto [o, ignored] = vt.run(eddy::when_all(
        eddy::with_stop_token(
            drain(&vt, eddy::defer(flaky_factory(&vt, &l, 100, 1)) | eddy::retry(p, vt)),
            stop.get_token()),
        request_stop_after(vt, 2500ms, stop)));
    // Subscriptions at 0s and 1s; stopped at 2.5s during the 2s wait.
    REQUIRE(l.subscribed_at == std::vector<time_point>{epoch, epoch + 1s});
    REQUIRE(o.values == std::vector<int>{1, 1});
    REQUIRE(o.cancelled);
    REQUIRE(o.ended_at == epoch + 2500ms);
    REQUIRE(vt.pending_timers() == 0);
}

TEST_CASE("retry: the stop token reaches the subscription; its cancellation ends the stream",
          "[stream][retry]") {
    counted::reset();
    {
        virtual_time_scheduler vt;
        std::stop_source stop;
        auto factory = [&vt] { return slow_counted(&vt, counted{}); };
        auto [o, ignored] = vt.run(eddy::when_all(
            eddy::with_stop_token(
                drain(&vt, eddy::defer(factory) | eddy::retry(retry_policy{.max_attempts = 5}, vt)),
                stop.get_token()),
            request_stop_after(vt, 2500ms, stop)));
        REQUIRE(o.values == std::vector<int>{1, 2});
        REQUIRE(o.cancelled);
        REQUIRE(o.ended_at == epoch + 2500ms);
    }
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("retry: an exception of the factory counts as a failed attempt", "[stream][retry]") {
    virtual_time_scheduler vt;
    int calls = 0;
    auto factory = [&calls]() -> stream<int> {
        if (++calls < 3) {
            throw std::runtime_error("cannot subscribe");
        }
        return eddy::defer([] { return eddy::test::count_to(2); });
    };
    outcome o = vt.run(
        drain(&vt, eddy::defer(factory) | eddy::retry(retry_policy{.initial_interval = 1s}, vt)));
    REQUIRE(calls == 3);
    REQUIRE(o.values == std::vector<int>{1, 2});
    REQUIRE(o.ended_at == epoch + 3s);
}

TEST_CASE("retry: lazy; the factory runs at the first pull", "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    {
        auto s = eddy::defer(flaky_factory(&vt, &l, 0, 1)) | eddy::retry(retry_policy{}, vt);
        vt.advance(1s);
        REQUIRE(l.subscriptions() == 0);
    }
    REQUIRE(l.subscriptions() == 0);
}

TEST_CASE("retry: destroying the stream mid-way frees the subscription", "[stream][retry]") {
    counted::reset();
    {
        virtual_time_scheduler vt;
        auto factory = [&vt] { return slow_counted(&vt, counted{}); };
        stream<int> s = eddy::defer(factory) | eddy::retry(retry_policy{}, vt);
        std::optional<int> first = vt.run(s.next());
        REQUIRE(first == 1);
        REQUIRE(counted::alive() > 0);
    }
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("retry: bad policies are rejected eagerly", "[stream][retry]") {
    virtual_time_scheduler vt;
    REQUIRE_THROWS_AS(eddy::retry(retry_policy{.multiplier = 0.5}, vt), eddy::error);
    REQUIRE_THROWS_WITH(eddy::retry(retry_policy{.max_attempts = 0}, vt),
                        Catch::Matchers::Contains("max_attempts must be at least 1"));
}

TEST_CASE("retry: a deferred pipeline source, and stages after retry", "[stream][retry]") {
    virtual_time_scheduler vt;
    subscription_log l;
    auto factory = [&] { return flaky(&vt, &l, 1, 2) | eddy::map([](int x) { return x * 10; }); };
    stream<int> s = eddy::defer(factory) | eddy::retry(retry_policy{.initial_interval = 1s}, vt);
    std::vector<int> v =
        vt.run(eddy::to_vector(std::move(s) | eddy::map([](int x) { return -x; })));
    REQUIRE(v == std::vector<int>{-10, -20, -10, -20});
    REQUIRE(l.subscriptions() == 2);
}

TEST_CASE("retry: subscriptions and waits on a thread_pool", "[stream][retry][concurrency]") {
    eddy::thread_pool pool(2);
    for (int round = 0; round < 20; ++round) {
        std::atomic<int> subscriptions{0};
        auto factory = [&pool, &subscriptions] {
            return pool_flaky(&pool, &subscriptions, 2, nullptr);
        };
        const retry_policy p{.initial_interval = 1ms, .max_interval = 1ms, .max_attempts = 5};
        std::vector<int> v =
            eddy::sync_wait(eddy::to_vector(eddy::defer(factory) | eddy::retry(p, pool)));
        REQUIRE(v == std::vector<int>{10, 20, 30, 31});
        REQUIRE(subscriptions == 3);
    }
}

TEST_CASE("retry: a stop request from another thread ends a backoff wait",
          "[stream][retry][concurrency]") {
    eddy::thread_pool pool(2);
    for (int round = 0; round < 10; ++round) {
        std::atomic<int> subscriptions{0};
        eddy::async_event failing;
        auto factory = [&pool, &subscriptions, &failing] {
            return pool_flaky(&pool, &subscriptions, 100, &failing);
        };
        const retry_policy p{.initial_interval = 1h, .max_interval = 1h, .max_attempts = 5};
        std::stop_source stop;
        bool cancelled = false;
        auto [values, ignored] = eddy::sync_wait(eddy::when_all(
            eddy::with_stop_token(
                drain_until_cancelled(eddy::defer(factory) | eddy::retry(p, pool), &cancelled),
                stop.get_token()),
            stop_when(&failing, stop)));
        REQUIRE(cancelled);
        REQUIRE(values == std::vector<int>{10});
        REQUIRE(subscriptions == 1);
    }
}
