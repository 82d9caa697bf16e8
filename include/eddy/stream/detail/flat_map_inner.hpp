// eddy/stream/detail/flat_map_inner.hpp - what the function of eddy::flat_map and
// eddy::concat_map may return (a stream, a pipeline or a task), and that result as a stream.
#pragma once

#include <concepts>    // std::convertible_to
#include <type_traits> // std::is_void_v, std::is_reference_v
#include <utility>     // std::move

#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy::detail {

// valid: R is an eddy::stream<U>, something converting to the stream of its value_type (a
// pipeline), or an eddy::task<U> with U a non-void, non-reference type (one value).
template <class R>
struct flat_map_inner {
    static constexpr bool valid = false;
    using value_type = int; // a placeholder that keeps errors after the static_assert quiet
};

template <class U>
struct flat_map_inner<task<U>> {
    static constexpr bool valid = !std::is_void_v<U> && !std::is_reference_v<U>;
    using value_type = std::conditional_t<valid, U, int>;
};

template <class R>
    requires std::convertible_to<R, stream<typename R::value_type>>
struct flat_map_inner<R> {
    static constexpr bool valid = true;
    using value_type = typename R::value_type;
};

template <class U>
stream<U> flat_map_task_stream(task<U> t) {
    U value = co_await std::move(t);
    co_yield std::move(value);
}

// The function's result as a stream (a task becomes a one-value stream, run when pulled).
template <class R>
stream<typename flat_map_inner<R>::value_type> flat_map_as_stream(R result) {
    using U = typename flat_map_inner<R>::value_type;
    if constexpr (std::is_same_v<R, task<U>>) {
        return flat_map_task_stream(std::move(result));
    } else {
        return stream<U>(std::move(result));
    }
}

} // namespace eddy::detail
