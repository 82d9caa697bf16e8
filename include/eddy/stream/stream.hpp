// eddy/stream/stream.hpp - eddy::stream<T>, an asynchronous generator: co_yield inside,
// co_await s.next() outside.
#pragma once

#include <cassert>     // assert
#include <coroutine>   // std::coroutine_handle
#include <exception>   // std::rethrow_exception
#include <optional>    // std::optional (the result of next())
#include <stop_token>  // std::stop_token
#include <type_traits> // std::is_object_v
#include <utility>     // std::exchange, std::move

#include <eddy/core/detail/config.hpp>
#include <eddy/core/detail/stop_token_of.hpp>
#include <eddy/stream/detail/stream_promise.hpp>

namespace eddy {

/// An asynchronous sequence of `T`: the body `co_yield`s values and may `co_await` anything
/// between them; the consumer pulls them one at a time with `co_await s.next()`, which yields
/// `std::optional<T>`, empty once the body has finished.
///
/// Lazy: nothing of the body runs before the first `next()` is awaited; each `co_yield`
/// suspends the body until the next `next()` (pull-based, so the producer is never more than
/// one value ahead). Values are moved out to the consumer: `co_yield` of an rvalue never
/// copies, of an lvalue copies once; move-only `T` works.
/// Where the awaiter of `next()` resumes: where the body yielded (or finished). When that
/// happened before the awaiting thread returned from resuming the body (a body that yields
/// synchronously, or hopped and yielded elsewhere very fast), the awaiting thread simply
/// continues, so a loop of a million synchronous pulls runs in constant stack; when the body
/// hopped (e.g. `co_await pool.schedule()`) and yields later, the consumer resumes on that
/// thread. Same rule as `eddy::task`.
/// Errors: an exception leaving the body is rethrown by the `next()` that was waiting; later
/// `next()` calls yield an empty optional, as they do after the end.
/// Cancellation: the body's promise has `stop_token()` (timers and channels inside it see it):
/// a copy of the awaiting coroutine's token, taken at each `next()`, unless set with
/// `set_stop_token` / `eddy::with_stop_token(stream, token)`.
/// Preconditions (programming errors, checked by assert): at most one `next()` outstanding at
/// a time; `next()` on a valid stream; not destroyed while a `next()` is outstanding.
/// Lifetime: the stream owns the body's frame; destroying it (finished or not) destroys the
/// frame, so RAII in the body runs. Parameters of the body are copied into the frame;
/// references and lambda captures are not, so pass what the body uses by value (or make sure
/// it outlives the stream).
/// Thread-safety: none; one consumer pulls (it may move between threads between pulls).
///
///     eddy::stream<int> count_to(int n) { for (int i = 1; i <= n; ++i) co_yield i; }
///     eddy::task<int> sum(eddy::stream<int> s) {
///         int total = 0;
///         for (auto v = co_await s.next(); v; v = co_await s.next()) total += *v;
///         co_return total; } // sync_wait(sum(count_to(3))) == 6
template <class T>
class [[nodiscard]] stream {
    static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_array_v<T>,
                  "eddy::stream<T>: T must be a non-const, non-array object type");

public:
    using promise_type = detail::stream_promise<T>;
    using value_type = T;

    stream() noexcept = default;
    explicit stream(std::coroutine_handle<promise_type> coro) noexcept : m_coro(coro) {}
    stream(stream&& other) noexcept : m_coro(std::exchange(other.m_coro, {})) {}
    stream& operator=(stream&& other) noexcept {
        if (this != &other) {
            destroy();
            m_coro = std::exchange(other.m_coro, {});
        }
        return *this;
    }
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;
    ~stream() { destroy(); }

    /// True when the stream holds a body (not default-constructed or moved-from).
    [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(m_coro); }

    class next_awaiter;

    /// `co_await s.next()` resumes the body up to its next `co_yield` and yields the value, or
    /// an empty optional at the end; rethrows what the body throws (once).
    [[nodiscard]] next_awaiter next() noexcept { return next_awaiter{m_coro}; }

    /// Sets the stop token the body sees instead of inheriting the awaiter's at each next().
    void set_stop_token(std::stop_token token) noexcept {
        assert(m_coro && "eddy::stream: set_stop_token on an empty (moved-from) stream");
        m_coro.promise().set_stop_token(std::move(token));
    }

private:
    void destroy() noexcept {
        if (m_coro) {
            assert(!m_coro.promise().m_pulling && "eddy::stream destroyed during a next()");
            m_coro.destroy();
        }
    }

    std::coroutine_handle<promise_type> m_coro;
};

/// Awaiter of `stream<T>::next()`; yields `std::optional<T>` or rethrows the body's exception.
template <class T>
class stream<T>::next_awaiter {
public:
    explicit next_awaiter(std::coroutine_handle<promise_type> coro) noexcept : m_coro(coro) {}

    bool await_ready() const noexcept {
        assert(m_coro && "eddy::stream: next() on an empty (moved-from) stream");
        assert(!m_coro.promise().m_pulling && "eddy::stream: a second next() while one is pending");
        return m_coro.done();
    }

    template <class Promise>
    EDDY_AWAIT_SUSPEND_NOINLINE bool
    await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
        promise_type& p = m_coro.promise();
        p.m_pulling = true;
        p.inherit_stop_token_of(awaiting);
        return p.start(m_coro, awaiting);
    }

    [[nodiscard]] std::optional<T> await_resume() {
        promise_type& p = m_coro.promise();
        p.m_pulling = false;
        if (!m_coro.done()) {
            return std::optional<T>(std::move(*p.value()));
        }
        if (std::exception_ptr e = p.take_exception()) {
            std::rethrow_exception(std::move(e));
        }
        return std::nullopt;
    }

private:
    std::coroutine_handle<promise_type> m_coro;
};

/// Returns `s` set to give its body `token` instead of inheriting the awaiter's token.
///
///     std::stop_source stop;
///     auto s = eddy::with_stop_token(ticks(vt), stop.get_token());
template <class T>
[[nodiscard]] stream<T> with_stop_token(stream<T> s, std::stop_token token) noexcept {
    s.set_stop_token(std::move(token));
    return s;
}

namespace detail {
template <class T>
stream<T> stream_promise<T>::get_return_object() noexcept {
    return stream<T>{std::coroutine_handle<stream_promise>::from_promise(*this)};
}
} // namespace detail

} // namespace eddy
