// eddy/core/generator.hpp - eddy::generator<T>, a synchronous lazy sequence written with co_yield.
#pragma once

#include <cassert>     // assert
#include <concepts>    // std::constructible_from
#include <coroutine>   // std::coroutine_handle, std::suspend_always
#include <cstddef>     // std::ptrdiff_t
#include <exception>   // std::exception_ptr, std::rethrow_exception
#include <iterator>    // std::default_sentinel_t, std::input_iterator_tag
#include <memory>      // std::addressof
#include <ranges>      // std::ranges::view_base (a tag; view_interface trips clang 14)
#include <type_traits> // std::conditional_t, std::remove_cvref_t
#include <utility>     // std::exchange, std::move

namespace eddy {

/// A lazy, synchronous sequence of `T`, produced by a coroutine body with `co_yield`.
///
/// Lazy: the body starts when `begin()` is called and runs up to each `co_yield` on `++it`.
/// Synchronous: the body runs inline on the thread calling `begin()` / `++it` (it may not
/// `co_await`); an exception leaving the body is rethrown from that call, after which the
/// iterator equals `end()`. Same element types as C++23 `std::generator<T>`: `*it` is `T&&`
/// for a value type `T` (so `for (auto v : g)` moves, and move-only `T` works) and `T` itself
/// for a reference type (`generator<T&>` / `generator<const T&>` hand out references to the
/// yielded objects, never copies). `co_yield` of an rvalue never copies; `co_yield` of an
/// lvalue copies once for a value type `T`, never for a reference type.
/// An input range (and a view). Programming errors, checked by assert (undefined behaviour
/// under NDEBUG): calling `begin()` twice, dereferencing or incrementing the end iterator.
/// Lifetime: the generator owns the frame; destroying it destroys the frame and everything
/// the body holds (RAII in the body runs), finished or not. Iterators and the references
/// `*it` yields must not outlive it; a yielded reference is valid until the next `++it`.
/// Parameters are copied into the frame; references and lambda captures are not.
/// Thread-safety: none; use a generator and its iterator from one thread at a time.
///
///     eddy::generator<int> iota(int n) { for (int i = n;; ++i) co_yield i; }
///     for (int v : iota(10)) { if (v == 13) break; use(v); } // 10, 11, 12
///     auto it = std::ranges::find(g, 42); // any std::ranges algorithm for input ranges
template <class T>
class [[nodiscard]] generator : public std::ranges::view_base {
public:
    using value_type = std::remove_cvref_t<T>;
    using reference = std::conditional_t<std::is_reference_v<T>, T, T&&>;

    class promise_type {
    public:
        generator get_return_object() noexcept {
            return generator{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }

        std::suspend_always yield_value(reference value) noexcept {
            m_value = std::addressof(value);
            return {};
        }

        // An lvalue yielded into a generator of values: copied into the awaiter, which lives in
        // the frame until the body resumes, so `*it` can still hand out an rvalue reference.
        static constexpr bool copies_lvalues =
            std::is_rvalue_reference_v<reference> &&
            std::constructible_from<value_type, const value_type&>;
        auto yield_value(const value_type& value) requires copies_lvalues {
            struct copy_awaiter : std::suspend_always {
                value_type m_copy;
                void await_suspend(std::coroutine_handle<promise_type> self) noexcept {
                    self.promise().m_value = std::addressof(m_copy);
                }
            };
            return copy_awaiter{{}, value};
        }

        void return_void() const noexcept {}
        void unhandled_exception() noexcept { m_exception = std::current_exception(); }

        // The body is synchronous: there is nothing to resume it after a co_await.
        template <class U>
        std::suspend_never await_transform(U&&) = delete;

    private:
        friend generator;
        std::remove_reference_t<reference>* m_value = nullptr;
        std::exception_ptr m_exception;
    };

    /// Input iterator over the yielded values; compares equal to `end()` once the body is done.
    class iterator {
    public:
        using iterator_concept = std::input_iterator_tag;
        using value_type = generator::value_type;
        using difference_type = std::ptrdiff_t;

        iterator() noexcept = default;

        [[nodiscard]] reference operator*() const noexcept {
            assert(m_coro && !m_coro.done() && "eddy::generator: dereferencing end()");
            return static_cast<reference>(*m_coro.promise().m_value);
        }
        iterator& operator++() {
            assert(m_coro && !m_coro.done() && "eddy::generator: incrementing end()");
            advance(m_coro);
            return *this;
        }
        void operator++(int) { ++*this; }

        [[nodiscard]] friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
            return !it.m_coro || it.m_coro.done();
        }

    private:
        friend generator;
        explicit iterator(std::coroutine_handle<promise_type> coro) noexcept : m_coro(coro) {}
        std::coroutine_handle<promise_type> m_coro; // not owned: the generator destroys it
    };

    generator() noexcept = default;
    generator(generator&& other) noexcept
        : m_coro(std::exchange(other.m_coro, {})),
          m_started(std::exchange(other.m_started, false)) {}
    generator& operator=(generator&& other) noexcept {
        if (this != &other) {
            destroy();
            m_coro = std::exchange(other.m_coro, {});
            m_started = std::exchange(other.m_started, false);
        }
        return *this;
    }
    ~generator() { destroy(); }

    /// Runs the body to its first `co_yield` (rethrowing what it throws); call it once.
    [[nodiscard]] iterator begin() {
        assert(!m_started && "eddy::generator: begin() called twice (it is an input range)");
        m_started = true;
        if (m_coro) {
            advance(m_coro);
        }
        return iterator{m_coro};
    }
    [[nodiscard]] std::default_sentinel_t end() const noexcept { return {}; }

private:
    explicit generator(std::coroutine_handle<promise_type> coro) noexcept : m_coro(coro) {}

    static void advance(std::coroutine_handle<promise_type> coro) {
        coro.resume();
        if (coro.done() && coro.promise().m_exception) {
            std::rethrow_exception(std::exchange(coro.promise().m_exception, {}));
        }
    }

    void destroy() noexcept {
        if (m_coro) {
            m_coro.destroy();
        }
    }

    std::coroutine_handle<promise_type> m_coro;
    bool m_started = false;
};

} // namespace eddy
