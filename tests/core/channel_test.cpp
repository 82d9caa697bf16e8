// Tests of eddy::channel<T>.
#include <eddy/core/awaitable.hpp>
#include <eddy/core/channel.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

#include <catch2/catch.hpp>

#include <algorithm>   // std::sort
#include <atomic>      // std::atomic
#include <cstddef>     // std::size_t
#include <memory>      // std::unique_ptr, std::make_unique
#include <numeric>     // std::iota
#include <optional>    // std::optional
#include <stop_token>  // std::stop_source
#include <thread>      // std::jthread, std::this_thread::yield
#include <type_traits> // std::is_void_v, std::is_same_v
#include <utility>     // std::move
#include <vector>      // std::vector

#include <support/detached.hpp>

using eddy::test::failed_with;
using eddy::test::outcome;
using eddy::test::start;

namespace {

eddy::task<> send_one(eddy::channel<int>* ch, int value) { co_await ch->send(value); }

// Records the received value, or -1 for an empty optional.
eddy::task<> receive_one(eddy::channel<int>* ch, std::vector<int>* log) {
    std::optional<int> v = co_await ch->receive();
    log->push_back(v ? *v : -1);
}

eddy::task<> send_ptr(eddy::channel<std::unique_ptr<int>>* ch, int value) {
    co_await ch->send(std::make_unique<int>(value));
}

eddy::task<> receive_ptr(eddy::channel<std::unique_ptr<int>>* ch, std::vector<int>* log) {
    std::optional<std::unique_ptr<int>> v = co_await ch->receive();
    log->push_back(v ? **v : -1);
}

eddy::task<> produce(eddy::channel<long>* ch, long first, long count) {
    for (long i = 0; i < count; ++i) {
        co_await ch->send(first + i);
    }
}

eddy::task<> consume(eddy::channel<long>* ch, std::vector<long>* got) {
    while (true) {
        std::optional<long> v = co_await ch->receive();
        if (!v) {
            break;
        }
        got->push_back(*v);
    }
}

// Sends increasing values until the channel is closed; counts the values delivered.
eddy::task<> produce_until_closed(eddy::channel<long>* ch, long first, long* delivered,
                                  long* delivered_sum) {
    for (long v = first;; ++v) {
        try {
            co_await ch->send(v);
        } catch (const eddy::channel_closed&) {
            co_return;
        }
        ++*delivered;
        *delivered_sum += v;
    }
}

// Receives until drained; the first consumer past `close_after` values in total closes.
eddy::task<> consume_and_close(eddy::channel<long>* ch, std::atomic<long>* total, long close_after,
                               long* received, long* received_sum) {
    while (true) {
        std::optional<long> v = co_await ch->receive();
        if (!v) {
            co_return;
        }
        ++*received;
        *received_sum += *v;
        if (total->fetch_add(1, std::memory_order_relaxed) + 1 == close_after) {
            ch->close();
        }
    }
}

eddy::task<> send_counted(eddy::channel<int>* ch, int value, std::atomic<int>* sent,
                          std::atomic<int>* cancelled) {
    try {
        co_await ch->send(value);
    } catch (const eddy::operation_cancelled&) {
        cancelled->fetch_add(1, std::memory_order_relaxed);
        co_return;
    }
    sent->fetch_add(1, std::memory_order_relaxed);
}

eddy::task<> receive_counted(eddy::channel<int>* ch, std::vector<int>* got,
                             std::atomic<int>* cancelled) {
    std::optional<int> v;
    try {
        v = co_await ch->receive();
    } catch (const eddy::operation_cancelled&) {
        cancelled->fetch_add(1, std::memory_order_relaxed);
        co_return;
    }
    got->push_back(v ? *v : -1);
}

eddy::task<> ping_pong(eddy::channel<int>* ch, int times, long* sum) {
    for (int i = 0; i < times; ++i) {
        co_await ch->send(i);
        std::optional<int> v = co_await ch->receive();
        *sum += *v;
    }
}

void await_round(const std::atomic<int>& step, int k) {
    while (step.load(std::memory_order_acquire) < k) {
        std::this_thread::yield();
    }
}

} // namespace

TEST_CASE("channel: awaiters satisfy eddy::awaitable", "[core][channel]") {
    using ch = eddy::channel<std::unique_ptr<int>>;
    STATIC_REQUIRE(eddy::awaitable<ch::send_awaiter>);
    STATIC_REQUIRE(std::is_void_v<eddy::await_result_t<ch::send_awaiter>>);
    STATIC_REQUIRE(std::is_same_v<eddy::await_result_t<ch::receive_awaiter>,
                                  std::optional<std::unique_ptr<int>>>);
}

