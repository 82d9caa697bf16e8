// Tests of eddy::from(channel&): values until closed, a producer task, another thread.
#include <eddy/stream/from_channel.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <stop_token>
#include <utility>
#include <vector>

#include <eddy/core/channel.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>

using eddy::channel;
using eddy::stream;
using eddy::task;

namespace {

task<void> send_then_close(channel<int>* ch, int n) {
    for (int i = 0; i < n; ++i) {
        co_await ch->send(i);
    }
    ch->close();
}

task<void> send_from_pool(eddy::thread_pool* pool, channel<int>* ch, int n) {
    co_await pool->schedule();
    for (int i = 0; i < n; ++i) {
        co_await ch->send(i);
    }
    ch->close();
}

task<std::vector<int>> collect(stream<int> s) {
    std::vector<int> out;
    for (;;) {
        std::optional<int> v = co_await s.next();
        if (!v) {
            co_return out;
        }
        out.push_back(*v);
    }
}

task<std::unique_ptr<int>> first_box(stream<std::unique_ptr<int>> s) {
    std::optional<std::unique_ptr<int>> v = co_await s.next();
    co_return std::move(*v);
}

task<bool> cancelled_receive(stream<int> s) {
    try {
        std::optional<int> v = co_await s.next();
        (void)v;
    } catch (const eddy::operation_cancelled&) {
        co_return true;
    }
    co_return false;
}

} // namespace

TEST_CASE("from(channel): a producer task sends then closes", "[stream][from_channel]") {
    channel<int> ch(2); // smaller than the count: the sender waits for the stream
    auto [values, sent] =
        eddy::sync_wait(eddy::when_all(collect(eddy::from(ch)), send_then_close(&ch, 10)));
    (void)sent;
    REQUIRE(values == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("from(channel): buffered values then the end of a closed channel",
          "[stream][from_channel]") {
    channel<int> ch(4);
    int a = 1;
    int b = 2;
    REQUIRE(ch.try_send(a));
    REQUIRE(ch.try_send(b));
    ch.close();
    REQUIRE(eddy::sync_wait(collect(eddy::from(ch))) == std::vector<int>{1, 2});
}

TEST_CASE("from(channel): lazy, takes nothing before the first next()", "[stream][from_channel]") {
    channel<int> ch(4);
    int a = 1;
    REQUIRE(ch.try_send(a));
    { stream<int> s = eddy::from(ch); }
    REQUIRE(ch.size() == 1);
}

TEST_CASE("from(channel): move-only values", "[stream][from_channel]") {
    channel<std::unique_ptr<int>> ch(1);
    std::unique_ptr<int> box = std::make_unique<int>(5);
    REQUIRE(ch.try_send(box));
    REQUIRE(*eddy::sync_wait(first_box(eddy::from(ch))) == 5);
}

TEST_CASE("from(channel): a waiting receive sees the consumer's stop token",
          "[stream][from_channel]") {
    channel<int> ch(1);
    std::stop_source source;
    source.request_stop();
    // The channel is empty: the receive would wait, and is cancelled at once instead.
    REQUIRE(eddy::sync_wait(
        eddy::with_stop_token(cancelled_receive(eddy::from(ch)), source.get_token())));
}

TEST_CASE("from(channel): a sender on a thread_pool", "[stream][from_channel][concurrency]") {
    eddy::thread_pool pool(2);
    channel<int> ch(3);
    constexpr int n = 5'000;
    auto [values, sent] =
        eddy::sync_wait(eddy::when_all(collect(eddy::from(ch)), send_from_pool(&pool, &ch, n)));
    (void)sent;
    REQUIRE(values.size() == n);
    for (int i = 0; i < n; ++i) {
        REQUIRE(values[static_cast<std::size_t>(i)] == i);
    }
}
