// Tests of eddy::sync_wait: results (value, reference, void, move-only), exceptions, and
// awaitables that are not tasks (awaiters, operator co_await, completion on another thread).
#include <eddy/core/sync_wait.hpp>

#include <catch2/catch.hpp>

#include <coroutine>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include <eddy/core/task.hpp>

#include <support/copy_move_tracker.hpp>
#include <support/counted.hpp>

using eddy::task;
using eddy::test::copy_move_tracker;
using eddy::test::counted;

namespace {

task<int> answer() { co_return 42; }

task<int&> reference_to(int* object) { co_return *object; }

task<> set_flag(bool* flag) {
    *flag = true;
    co_return;
}

task<int> fails() {
    int a = co_await answer();
    if (a == 42) {
        throw std::out_of_range("sync_wait must rethrow this");
    }
    co_return a;
}

task<std::unique_ptr<int>> make_owned(int v) { co_return std::make_unique<int>(v); }

task<copy_move_tracker> make_tracker(int value) {
    copy_move_tracker t(value);
    co_return std::move(t);
}

} // namespace

TEST_CASE("sync_wait returns the task's value", "[core][sync_wait]") {
    REQUIRE(eddy::sync_wait(answer()) == 42);
    STATIC_REQUIRE(std::is_same_v<decltype(eddy::sync_wait(answer())), int>);
}

TEST_CASE("sync_wait returns a reference result as a reference", "[core][sync_wait]") {
    int x = 5;
    decltype(auto) r = eddy::sync_wait(reference_to(&x));
    STATIC_REQUIRE(std::is_same_v<decltype(r), int&>);
    REQUIRE(&r == &x);
}

TEST_CASE("sync_wait on an lvalue task returns a reference into the task", "[core][sync_wait]") {
    auto t = answer();
    decltype(auto) r = eddy::sync_wait(t);
    STATIC_REQUIRE(std::is_same_v<decltype(r), int&>);
    REQUIRE(r == 42);
    REQUIRE(t.is_ready());
}

TEST_CASE("sync_wait runs a task<void>", "[core][sync_wait]") {
    bool ran = false;
    eddy::sync_wait(set_flag(&ran));
    REQUIRE(ran);
    STATIC_REQUIRE(std::is_void_v<decltype(eddy::sync_wait(set_flag(&ran)))>);
}

TEST_CASE("sync_wait rethrows the exception of the awaitable", "[core][sync_wait]") {
    REQUIRE_THROWS_AS(eddy::sync_wait(fails()), std::out_of_range);
    REQUIRE_THROWS_WITH(eddy::sync_wait(fails()), "sync_wait must rethrow this");
}

TEST_CASE("sync_wait returns a move-only result", "[core][sync_wait]") {
    std::unique_ptr<int> p = eddy::sync_wait(make_owned(9));
    REQUIRE(*p == 9);
}

TEST_CASE("sync_wait never copies the result", "[core][sync_wait]") {
    copy_move_tracker r = eddy::sync_wait(make_tracker(4));
    REQUIRE(r.value() == 4);
    REQUIRE(r.copies() == 0);
    // co_return into the promise, out of the task, into sync_wait's storage, out of sync_wait.
    REQUIRE(r.moves() <= 4);
}

TEST_CASE("sync_wait frees the awaited task's frame", "[core][sync_wait]") {
    counted::reset();
    eddy::sync_wait([](counted c) -> task<int> { co_return c.id(); }(counted{}));
    REQUIRE(counted::alive() == 0);
}

namespace {

// An awaiter (not a task) that never suspends.
struct ready_value {
    int m_value;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    int await_resume() const noexcept { return m_value; }
};

// An awaiter whose await_suspend decides not to suspend after all.
struct declines_to_suspend {
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<>) const noexcept { return false; }
    const char* await_resume() const noexcept { return "resumed inline"; }
};

// An awaiter whose await_resume throws.
struct throws_on_resume {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    int await_resume() const { throw std::logic_error("from await_resume"); }
};

