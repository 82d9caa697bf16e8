// A million immediately completing co_awaits of every core awaitable that can complete
// synchronously, and a million synchronous stream pulls, in one coroutine: run in constant stack or
// crash. Built by run.cmake with each compiler at every optimisation level and under ASan, where
// symmetric transfer alone is known to overflow on g++ 12.
#include <eddy/core/async_event.hpp>
#include <eddy/core/async_latch.hpp>
#include <eddy/core/async_mutex.hpp>
#include <eddy/core/async_semaphore.hpp>
#include <eddy/core/channel.hpp>
#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/stream.hpp>

#include <cstdio>

namespace {

constexpr long iterations = 1'000'000;

eddy::task<long> one() { co_return 1; }
eddy::task<void> nothing() { co_return; }
eddy::task<long> one_through_two_levels() { co_return co_await one(); }

eddy::stream<long> ones(long n) {
    for (long i = 0; i < n; ++i) {
        co_yield 1;
    }
}

eddy::task<long> loops() {
    long sum = 0;
    for (long i = 0; i < iterations; ++i) {
        sum += co_await one();
    }
    for (long i = 0; i < iterations; ++i) {
        co_await nothing();
        sum += co_await one_through_two_levels();
    }
    eddy::async_mutex mutex;
    eddy::async_semaphore semaphore(1);
    eddy::async_event event(true);
    eddy::async_latch latch(0);
    eddy::channel<long> channel(1);
    eddy::inline_scheduler inline_scheduler;
    for (long i = 0; i < iterations; ++i) {
        co_await mutex.lock();
        mutex.unlock();
        co_await semaphore.acquire();
        semaphore.release();
        co_await event.wait();
        co_await latch.wait();
        co_await channel.send(i);
        auto value = co_await channel.receive();
        sum += *value == i ? 1 : 0;
        co_await inline_scheduler.schedule();
    }
    for (long i = 0; i < iterations / 10; ++i) {
        auto [a, b] = co_await eddy::when_all(one(), one());
        sum += a + b - 1;
    }
    eddy::stream<long> pulled = ones(iterations);
    while (auto value = co_await pulled.next()) {
        sum += *value;
    }
    co_return sum;
}

} // namespace

int main() {
    const long expected = 4 * iterations + iterations / 10;
    const long sum = eddy::sync_wait(loops());
    std::printf("%ld of %ld\n", sum, expected);
    return sum == expected ? 0 : 1;
}
