// Tests of eddy::task<T>: laziness, results (value, void, reference, move-only), exceptions,
// frame lifetime, stack depth, copy/move budgets, resumption on another thread, stop tokens.
#include <eddy/core/task.hpp>

#include <catch2/catch.hpp>

#include <coroutine>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <eddy/core/async_scope.hpp>
#include <eddy/core/detail/config.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>

#include <support/copy_move_tracker.hpp>
#include <support/counted.hpp>

using eddy::task;
using eddy::test::copy_move_tracker;
using eddy::test::counted;

namespace {

// Suspends the awaiting coroutine and resumes it on a new thread stored in *m_thread, which
// joins it when destroyed (after sync_wait has returned, or while a failed REQUIRE unwinds).
struct resume_on_new_thread {
    std::jthread* m_thread;

    bool await_ready() const noexcept { return false; }
    // Workaround, clang 14: an inlined await_suspend may keep its temporaries in the coroutine
    // frame, so the main thread would still write the frame after the new thread resumed the
    // coroutine (a data race TSan reports). Kept out of line so its temporaries are on the stack.
    [[gnu::noinline]] void await_suspend(std::coroutine_handle<> awaiting) {
        // Read the slot first: once the new thread resumes `awaiting`, this awaiter may be gone.
        std::jthread* slot = m_thread;
        *slot = std::jthread([awaiting] { awaiting.resume(); });
    }
    void await_resume() const noexcept {}
};

// Suspends the awaiting coroutine and never resumes it.
struct suspend_forever {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
};

// A minimal coroutine that starts an awaitable without blocking and, when destroyed, destroys
// its frame wherever it is suspended: lets a test abandon a chain of suspended tasks.
class detached {
public:
    struct promise_type {
        detached get_return_object() noexcept {
            return detached{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }
    };

    explicit detached(std::coroutine_handle<promise_type> coro) noexcept : m_coro(coro) {}
    detached(detached&& other) noexcept : m_coro(std::exchange(other.m_coro, {})) {}
    detached& operator=(detached&&) = delete;
    ~detached() {
        if (m_coro) {
            m_coro.destroy();
        }
    }