// An awaiter yielding an rvalue reference to an object it holds: sync_wait returns a value.
struct yields_rvalue_reference {
    copy_move_tracker* m_object;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    copy_move_tracker&& await_resume() const noexcept { return std::move(*m_object); }
};

// Not an awaiter itself: its member operator co_await returns one.
struct has_member_co_await {
    int m_value;
    ready_value operator co_await() const noexcept { return ready_value{m_value}; }
};

// Not an awaiter itself: a free operator co_await returns one.
struct has_free_co_await {
    int m_value;
};
ready_value operator co_await(has_free_co_await a) noexcept { return ready_value{a.m_value * 2}; }

// Suspends and completes on another thread, which it starts itself; the thread is joined by
// whoever owns *m_thread.
struct completes_on_other_thread {
    std::jthread* m_thread;
    int m_value;
    std::thread::id m_resumed_on{};

    bool await_ready() const noexcept { return false; }
    // Out of line: see resume_on_new_thread in task_test.cpp (clang 14 frame scratch space).
    [[gnu::noinline]] void await_suspend(std::coroutine_handle<> awaiting) {
        std::jthread* slot = m_thread; // `this` may be gone once `awaiting` resumes
        *slot = std::jthread([this, awaiting] {
            m_resumed_on = std::this_thread::get_id(); // before resuming: `this` still alive
            awaiting.resume();
        });
    }
    std::pair<int, std::thread::id> await_resume() const noexcept {
        return {m_value, m_resumed_on};
    }
};

} // namespace

TEST_CASE("sync_wait accepts awaiters that are not tasks", "[core][sync_wait]") {
    REQUIRE(eddy::sync_wait(ready_value{3}) == 3);
    REQUIRE(std::string(eddy::sync_wait(declines_to_suspend{})) == "resumed inline");
    REQUIRE_THROWS_AS(eddy::sync_wait(throws_on_resume{}), std::logic_error);

    ready_value lvalue{8};
    REQUIRE(eddy::sync_wait(lvalue) == 8);
}

TEST_CASE("sync_wait returns an rvalue-reference result by value, moved", "[core][sync_wait]") {
    copy_move_tracker source(6);
    auto r = eddy::sync_wait(yields_rvalue_reference{&source});
    STATIC_REQUIRE(std::is_same_v<decltype(eddy::sync_wait(yields_rvalue_reference{&source})),
                                  copy_move_tracker>);
    REQUIRE(r.value() == 6);
    REQUIRE(r.copies() == 0);
}

TEST_CASE("sync_wait accepts a type with operator co_await", "[core][sync_wait]") {
    REQUIRE(eddy::sync_wait(has_member_co_await{5}) == 5);
    REQUIRE(eddy::sync_wait(has_free_co_await{5}) == 10);
}

TEST_CASE("sync_wait blocks until an awaiter completes on another thread",
          "[core][sync_wait][concurrency]") {
    for (int i = 0; i < 100; ++i) {
        std::jthread worker;
        auto [value, resumed_on] = eddy::sync_wait(completes_on_other_thread{&worker, i});
        REQUIRE(value == i);
        REQUIRE(resumed_on != std::this_thread::get_id());
    }
}

namespace {

task<int> hops_then_answers(std::jthread* worker) {
    auto [value, resumed_on] = co_await completes_on_other_thread{worker, 40};
    (void)resumed_on;
    int two = co_await answer() - 40;
    co_return value + two;
}

} // namespace

TEST_CASE("sync_wait returns on its own thread when the task finishes on another",
          "[core][sync_wait][concurrency]") {
    for (int i = 0; i < 100; ++i) {
        std::jthread worker;
        const auto caller = std::this_thread::get_id();
        REQUIRE(eddy::sync_wait(hops_then_answers(&worker)) == 42);
        REQUIRE(std::this_thread::get_id() == caller);
    }
}
