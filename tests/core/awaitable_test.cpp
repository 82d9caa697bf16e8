// Static tests of the eddy::awaitable concept and eddy::await_result_t.
#include <eddy/core/awaitable.hpp>

#include <catch2/catch.hpp>

#include <coroutine>
#include <type_traits>

#include <eddy/core/task.hpp>

using eddy::await_result_t;
using eddy::awaitable;
using eddy::task;

namespace archetype {

struct awaiter_of_int {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    int await_resume() const noexcept { return 1; }
};

struct awaiter_of_reference {
    bool await_ready() const noexcept { return true; }
    bool await_suspend(std::coroutine_handle<>) const noexcept { return false; }
    const long& await_resume() const noexcept;
};

struct symmetric_awaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) const noexcept { return h; }
    void await_resume() const noexcept {}
};

struct member_co_await {
    awaiter_of_int operator co_await() const noexcept { return {}; }
};

struct free_co_await {};
awaiter_of_reference operator co_await(free_co_await) noexcept;

// Only an rvalue can be awaited.
struct rvalue_only_co_await {
    awaiter_of_int operator co_await() && noexcept { return {}; }
};

struct lacks_await_resume {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
};

struct lacks_await_ready {
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    int await_resume() const noexcept { return 0; }
};

struct await_suspend_returns_int {
    bool await_ready() const noexcept { return false; }
    int await_suspend(std::coroutine_handle<>) const noexcept { return 0; }
    void await_resume() const noexcept {}
};

// operator co_await returns something that is not an awaiter.
struct co_await_returns_int {
    int operator co_await() const noexcept { return 0; }
};

struct some_promise;
// Accepts only the handle of one promise type: a valid awaiter for that coroutine, but not one
// eddy's generic algorithms can use.
struct promise_specific_awaiter {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<some_promise>) const noexcept {}
    void await_resume() const noexcept {}
};

} // namespace archetype

TEST_CASE("awaitable accepts tasks, awaiters and types with operator co_await",
          "[core][awaitable]") {
    STATIC_REQUIRE(awaitable<task<int>>);
    STATIC_REQUIRE(awaitable<task<int>&>);
    STATIC_REQUIRE(awaitable<task<int&>>);
    STATIC_REQUIRE(awaitable<task<void>>);
    STATIC_REQUIRE(awaitable<task<>&>);
    STATIC_REQUIRE(awaitable<std::suspend_always>);
    STATIC_REQUIRE(awaitable<std::suspend_never&>);
    STATIC_REQUIRE(awaitable<archetype::awaiter_of_int>);
    STATIC_REQUIRE(awaitable<archetype::awaiter_of_reference>);
    STATIC_REQUIRE(awaitable<archetype::symmetric_awaiter>);
    STATIC_REQUIRE(awaitable<archetype::member_co_await>);
    STATIC_REQUIRE(awaitable<const archetype::member_co_await&>);
    STATIC_REQUIRE(awaitable<archetype::free_co_await>);
    STATIC_REQUIRE(awaitable<archetype::rvalue_only_co_await>);
}

TEST_CASE("awaitable rejects what co_await cannot take", "[core][awaitable]") {
    STATIC_REQUIRE_FALSE(awaitable<int>);
    STATIC_REQUIRE_FALSE(awaitable<void*>);
    STATIC_REQUIRE_FALSE(awaitable<archetype::lacks_await_resume>);
    STATIC_REQUIRE_FALSE(awaitable<archetype::lacks_await_ready>);
    STATIC_REQUIRE_FALSE(awaitable<archetype::await_suspend_returns_int>);
    STATIC_REQUIRE_FALSE(awaitable<archetype::promise_specific_awaiter>);
    // operator co_await of task is not const: a const task cannot be awaited.
    STATIC_REQUIRE_FALSE(awaitable<const task<int>&>);
    // Only an rvalue of this type can be awaited.
    STATIC_REQUIRE_FALSE(awaitable<archetype::rvalue_only_co_await&>);
}

TEST_CASE("await_result_t is the type co_await yields", "[core][awaitable]") {
    STATIC_REQUIRE(std::is_same_v<await_result_t<task<int>>, int>);
    STATIC_REQUIRE(std::is_same_v<await_result_t<task<int>&>, int&>);
    STATIC_REQUIRE(std::is_same_v<await_result_t<task<int&>>, int&>);
    STATIC_REQUIRE(std::is_same_v<await_result_t<task<int&>&>, int&>);
    STATIC_REQUIRE(std::is_same_v<await_result_t<task<void>>, void>);
    STATIC_REQUIRE(std::is_same_v<await_result_t<task<void>&>, void>);
    STATIC_REQUIRE(std::is_same_v<await_result_t<std::suspend_always>, void>);
    STATIC_REQUIRE(std::is_same_v<await_result_t<archetype::awaiter_of_int>, int>);
    STATIC_REQUIRE(std::is_same_v<await_result_t<archetype::awaiter_of_reference>, const long&>);
    STATIC_REQUIRE(std::is_same_v<await_result_t<archetype::member_co_await>, int>);
    STATIC_REQUIRE(std::is_same_v<await_result_t<archetype::free_co_await&>, const long&>);
    STATIC_REQUIRE(std::is_same_v<await_result_t<archetype::rvalue_only_co_await>, int>);
}

TEST_CASE("awaitable rejects an operator co_await that returns no awaiter", "[core][awaitable]") {
    STATIC_REQUIRE_FALSE(awaitable<archetype::co_await_returns_int>);
}