TEST_CASE("channel: capacity 0 is an error", "[core][channel]") {
    REQUIRE_THROWS_AS(eddy::channel<int>(0), eddy::error);
    REQUIRE_THROWS_WITH(eddy::channel<int>(0), "eddy::channel: capacity must be at least 1");
}

TEST_CASE("channel: try_send and try_receive", "[core][channel]") {
    eddy::channel<int> ch(2);
    REQUIRE(ch.capacity() == 2);
    REQUIRE(ch.size() == 0);
    REQUIRE_FALSE(ch.is_closed());
    REQUIRE_FALSE(ch.try_receive());

    int a = 1, b = 2, c = 3;
    REQUIRE(ch.try_send(a));
    REQUIRE(ch.try_send(b));
    REQUIRE_FALSE(ch.try_send(c)); // full
    REQUIRE(c == 3);
    REQUIRE(ch.size() == 2);

    REQUIRE(ch.try_receive() == 1);
    REQUIRE(ch.try_send(c));
    REQUIRE(ch.try_receive() == 2);
    REQUIRE(ch.try_receive() == 3);
    REQUIRE_FALSE(ch.try_receive());
    REQUIRE(ch.size() == 0);
}

TEST_CASE("channel: send and receive complete at once when they can", "[core][channel]") {
    eddy::channel<int> ch(3);
    for (int i = 0; i < 3; ++i) {
        eddy::sync_wait(ch.send(i));
    }
    REQUIRE(ch.size() == 3);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(eddy::sync_wait(ch.receive()) == i);
    }
    // Many rounds through a small ring (the head wraps around).
    for (int i = 0; i < 100; ++i) {
        eddy::sync_wait(ch.send(i));
        REQUIRE(eddy::sync_wait(ch.receive()) == i);
    }
}

