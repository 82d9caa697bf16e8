// eddy/core/detail/when_group.hpp - the child coroutines shared by when_all and when_any.
#pragma once

#include <atomic>      // std::atomic (pending count, first index)
#include <coroutine>   // std::coroutine_handle
#include <cstddef>     // std::size_t
#include <exception>   // std::exception_ptr
#include <functional>  // std::reference_wrapper
#include <memory>      // std::addressof
#include <optional>    // std::optional
#include <stop_token>  // std::stop_source, std::stop_token
#include <tuple>       // std::apply
#include <type_traits> // std::conditional_t
#include <utility>     // std::exchange, std::forward, std::move
#include <variant>     // std::monostate

#include <eddy/core/awaitable.hpp>
#include <eddy/core/detail/config.hpp>

namespace eddy::detail {

// What a child's awaitable yields, as stored and handed back: values decay, lvalue
// references stay references, void becomes std::monostate.
template <class A>
using group_result_t =
    std::conditional_t<std::is_lvalue_reference_v<await_result_t<A>>, await_result_t<A>,
                       std::remove_cvref_t<await_result_t<A>>>;

template <class R>
using non_void_t = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

inline constexpr std::size_t no_index = static_cast<std::size_t>(-1);

enum class group_mode : unsigned char {
    all, // the first failure decides (and stops the others)
    any, // the first completion decides (and stops the others)
};

class group_state {
public:
    group_state(std::size_t children, group_mode mode) noexcept
        : m_pending(children + 1), m_mode(mode) {}

    [[nodiscard]] std::stop_token stop_token() const noexcept { return m_stop.get_token(); }
    void request_stop() noexcept { m_stop.request_stop(); }
    [[nodiscard]] std::size_t first() const noexcept {
        return m_first.load(std::memory_order_acquire);
    }

    void child_finished(std::size_t index, bool failed) noexcept {
        if (failed || m_mode == group_mode::any) {
            std::size_t expected = no_index;
            if (m_first.compare_exchange_strong(expected, index, std::memory_order_acq_rel)) {
                m_stop.request_stop();
            }
        }
    }

    // Returns the coroutine to continue when this was the last outstanding party.
    std::coroutine_handle<> arrive() noexcept {
        if (m_pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            return m_continuation;
        }
        return std::noop_coroutine();
    }

    void set_continuation(std::coroutine_handle<> h) noexcept { m_continuation = h; }

private:
    std::atomic<std::size_t> m_pending;
    std::atomic<std::size_t> m_first{no_index};
    std::coroutine_handle<> m_continuation;
    std::stop_source m_stop;
    group_mode m_mode;
};

template <class R>
class group_child {
public:
    using stored =
        std::conditional_t<std::is_reference_v<R>,
                           std::reference_wrapper<std::remove_reference_t<R>>, non_void_t<R>>;

    class promise_type {
    public:
        group_child get_return_object() noexcept {
            return group_child{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }

        struct final_awaiter {
            bool await_ready() const noexcept { return false; }
            EDDY_AWAIT_SUSPEND_NOINLINE std::coroutine_handle<>
            await_suspend(std::coroutine_handle<promise_type> h) noexcept {
                promise_type& p = h.promise();
                p.m_state->child_finished(p.m_index, p.m_exception != nullptr);
                return p.m_state->arrive();
            }
            void await_resume() const noexcept {}
        };
        final_awaiter final_suspend() const noexcept { return {}; }

        void unhandled_exception() noexcept { m_exception = std::current_exception(); }

        template <class U>
        void return_value(U&& value) {
            if constexpr (std::is_reference_v<R>) {
                m_value.emplace(value);
            } else {
                m_value.emplace(std::forward<U>(value));
            }
        }

        [[nodiscard]] std::stop_token stop_token() const noexcept { return m_state->stop_token(); }

        group_state* m_state = nullptr;
        std::size_t m_index = 0;
        std::optional<stored> m_value;
        std::exception_ptr m_exception;
    };

    explicit group_child(std::coroutine_handle<promise_type> h) noexcept : m_coro(h) {}
    group_child(group_child&& o) noexcept : m_coro(std::exchange(o.m_coro, {})) {}
    group_child& operator=(group_child&&) = delete;
    ~group_child() {
        if (m_coro) {
            m_coro.destroy();
        }
    }

    void start(group_state& state, std::size_t index) noexcept {
        m_coro.promise().m_state = &state;
        m_coro.promise().m_index = index;
        m_coro.resume();
    }

    [[nodiscard]] const std::exception_ptr& exception() const noexcept {
        return m_coro.promise().m_exception;
    }

    // Precondition: finished without exception.
    stored take() { return std::move(*m_coro.promise().m_value); }

private:
    std::coroutine_handle<promise_type> m_coro;
};

// The awaitable is owned by the calling when_all/when_any frame, which outlives every child.
template <class R, class A>
group_child<R> make_group_child(A& awaitable) {
    if constexpr (std::is_void_v<R>) {
        co_await std::move(awaitable);
        co_return std::monostate{};
    } else {
        co_return co_await std::move(awaitable);
    }
}

// Starts every child, then suspends until all have finished.
template <class Children>
struct group_start {
    group_state& m_state;
    Children& m_children;

    bool await_ready() const noexcept { return false; }
    EDDY_AWAIT_SUSPEND_NOINLINE bool await_suspend(std::coroutine_handle<> self) noexcept {
        m_state.set_continuation(self);
        std::size_t index = 0;
        if constexpr (requires { m_children.begin(); }) {
            for (auto& child : m_children) {
                child.start(m_state, index++);
            }
        } else {
            std::apply([&](auto&... child) { (child.start(m_state, index++), ...); }, m_children);
        }
        // The parent holds one count of its own, so no child can resume it before this.
        return m_state.arrive() != self;
    }
    void await_resume() const noexcept {}
};

// Rethrows the exception of the child that decided the group, if it failed.
template <class Tuple>
void rethrow_first(group_state& state, Tuple& children) {
    const std::size_t first = state.first();
    if (first == no_index) {
        return;
    }
    std::size_t index = 0;
    std::apply(
        [&](auto&... child) {
            ((index++ == first && child.exception() ? std::rethrow_exception(child.exception())
                                                    : void()),
             ...);
        },
        children);
}

// Forwards the caller's stop request to the group.
struct forward_stop {
    group_state* m_state;
    void operator()() const noexcept { m_state->request_stop(); }
};

} // namespace eddy::detail
