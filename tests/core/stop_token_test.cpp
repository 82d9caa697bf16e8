// Tests of eddy::get_stop_token and eddy::with_stop_token.
#include <eddy/core/stop_token.hpp>

#include <catch2/catch.hpp>

#include <coroutine>
#include <stop_token>
#include <utility>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>

using eddy::task;

namespace {

task<std::stop_token> own_token() { co_return co_await eddy::get_stop_token(); }

// Reads its token, requests stop through `source`, then reads the same token again.
task<bool> sees_stop_requested_later(std::stop_source* source) {
    std::stop_token token = co_await eddy::get_stop_token();
    bool before = token.stop_requested();
    source->request_stop();
    co_return !before && token.stop_requested();
}

task<int> counts_steps_until_stopped(std::stop_source* source) {
    std::stop_token token = co_await eddy::get_stop_token();
    int steps = 0;
    while (!token.stop_requested()) {
        ++steps;
        if (steps == 3) {
            source->request_stop();
        }
    }
    co_return steps;
}

// A minimal coroutine type whose promise carries no stop token.
struct plain_coroutine {
    struct promise_type {
        plain_coroutine get_return_object() noexcept {
            return plain_coroutine{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept {}
    };
    std::coroutine_handle<promise_type> m_coro;
};

plain_coroutine read_token_into(std::stop_token* out) { *out = co_await eddy::get_stop_token(); }

} // namespace

TEST_CASE("get_stop_token yields an empty token when none was set", "[core][stop_token]") {
    std::stop_token token = eddy::sync_wait(own_token());
    REQUIRE_FALSE(token.stop_possible());
    REQUIRE_FALSE(token.stop_requested());
}

TEST_CASE("get_stop_token yields the token set with with_stop_token", "[core][stop_token]") {
    std::stop_source source;
    std::stop_token token = eddy::sync_wait(eddy::with_stop_token(own_token(), source.get_token()));
    REQUIRE(token == source.get_token());
    REQUIRE(token.stop_possible());
    REQUIRE_FALSE(token.stop_requested());
}

TEST_CASE("a stop requested before the task starts is visible", "[core][stop_token]") {
    std::stop_source source;
    source.request_stop();
    std::stop_token token = eddy::sync_wait(eddy::with_stop_token(own_token(), source.get_token()));
    REQUIRE(token.stop_requested());
}

TEST_CASE("a stop requested while the task runs is visible through its token",
          "[core][stop_token]") {
    std::stop_source source;
    REQUIRE(eddy::sync_wait(
        eddy::with_stop_token(sees_stop_requested_later(&source), source.get_token())));

    std::stop_source loop_source;
    REQUIRE(eddy::sync_wait(eddy::with_stop_token(counts_steps_until_stopped(&loop_source),
                                                  loop_source.get_token())) == 3);
}

TEST_CASE("with_stop_token returns the same, still lazy task", "[core][stop_token]") {
    std::stop_source source;
    auto t = eddy::with_stop_token(own_token(), source.get_token());
    REQUIRE(t.valid());
    REQUIRE_FALSE(t.is_ready());
    REQUIRE(eddy::sync_wait(std::move(t)) == source.get_token());
}

TEST_CASE("get_stop_token in a coroutine whose promise has no token yields an empty token",
          "[core][stop_token]") {
    std::stop_source source;
    std::stop_token out = source.get_token();
    auto c = read_token_into(&out);
    c.m_coro.resume();
    REQUIRE(c.m_coro.done());
    c.m_coro.destroy();
    REQUIRE_FALSE(out.stop_possible());

    // sync_wait's own coroutine is such a coroutine.
    REQUIRE_FALSE(eddy::sync_wait(eddy::get_stop_token()).stop_possible());
}