TEST_CASE("channel: a million immediate awaits do not grow the stack", "[core][channel]") {
    eddy::channel<int> ch(1);
    long sum = 0;
    eddy::sync_wait(ping_pong(&ch, 500'000, &sum)); // a send and a receive each
    REQUIRE(sum == 499'999L * 500'000L / 2);
}

TEST_CASE("channel: a full channel suspends the sender; a receive pulls its value in",
          "[core][channel]") {
    eddy::channel<int> ch(1);
    int first = 1;
    REQUIRE(ch.try_send(first));
    outcome o;
    start(send_one(&ch, 2), &o);
    REQUIRE_FALSE(o.done); // backpressure
    REQUIRE(ch.size() == 1);

    REQUIRE(ch.try_receive() == 1); // frees the slot: the sender's value moves in, it resumes
    REQUIRE(o.done);
    REQUIRE_FALSE(o.error);
    REQUIRE(ch.size() == 1);
    REQUIRE(eddy::sync_wait(ch.receive()) == 2);
    REQUIRE(ch.size() == 0);
}

TEST_CASE("channel: waiting senders are served in order", "[core][channel]") {
    eddy::channel<int> ch(1);
    eddy::sync_wait(ch.send(1));
    outcome o2, o3, o4;
    start(send_one(&ch, 2), &o2);
    start(send_one(&ch, 3), &o3);
    start(send_one(&ch, 4), &o4);

    REQUIRE(eddy::sync_wait(ch.receive()) == 1);
    REQUIRE(o2.done);
    REQUIRE_FALSE(o3.done);
    REQUIRE(eddy::sync_wait(ch.receive()) == 2);
    REQUIRE(o3.done);
    REQUIRE_FALSE(o4.done);
    REQUIRE(ch.try_receive() == 3);
    REQUIRE(o4.done);
    REQUIRE(ch.try_receive() == 4);
    REQUIRE_FALSE(ch.try_receive());
}

TEST_CASE("channel: waiting receivers are served in order, straight from the sender",
          "[core][channel]") {
    eddy::channel<int> ch(4);
    std::vector<int> log;
    outcome o1, o2, o3;
    start(receive_one(&ch, &log), &o1);
    start(receive_one(&ch, &log), &o2);
    start(receive_one(&ch, &log), &o3);
    REQUIRE(log.empty());

    int ten = 10;
    REQUIRE(ch.try_send(ten));
    REQUIRE(log == std::vector<int>{10});
    REQUIRE(ch.size() == 0); // handed over, never buffered
    eddy::sync_wait(ch.send(20));
    eddy::sync_wait(ch.send(30));
    REQUIRE(log == std::vector<int>{10, 20, 30});
    REQUIRE(o3.done);
    REQUIRE(ch.size() == 0);
}

TEST_CASE("channel: close", "[core][channel]") {
    eddy::channel<int> ch(2);

    SECTION("waiting receivers get an empty optional") {
        std::vector<int> log;
        outcome o1, o2;
        start(receive_one(&ch, &log), &o1);
        start(receive_one(&ch, &log), &o2);
        ch.close();
        REQUIRE(ch.is_closed());
        REQUIRE(log == std::vector<int>{-1, -1});
        REQUIRE_FALSE(o1.error);
        REQUIRE_FALSE(o2.error);
    }

    SECTION("waiting senders get channel_closed; buffered values drain first") {
        eddy::sync_wait(ch.send(1));
        eddy::sync_wait(ch.send(2));
        outcome o3, o4;
        start(send_one(&ch, 3), &o3);
        start(send_one(&ch, 4), &o4);
        ch.close();
        REQUIRE(failed_with<eddy::channel_closed>(o3));
        REQUIRE(failed_with<eddy::channel_closed>(o4));

        REQUIRE(ch.size() == 2);
        REQUIRE(eddy::sync_wait(ch.receive()) == 1);
        REQUIRE(ch.try_receive() == 2);
        REQUIRE(eddy::sync_wait(ch.receive()) == std::nullopt); // 3 and 4 were not delivered
        REQUIRE_FALSE(ch.try_receive());
    }

    SECTION("sending on a closed channel throws; close is idempotent") {
        ch.close();
        ch.close();
        REQUIRE_THROWS_AS(eddy::sync_wait(ch.send(1)), eddy::channel_closed);
        int v = 5;
        REQUIRE_THROWS_AS(ch.try_send(v), eddy::channel_closed);
        REQUIRE(v == 5);
        REQUIRE(ch.size() == 0);
        REQUIRE(eddy::sync_wait(ch.receive()) == std::nullopt);
    }
}

TEST_CASE("channel: move-only values", "[core][channel]") {
    eddy::channel<std::unique_ptr<int>> ch(1);
    std::vector<int> log;

    outcome r;
    start(receive_ptr(&ch, &log), &r);
    eddy::sync_wait(send_ptr(&ch, 1)); // handed straight to the waiting receiver
    REQUIRE(log == std::vector<int>{1});

    auto two = std::make_unique<int>(2);
    REQUIRE(ch.try_send(two)); // into the buffer
    REQUIRE(two == nullptr);
    auto three = std::make_unique<int>(3);
    REQUIRE_FALSE(ch.try_send(three)); // full: untouched
    REQUIRE(three != nullptr);

    outcome s;
    start(send_ptr(&ch, 4), &s); // waits with its value
    REQUIRE_FALSE(s.done);
    std::optional<std::unique_ptr<int>> got = ch.try_receive();
    REQUIRE(got);
    REQUIRE(**got == 2);
    REQUIRE(s.done);
    eddy::sync_wait(receive_ptr(&ch, &log));
    REQUIRE(log == std::vector<int>{1, 4});

    outcome s5;
    REQUIRE(ch.try_send(three));
    start(send_ptr(&ch, 5), &s5);
    ch.close(); // the waiting sender's value is destroyed, not leaked
    REQUIRE(failed_with<eddy::channel_closed>(s5));
    eddy::sync_wait(receive_ptr(&ch, &log));
    eddy::sync_wait(receive_ptr(&ch, &log));
    REQUIRE(log == std::vector<int>{1, 4, 3, -1});
}

TEST_CASE("channel: cancellation", "[core][channel]") {
    eddy::channel<int> ch(1);
    std::vector<int> log;
    std::stop_source stop;

    SECTION("a stopped send on a full channel is cancelled without suspending") {
        eddy::sync_wait(ch.send(1));
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(send_one(&ch, 2), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o));
        REQUIRE(ch.try_receive() == 1);
        REQUIRE_FALSE(ch.try_receive()); // 2 was not delivered
    }

    SECTION("a stopped send with room delivers") {
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(send_one(&ch, 2), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE_FALSE(o.error);
        REQUIRE(ch.try_receive() == 2);
    }

    SECTION("a stopped receive on an empty channel is cancelled without suspending") {
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(receive_one(&ch, &log), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o));
        int v = 7;
        REQUIRE(ch.try_send(v));
        REQUIRE(ch.size() == 1); // buffered: no receiver was left behind
    }

    SECTION("a stopped receive with a value receives it") {
        eddy::sync_wait(ch.send(3));
        stop.request_stop();
        outcome o;
        start(eddy::with_stop_token(receive_one(&ch, &log), stop.get_token()), &o);
        REQUIRE(o.done);
        REQUIRE_FALSE(o.error);
        REQUIRE(log == std::vector<int>{3});
    }

    SECTION("a waiting receiver that is cancelled takes nothing") {
        outcome o1, o2;
        start(eddy::with_stop_token(receive_one(&ch, &log), stop.get_token()), &o1);
        start(receive_one(&ch, &log), &o2);
        stop.request_stop();
        REQUIRE(o1.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o1));
        REQUIRE_FALSE(o2.done);
        eddy::sync_wait(ch.send(5));
        REQUIRE(log == std::vector<int>{5});
        REQUIRE(o2.done);
        REQUIRE(ch.size() == 0);
    }

    SECTION("a waiting sender that is cancelled delivers nothing; the queue keeps its order") {
        eddy::sync_wait(ch.send(1));
        outcome o2, o3;
        start(eddy::with_stop_token(send_one(&ch, 2), stop.get_token()), &o2);
        start(send_one(&ch, 3), &o3);
        stop.request_stop();
        REQUIRE(o2.done);
        REQUIRE(failed_with<eddy::operation_cancelled>(o2));
        REQUIRE_FALSE(o3.done);
        REQUIRE(ch.try_receive() == 1);
        REQUIRE(o3.done);
        REQUIRE(ch.try_receive() == 3);
        REQUIRE_FALSE(ch.try_receive());
    }
}