    void start() { m_coro.resume(); }
    [[nodiscard]] bool done() const { return m_coro.done(); }

private:
    std::coroutine_handle<promise_type> m_coro;
};

detached drive(task<> t) { co_await std::move(t); }

task<int> answer() { co_return 42; }

task<> set_flag(bool* flag) {
    *flag = true;
    co_return;
}

task<int> twice_the_answer() {
    int a = co_await answer();
    co_return 2 * a;
}

task<int&> reference_to(int* object) { co_return *object; }

task<int*> address_through_await(int* object) {
    int& r = co_await reference_to(object);
    co_return &r;
}

task<std::unique_ptr<int>> make_owned(int v) { co_return std::make_unique<int>(v); }

task<int> consume_owned() {
    std::unique_ptr<int> p = co_await make_owned(7);
    co_return *p + 1;
}

} // namespace

TEST_CASE("task is lazy: the body runs only when awaited", "[core][task]") {
    bool ran = false;
    auto t = set_flag(&ran);
    REQUIRE(t.valid());
    REQUIRE_FALSE(ran);
    REQUIRE_FALSE(t.is_ready());

    eddy::sync_wait(t);
    REQUIRE(ran);
    REQUIRE(t.is_ready());
}

TEST_CASE("default-constructed and moved-from tasks are not valid", "[core][task]") {
    task<int> empty;
    REQUIRE_FALSE(empty.valid());
    REQUIRE_FALSE(empty.is_ready());

    auto t = answer();
    auto moved = std::move(t);
    // NOLINTNEXTLINE(bugprone-use-after-move): the state after a move is the point
    REQUIRE_FALSE(t.valid());
    REQUIRE(moved.valid());
    REQUIRE(eddy::sync_wait(std::move(moved)) == 42);
}

TEST_CASE("task results: value, void, reference, move-only", "[core][task]") {
    SECTION("value") {
        REQUIRE(eddy::sync_wait(answer()) == 42);
        REQUIRE(eddy::sync_wait(twice_the_answer()) == 84);
    }

    SECTION("void") {
        bool ran = false;
        eddy::sync_wait(set_flag(&ran));
        REQUIRE(ran);
    }

    SECTION("reference: task<int&> refers to the object, not a copy") {
        int x = 1;
        int& r = eddy::sync_wait(reference_to(&x));
        REQUIRE(&r == &x);
        REQUIRE(eddy::sync_wait(address_through_await(&x)) == &x);
    }

    SECTION("move-only result awaited as an rvalue") {
        REQUIRE(eddy::sync_wait(consume_owned()) == 8);
        std::unique_ptr<int> p = eddy::sync_wait(make_owned(3));
        REQUIRE(*p == 3);
    }
}

namespace {

task<int> fails_at_depth(int depth) {
    if (depth == 0) {
        throw std::runtime_error("deep failure");
    }
    int below = co_await fails_at_depth(depth - 1);
    co_return below + 1;
}

task<int> recovers_from_failure() {
    try {
        int v = co_await fails_at_depth(3);
        co_return v;
    } catch (const std::runtime_error&) {
    }
    int after = co_await answer(); // the coroutine goes on awaiting after catching
    co_return after;
}

task<> fails_void() {
    int a = co_await answer();
    if (a == 42) {
        throw eddy::operation_cancelled();
    }
}

task<int&> fails_reference(int* object) {
    if (object != nullptr) {
        throw eddy::timeout_error();
    }
    co_return *object;
}

} // namespace

TEST_CASE("exceptions propagate through several levels of awaits", "[core][task]") {
    SECTION("to sync_wait") {
        REQUIRE_THROWS_WITH(eddy::sync_wait(fails_at_depth(5)), "deep failure");
    }

    SECTION("caught by a middle level, which continues") {
        REQUIRE(eddy::sync_wait(recovers_from_failure()) == 42);
    }

    SECTION("from task<void> and task<T&>, keeping their type") {
        int x = 0;
        REQUIRE_THROWS_AS(eddy::sync_wait(fails_void()), eddy::operation_cancelled);
        REQUIRE_THROWS_AS(eddy::sync_wait(fails_reference(&x)), eddy::timeout_error);
    }
}

namespace {

task<int> takes_counted(counted parameter) {
    counted local;
    co_return parameter.id() + local.id();
}

task<counted> makes_counted() { co_return counted{}; }

task<int> throws_holding_counted(counted parameter) {
    counted local;
    if (parameter.id() >= 0) {
        throw std::runtime_error("failed while holding counted objects");
    }
    co_return local.id();
}

task<int> parks_forever(counted parameter) {
    counted local;
    co_await suspend_forever{};
    co_return parameter.id() + local.id();
}

task<> awaits_parked(counted parameter) {
    counted local;
    int v = co_await parks_forever(counted{});
    (void)v;
    (void)parameter;
}

} // namespace

TEST_CASE("a task's frame, parameters, locals and result are destroyed", "[core][task]") {
    counted::reset();

    SECTION("a task never awaited destroys its frame and parameters") {
        {
            auto t = takes_counted(counted{});
            REQUIRE(counted::alive() == 1); // the parameter, held by the frame
        }
        REQUIRE(counted::alive() == 0);
    }

    SECTION("move assignment destroys the frame it replaces") {
        auto t = takes_counted(counted{});
        t = takes_counted(counted{});
        REQUIRE(counted::alive() == 1);
        t = task<int>{};
        REQUIRE(counted::alive() == 0);
    }

    SECTION("a finished task keeps its result until destroyed") {
        {
            auto t = makes_counted();
            counted& result = eddy::sync_wait(t);
            REQUIRE(result.id() == 0);
            REQUIRE(counted::alive() == 1); // the result, held by the promise
        }
        REQUIRE(counted::alive() == 0);
    }

    SECTION("awaited to completion") {
        REQUIRE(eddy::sync_wait(takes_counted(counted{})) == 1);
        REQUIRE(counted::alive() == 0);
    }

    SECTION("finished with an exception") {
        REQUIRE_THROWS(eddy::sync_wait(throws_holding_counted(counted{})));
        REQUIRE(counted::alive() == 0);
    }

    SECTION("a chain abandoned while suspended is destroyed from the top") {
        {
            auto d = drive(awaits_parked(counted{}));
            d.start();
            REQUIRE_FALSE(d.done());
            // Both frames' parameters and locals, and the argument temporary of the inner call
            // (it lives until the end of the full expression holding the co_await).
            REQUIRE(counted::alive() == 5);
        }
        REQUIRE(counted::alive() == 0);
    }
}

namespace {

struct copy_move_counts {
    int copies;
    int moves;
};

task<copy_move_tracker> make_tracker(int value) {
    copy_move_tracker t(value);
    co_return std::move(t); // one move into the promise
}

task<copy_move_counts> counts_after_rvalue_await() {
    copy_move_tracker r = co_await make_tracker(1); // one move out of the promise
    co_return copy_move_counts{r.copies(), r.moves()};
}

task<copy_move_counts> counts_after_lvalue_await() {
    auto t = make_tracker(2);
    auto& r = co_await t; // binds only if the result is an lvalue reference
    static_assert(std::is_same_v<decltype(r), copy_move_tracker&>);
    co_return copy_move_counts{r.copies(), r.moves()};
}

} // namespace

TEST_CASE("awaiting an lvalue task yields a reference to its result", "[core][task]") {
    auto counts = eddy::sync_wait(counts_after_lvalue_await());
    REQUIRE(counts.copies == 0);
    REQUIRE(counts.moves == 1); // only co_return's move into the promise
}

TEST_CASE("a moved result is never copied", "[core][task]") {
    SECTION("awaited as an rvalue by a task: two moves (into and out of the promise)") {
        auto counts = eddy::sync_wait(counts_after_rvalue_await());
        REQUIRE(counts.copies == 0);
        REQUIRE(counts.moves <= 2);
    }

    SECTION("through sync_wait") {
        copy_move_tracker r = eddy::sync_wait(make_tracker(3));
        REQUIRE(r.value() == 3);
        REQUIRE(r.copies() == 0);
        REQUIRE(r.moves() <= 4);
    }
}

namespace {

task<int> one() { co_return 1; }

task<> nothing() { co_return; }

task<int> one_through_two_levels() {
    int v = co_await one();
    co_return v;
}

task<long> sum_of_ones(int n) {
    long sum = 0;
    for (int i = 0; i < n; ++i) {
        sum += co_await one();
    }
    co_return sum;
}

task<int> await_nothing_n_times(int n) {
    int count = 0;
    for (int i = 0; i < n; ++i) {
        co_await nothing();
        ++count;
    }
    co_return count;
}

task<long> sum_through_two_levels(int n) {
    long sum = 0;
    for (int i = 0; i < n; ++i) {
        sum += co_await one_through_two_levels();
    }
    co_return sum;
}

task<int> nested(int depth) {
    if (depth == 0) {
        co_return 0;
    }
    int below = co_await nested(depth - 1);
    co_return below + 1;
}

} // namespace

TEST_CASE("a million synchronously completing awaits do not grow the stack", "[core][task]") {
    constexpr int n = 1'000'000;
    REQUIRE(eddy::sync_wait(sum_of_ones(n)) == n);
    REQUIRE(eddy::sync_wait(await_nothing_n_times(n)) == n);
    REQUIRE(eddy::sync_wait(sum_through_two_levels(n)) == n);
}

// Nesting (not looping) costs native stack like recursion does: each level's resume() stays on
// the stack while the level below runs. ~0.5 KiB per level under ASan at -O1 with either
// compiler (the presets' level); ~1.5 KiB with clang 14 -O0 + ASan, where 10 000 levels would
// overflow an 8 MiB stack.
TEST_CASE("a chain of 10 000 nested awaits completes", "[core][task]") {
    REQUIRE(eddy::sync_wait(nested(10'000)) == 10'000);
}

namespace {

task<int> child_on_new_thread(std::jthread* worker, std::thread::id* child_thread) {
    co_await resume_on_new_thread{worker};
    *child_thread = std::this_thread::get_id();
    co_return 7;
}

task<int> parent_of_hopping_child(std::jthread* worker, std::thread::id* child_thread,
                                  std::thread::id* parent_thread) {
    int v = co_await child_on_new_thread(worker, child_thread);
    *parent_thread = std::this_thread::get_id();
    co_return v * 6;
}

task<int> throws_on_new_thread(std::jthread* worker) {
    co_await resume_on_new_thread{worker};
    throw std::runtime_error("failed on another thread");
}

task<int> hops_n_times(std::vector<std::jthread>* workers, int n) {
    int sum = 0;
    for (int i = 0; i < n; ++i) {
        workers->emplace_back();
        co_await resume_on_new_thread{&workers->back()};
        sum += co_await one();
    }
    co_return sum;
}

} // namespace

TEST_CASE("a task resumed on another thread continues its awaiter", "[core][task][concurrency]") {
    // Repeated so that both orders of the completion hand-off (the child finishing before or
    // after its awaiter's thread has returned from resume()) happen.
    for (int i = 0; i < 200; ++i) {
        std::jthread worker;
        std::thread::id child_thread;
        std::thread::id parent_thread;
        int v = eddy::sync_wait(parent_of_hopping_child(&worker, &child_thread, &parent_thread));
        worker.join();
        REQUIRE(v == 42);
        REQUIRE(child_thread != std::this_thread::get_id());
        REQUIRE(parent_thread != std::thread::id{});
    }
}

namespace {

// Resumes the awaiting coroutine on a new thread and waits for that thread to finish: the
// coroutine runs to its end on the other thread before await_suspend returns.
struct finish_on_other_thread_before_returning {
    bool await_ready() const noexcept { return false; }
    [[gnu::noinline]] void await_suspend(std::coroutine_handle<> awaiting) const {
        std::jthread([awaiting] { awaiting.resume(); }).join();
    }
    void await_resume() const noexcept {}
};

task<std::thread::id> finishes_on_other_thread() {
    co_await finish_on_other_thread_before_returning{};
    co_return std::this_thread::get_id();
}

task<bool> continues_on_starting_thread() {
    const std::thread::id starter = std::this_thread::get_id();
    std::thread::id child_thread = co_await finishes_on_other_thread();
    co_return child_thread != starter&& std::this_thread::get_id() == starter;
}

// Suspends and leaves its handle for the test to resume from wherever it likes.
struct park {
    std::coroutine_handle<>* slot;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> awaiting) const noexcept { *slot = awaiting; }
    void await_resume() const noexcept {}
};

task<std::thread::id> parked_child(std::coroutine_handle<>* slot) {
    co_await park{slot};
    co_return std::this_thread::get_id();
}

task<void> parent_of_parked(std::coroutine_handle<>* slot, std::thread::id* child_thread,
                            std::thread::id* parent_thread) {
    *child_thread = co_await parked_child(slot);
    *parent_thread = std::this_thread::get_id();
}

} // namespace

// task.hpp: the awaiter resumes on the thread the task finished on, unless the task finished
// before the awaiting thread returned from starting it; then the awaiting thread continues.
TEST_CASE("a task finished elsewhere before its starter returned continues on the starter",
          "[core][task][concurrency]") {
    REQUIRE(eddy::sync_wait(continues_on_starting_thread()));
}

TEST_CASE("a task finished elsewhere after its starter returned continues on that thread",
          "[core][task][concurrency]") {
    std::coroutine_handle<> child;
    std::thread::id child_thread;
    std::thread::id parent_thread;
    eddy::async_scope scope;
    // spawn returns once the parent is suspended, i.e. after the awaiter's start returned.
    scope.spawn(parent_of_parked(&child, &child_thread, &parent_thread));
    REQUIRE(child);
    REQUIRE(parent_thread == std::thread::id{});
    std::thread::id resumer;
    std::jthread([&] {
        resumer = std::this_thread::get_id();
        child.resume();
    }).join();
    REQUIRE(child_thread == resumer);
    REQUIRE(parent_thread == resumer);
    eddy::sync_wait(scope.join());
}

TEST_CASE("an exception thrown after a thread hop reaches the awaiter",
          "[core][task][concurrency]") {
    std::jthread worker;
    REQUIRE_THROWS_WITH(eddy::sync_wait(throws_on_new_thread(&worker)), "failed on another thread");
    worker.join();
}

TEST_CASE("a task hopping threads in a loop keeps its state", "[core][task][concurrency]") {
    std::vector<std::jthread> workers;
    workers.reserve(50); // the awaiter keeps a pointer to its slot
    REQUIRE(eddy::sync_wait(hops_n_times(&workers, 50)) == 50);
    for (auto& w : workers) {
        w.join();
    }
}

namespace {

task<std::stop_token> own_token() { co_return co_await eddy::get_stop_token(); }

task<std::stop_token> child_token() { co_return co_await own_token(); }

task<std::stop_token> grandchild_token() { co_return co_await child_token(); }

task<std::stop_token> child_token_overridden(std::stop_token child) {
    co_return co_await eddy::with_stop_token(own_token(), std::move(child));
}

task<std::stop_token> lvalue_child_token() {
    auto t = own_token();
    co_return co_await t;
}

task<bool> child_sees_stop_requested() {
    auto token = co_await child_token();
    co_return token.stop_requested();
}

} // namespace

TEST_CASE("a child task inherits its awaiter's stop token", "[core][task]") {
    std::stop_source source;

    SECTION("one and two levels down, awaited as rvalue or lvalue") {
        auto t = eddy::sync_wait(eddy::with_stop_token(child_token(), source.get_token()));
        REQUIRE(t == source.get_token());
        t = eddy::sync_wait(eddy::with_stop_token(grandchild_token(), source.get_token()));
        REQUIRE(t == source.get_token());
        t = eddy::sync_wait(eddy::with_stop_token(lvalue_child_token(), source.get_token()));
        REQUIRE(t == source.get_token());
    }

    SECTION("with_stop_token on the child overrides the inherited token") {
        std::stop_source other;
        auto t = eddy::sync_wait(
            eddy::with_stop_token(child_token_overridden(other.get_token()), source.get_token()));
        REQUIRE(t == other.get_token());
        REQUIRE(t != source.get_token());
    }

    SECTION("a stop requested on the parent's source is visible in the child") {
        source.request_stop();
        REQUIRE(eddy::sync_wait(
            eddy::with_stop_token(child_sees_stop_requested(), source.get_token())));
    }

    SECTION("without with_stop_token, nothing to inherit: an empty token") {
        auto t = eddy::sync_wait(grandchild_token());
        REQUIRE_FALSE(t.stop_possible());
    }
}

namespace {

struct frame_address {
    void* address = nullptr;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
        address = h.address();
        return false;
    }
    void* await_resume() const noexcept { return address; }
};

task<void*> where_is_my_frame() { co_return co_await frame_address{}; }

} // namespace

TEST_CASE("task frames are recycled per thread, except under AddressSanitizer", "[core][task]") {
    void* first = eddy::sync_wait(where_is_my_frame());
    void* second = eddy::sync_wait(where_is_my_frame());
#if EDDY_FRAME_CACHE
    REQUIRE(first == second);
#else
    // ASan keeps freed memory in quarantine: a new frame never lands on the old one.
    REQUIRE(first != second);
#endif
}
