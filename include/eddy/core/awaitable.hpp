// eddy/core/awaitable.hpp - the `awaitable` concept and the type an awaitable yields.
#pragma once

#include <concepts>    // std::same_as
#include <coroutine>   // std::coroutine_handle
#include <type_traits> // std::remove_cvref_t
#include <utility>     // std::declval, std::forward

namespace eddy {

namespace detail {
template <class T>
concept await_suspend_result = std::same_as<T, void> || std::same_as<T, bool> ||
    std::convertible_to<T, std::coroutine_handle<>>;

// The protocol checked against a plain coroutine_handle<>: an awaiter that only accepts a
// specific promise type is still an awaiter, but eddy's generic algorithms need the general form.
template <class A>
concept awaiter = requires(A& a, std::coroutine_handle<> h) {
    { a.await_ready() } -> std::convertible_to<bool>;
    { a.await_suspend(h) } -> await_suspend_result;
    a.await_resume();
};

// An operator co_await counts only when what it returns is an awaiter.
template <class A>
concept has_member_co_await = requires(A&& a) {
    { static_cast<A&&>(a).operator co_await() } -> awaiter;
};

template <class A>
concept has_free_co_await = requires(A&& a) {
    { operator co_await(static_cast<A&&>(a)) } -> awaiter;
};

// What a diagnostic can check without knowing the awaiting promise: an awaiter whose
// await_suspend accepts only some promise types still passes.
template <class A>
concept awaitable_for_some_promise = has_member_co_await<A> || has_free_co_await<A> ||
    requires(std::remove_reference_t<A>& a) {
    { a.await_ready() } -> std::convertible_to<bool>;
    a.await_resume();
};

template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (has_member_co_await<A>) {
        return std::forward<A>(a).operator co_await();
    } else if constexpr (has_free_co_await<A>) {
        return operator co_await(std::forward<A>(a));
    } else {
        return std::forward<A>(a);
    }
}
} // namespace detail

/// Something `co_await` accepts: an awaiter (`await_ready`, `await_suspend`, `await_resume`)
/// or a type whose `operator co_await` returns one.
template <class A>
concept awaitable = detail::has_member_co_await<A> || detail::has_free_co_await<A> ||
    detail::awaiter<std::remove_reference_t<A>>;

/// The type `co_await std::declval<A>()` yields.
template <awaitable A>
using await_result_t =
    decltype(std::declval<decltype(detail::get_awaiter(std::declval<A>()))&>().await_resume());

} // namespace eddy