TEST_CASE("channel: producers and consumers on threads; every value arrives once, in order",
          "[core][channel][concurrency]") {
    constexpr int producers = 2;
    constexpr int consumers = 2;
    constexpr long per_producer = 20'000;
    eddy::channel<long> ch(8);
    std::vector<std::vector<long>> got(consumers);
    {
        std::vector<std::jthread> consuming;
        for (std::size_t c = 0; c < consumers; ++c) {
            consuming.emplace_back([&, c] { eddy::sync_wait(consume(&ch, &got[c])); });
        }
        {
            std::vector<std::jthread> producing;
            for (long p = 0; p < producers; ++p) {
                producing.emplace_back(
                    [&, p] { eddy::sync_wait(produce(&ch, p * per_producer, per_producer)); });
            }
        }
        ch.close();
    }
    std::vector<long> all;
    bool in_order = true;
    for (const auto& values : got) {
        std::vector<long> last(producers, -1);
        for (long v : values) {
            auto& seen = last[static_cast<std::size_t>(v / per_producer)];
            in_order = in_order && v > seen;
            seen = v;
        }
        all.insert(all.end(), values.begin(), values.end());
    }
    REQUIRE(in_order); // FIFO: each consumer sees each producer's values in order
    std::sort(all.begin(), all.end());
    std::vector<long> expected(static_cast<std::size_t>(producers * per_producer));
    std::iota(expected.begin(), expected.end(), 0L);
    REQUIRE(all == expected);
}

TEST_CASE("channel: close while threads send and receive loses nothing",
          "[core][channel][concurrency]") {
    constexpr int producers = 2;
    constexpr int consumers = 2;
    constexpr long close_after = 20'000;
    eddy::channel<long> ch(4);
    std::atomic<long> total{0};
    std::vector<long> delivered(producers), delivered_sum(producers);
    std::vector<long> received(consumers), received_sum(consumers);
    {
        std::vector<std::jthread> workers;
        for (std::size_t p = 0; p < producers; ++p) {
            workers.emplace_back([&, p] {
                eddy::sync_wait(produce_until_closed(&ch, static_cast<long>(p) * 1'000'000'000,
                                                     &delivered[p], &delivered_sum[p]));
            });
        }
        for (std::size_t c = 0; c < consumers; ++c) {
            workers.emplace_back([&, c] {
                eddy::sync_wait(
                    consume_and_close(&ch, &total, close_after, &received[c], &received_sum[c]));
            });
        }
    }
    REQUIRE(ch.is_closed());
    REQUIRE(ch.size() == 0);
    REQUIRE(received[0] + received[1] == delivered[0] + delivered[1]);
    REQUIRE(received_sum[0] + received_sum[1] == delivered_sum[0] + delivered_sum[1]);
    REQUIRE(received[0] + received[1] >= close_after);
}

