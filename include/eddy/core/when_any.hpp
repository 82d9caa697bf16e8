// eddy/core/when_any.hpp - await several awaitables concurrently; the first to finish wins.
#pragma once

#include <cstddef>    // std::size_t
#include <exception>  // std::rethrow_exception
#include <optional>   // std::optional
#include <stop_token> // std::stop_callback
#include <tuple>      // std::tuple
#include <utility>    // std::index_sequence, std::move
#include <variant>    // std::variant, std::in_place_index
#include <vector>     // std::vector

#include <eddy/core/awaitable.hpp>
#include <eddy/core/detail/when_group.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/task.hpp>

namespace eddy {

/// The result of `when_any` over a vector: which awaitable finished first, and its value.
template <class T>
struct when_any_result {
    std::size_t index;
    T value;
};

template <>
struct when_any_result<void> {
    std::size_t index;
};

namespace detail {
template <class Variant, class... Children, std::size_t... I>
Variant take_winner(std::tuple<Children...>& children, std::size_t winner,
                    std::index_sequence<I...>) {
    std::optional<Variant> result;
    ((winner == I ? (result.emplace(std::in_place_index<I>, std::get<I>(children).take()), 0) : 0),
     ...);
    return std::move(*result);
}
template <class... Awaitables>
task<std::variant<typename detail::group_child<detail::group_result_t<Awaitables>>::stored...>>
when_any_impl(Awaitables... awaitables) {
    using variant =
        std::variant<typename detail::group_child<detail::group_result_t<Awaitables>>::stored...>;
    detail::group_state state(sizeof...(Awaitables), detail::group_mode::any);
    std::stop_callback forward(co_await get_stop_token(), detail::forward_stop{&state});
    std::tuple<detail::group_child<detail::group_result_t<Awaitables>>...> children(
        detail::make_group_child<detail::group_result_t<Awaitables>>(awaitables)...);
    co_await detail::group_start<decltype(children)>{state, children};
    const std::size_t winner = state.first();
    detail::rethrow_first(state, children);
    co_return detail::take_winner<variant>(children, winner,
                                           std::index_sequence_for<Awaitables...>{});
}
} // namespace detail

/// Awaits every argument concurrently and yields the result of the first to finish, as a
/// `std::variant` whose `index()` names the winner (`std::monostate` for void, a
/// `std::reference_wrapper` for a reference).
///
/// Lazy: a task. The moment one child finishes (with a value or an exception), stop is
/// requested on the others; when_any still waits for all of them to finish (no work outlives
/// it), then yields the winner's value or rethrows the winner's exception. The losers' results
/// and exceptions (typically `operation_cancelled`) are discarded. A child that ignores its
/// stop token delays the result until it finishes. The awaiter resumes on the thread of the
/// child that finishes last.
///
///     auto r = co_await eddy::when_any(fetch(primary), fetch(replica));
///     reply x = r.index() == 0 ? std::get<0>(r) : std::get<1>(r);
template <class... Awaitables>
[[nodiscard]] auto when_any(Awaitables... awaitables) {
    static_assert(sizeof...(Awaitables) > 0, "eddy::when_any: needs at least one awaitable");
    if constexpr (!(eddy::awaitable<Awaitables> && ...)) {
        static_assert((eddy::awaitable<Awaitables> && ...),
                      "eddy::when_any: every argument must be awaitable");
    } else {
        return detail::when_any_impl(std::move(awaitables)...);
    }
}

/// Awaits every awaitable of the vector concurrently; yields the index and value of the first
/// to finish. Same semantics as the variadic form. An empty vector is bad input:
/// `eddy::error`.
///
///     auto [index, reply] = co_await eddy::when_any(std::move(requests));
template <class Awaitable>
[[nodiscard]] task<when_any_result<
    std::conditional_t<std::is_void_v<await_result_t<Awaitable>>, void,
                       typename detail::group_child<detail::group_result_t<Awaitable>>::stored>>>
when_any(std::vector<Awaitable> awaitables) {
    static_assert(eddy::awaitable<Awaitable>,
                  "eddy::when_any: the vector's element type must be awaitable");
    if (awaitables.empty()) {
        throw error("eddy::when_any: the vector of awaitables is empty");
    }
    using result = detail::group_result_t<Awaitable>;
    detail::group_state state(awaitables.size(), detail::group_mode::any);
    std::stop_callback forward(co_await get_stop_token(), detail::forward_stop{&state});
    std::vector<detail::group_child<result>> children;
    children.reserve(awaitables.size());
    for (auto& awaitable : awaitables) {
        children.push_back(detail::make_group_child<result>(awaitable));
    }
    co_await detail::group_start<decltype(children)>{state, children};
    const std::size_t winner = state.first();
    if (children[winner].exception()) {
        std::rethrow_exception(children[winner].exception());
    }
    if constexpr (std::is_void_v<await_result_t<Awaitable>>) {
        co_return when_any_result<void>{winner};
    } else {
        co_return when_any_result<typename detail::group_child<result>::stored>{
            winner, children[winner].take()};
    }
}

} // namespace eddy
