// eddy/core/when_all.hpp - await several awaitables concurrently and collect every result.
#pragma once

#include <cstddef>    // std::size_t
#include <exception>  // std::rethrow_exception
#include <optional>   // std::optional
#include <stop_token> // std::stop_callback
#include <tuple>      // std::tuple
#include <utility>    // std::index_sequence, std::move
#include <vector>     // std::vector

#include <eddy/core/awaitable.hpp>
#include <eddy/core/detail/when_group.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/task.hpp>

namespace eddy {

namespace detail {
template <class... Children, std::size_t... I>
auto take_all(std::tuple<Children...>& children, std::index_sequence<I...>) {
    using result = std::tuple<non_void_t<typename Children::stored>...>;
    return result(std::get<I>(children).take()...);
}

template <class... Awaitables>
task<std::tuple<detail::non_void_t<detail::group_result_t<Awaitables>>...>>
when_all_impl(Awaitables... awaitables) {
    detail::group_state state(sizeof...(Awaitables), detail::group_mode::all);
    std::stop_callback forward(co_await get_stop_token(), detail::forward_stop{&state});
    std::tuple<detail::group_child<detail::group_result_t<Awaitables>>...> children(
        detail::make_group_child<detail::group_result_t<Awaitables>>(awaitables)...);
    co_await detail::group_start<decltype(children)>{state, children};
    detail::rethrow_first(state, children);
    co_return detail::take_all(children, std::index_sequence_for<Awaitables...>{});
}
} // namespace detail

/// Awaits every argument concurrently; yields a `std::tuple` of their results in argument
/// order (`std::monostate` for a void result, a reference for a reference result).
///
/// Lazy: a task; nothing starts until it is awaited. Children start one after another on the
/// awaiting thread, each running until its first suspension; the awaiter resumes on the thread
/// of whichever child finishes last.
/// Failure: when a child throws, stop is requested on the others (they share a stop source
/// linked to the awaiter's token); once all have finished, the first exception is rethrown.
/// Lifetime: the awaitables are moved into the when_all frame, which outlives the children.
///
///     auto [user, orders] = co_await eddy::when_all(load_user(id), load_orders(id));
template <class... Awaitables>
[[nodiscard]] auto when_all(Awaitables... awaitables) {
    if constexpr (!(eddy::awaitable<Awaitables> && ...)) {
        static_assert((eddy::awaitable<Awaitables> && ...),
                      "eddy::when_all: every argument must be awaitable");
    } else {
        return detail::when_all_impl(std::move(awaitables)...);
    }
}

/// Awaits every awaitable of the vector concurrently; yields their results in input order
/// (nothing for void results, a `std::reference_wrapper` for reference results). Same semantics as
/// the variadic form; an empty vector yields an empty result at once.
///
///     std::vector<eddy::task<int>> work;
///     for (int i = 0; i < 10; ++i) work.push_back(square(i));
///     std::vector<int> squares = co_await eddy::when_all(std::move(work));
template <class Awaitable>
[[nodiscard]] auto when_all(std::vector<Awaitable> awaitables) -> task<std::conditional_t<
    std::is_void_v<await_result_t<Awaitable>>, void,
    std::vector<typename detail::group_child<detail::group_result_t<Awaitable>>::stored>>> {
    static_assert(eddy::awaitable<Awaitable>,
                  "eddy::when_all: the vector's element type must be awaitable");
    using result = detail::group_result_t<Awaitable>;
    detail::group_state state(awaitables.size(), detail::group_mode::all);
    std::stop_callback forward(co_await get_stop_token(), detail::forward_stop{&state});
    std::vector<detail::group_child<result>> children;
    children.reserve(awaitables.size());
    for (auto& awaitable : awaitables) {
        children.push_back(detail::make_group_child<result>(awaitable));
    }
    co_await detail::group_start<decltype(children)>{state, children};
    if (const std::size_t first = state.first(); first != detail::no_index) {
        std::rethrow_exception(children[first].exception());
    }
    if constexpr (!std::is_void_v<await_result_t<Awaitable>>) {
        std::vector<typename detail::group_child<result>::stored> results;
        results.reserve(children.size());
        for (auto& child : children) {
            results.push_back(child.take());
        }
        co_return results;
    }
}

} // namespace eddy