TEST_CASE("channel: a cancelled send races with the receive that frees its slot",
          "[core][channel][concurrency]") {
    // Each round starts with the one-slot channel full. The sender thread starts a cancellable
    // send(k); the driver's try_receive() races with the canceller's request_stop(). Value k is
    // delivered exactly when the send did not fail; the driver refills a slot a cancelled send
    // left empty with -1.
    constexpr int rounds = 5'000;
    eddy::channel<int> ch(1);
    int filler = -1;
    REQUIRE(ch.try_send(filler));
    std::vector<std::stop_source> sources(rounds);
    std::atomic<int> sent{0};
    std::atomic<int> cancelled{0};
    std::atomic<int> started{-1};
    std::atomic<int> finished{-1};
    std::atomic<int> refilled{-1};
    std::vector<int> got;
    int fillers = 1;
    {
        std::jthread sender([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(refilled, k - 1);
                started.store(k, std::memory_order_release);
                eddy::sync_wait(
                    eddy::with_stop_token(send_counted(&ch, k, &sent, &cancelled),
                                          sources[static_cast<std::size_t>(k)].get_token()));
                finished.store(k, std::memory_order_release);
            }
        });
        std::jthread driver([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(started, k);
                if (k % 2 == 1) {
                    std::this_thread::yield(); // perturbs timing so that both sides win often
                }
                std::optional<int> v = ch.try_receive(); // the slot is full here
                got.push_back(v ? *v : -2);
                await_round(finished, k);
                if (ch.size() == 0) {
                    int refill = -1;
                    static_cast<void>(ch.try_send(refill));
                    ++fillers;
                }
                refilled.store(k, std::memory_order_release);
            }
        });
        std::jthread canceller([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(started, k);
                sources[static_cast<std::size_t>(k)].request_stop();
            }
        });
    }
    got.push_back(*ch.try_receive());
    REQUIRE(sent + cancelled == rounds);
    REQUIRE(fillers == cancelled + 1);
    std::vector<int> values;
    for (int v : got) {
        if (v >= 0) {
            values.push_back(v);
        }
    }
    REQUIRE(static_cast<int>(got.size()) == rounds + 1);
    REQUIRE(static_cast<int>(values.size()) == sent);
    REQUIRE(std::is_sorted(values.begin(), values.end()));
    REQUIRE(std::adjacent_find(values.begin(), values.end()) == values.end()); // no duplicate
}

TEST_CASE("channel: a cancelled receive races with the send that would feed it",
          "[core][channel][concurrency]") {
    // Each round starts with the channel empty. The receiver thread starts a cancellable
    // receive(); the driver's try_send(k) races with the canceller's request_stop(). Value k
    // goes either to the receiver or into the buffer (then drained by the driver), never both.
    constexpr int rounds = 5'000;
    eddy::channel<int> ch(1);
    std::vector<std::stop_source> sources(rounds);
    std::atomic<int> cancelled{0};
    std::atomic<int> started{-1};
    std::atomic<int> finished{-1};
    std::atomic<int> drained{-1};
    std::vector<int> received;
    std::vector<int> drained_values;
    {
        std::jthread receiver([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(drained, k - 1);
                started.store(k, std::memory_order_release);
                eddy::sync_wait(
                    eddy::with_stop_token(receive_counted(&ch, &received, &cancelled),
                                          sources[static_cast<std::size_t>(k)].get_token()));
                finished.store(k, std::memory_order_release);
            }
        });
        std::jthread driver([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(started, k);
                for (int y = 0; y < k % 4; ++y) {
                    std::this_thread::yield(); // perturbs timing so that both sides win often
                }
                int v = k;
                const bool sent = ch.try_send(v); // the channel is empty here: never full
                await_round(finished, k);
                if (auto left = ch.try_receive()) {
                    drained_values.push_back(*left);
                }
                if (!sent) {
                    drained_values.push_back(-100); // makes the check below fail
                }
                drained.store(k, std::memory_order_release);
            }
        });
        std::jthread canceller([&] {
            for (int k = 0; k < rounds; ++k) {
                await_round(started, k);
                sources[static_cast<std::size_t>(k)].request_stop();
            }
        });
    }
    REQUIRE(static_cast<int>(received.size()) + cancelled == rounds);
    REQUIRE(drained_values.size() == static_cast<std::size_t>(cancelled));
    std::vector<int> all = received;
    all.insert(all.end(), drained_values.begin(), drained_values.end());
    std::sort(all.begin(), all.end());
    std::vector<int> expected(rounds);
    std::iota(expected.begin(), expected.end(), 0);
    REQUIRE(all == expected);
}
