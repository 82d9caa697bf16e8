// eddy/stream/error_stream.hpp - eddy::error_stream<T>(e): a stream that fails at once.
// (Not `eddy::error<T>`: a function named `error` would hide the class eddy::error.)
#pragma once

#include <cassert>     // assert
#include <concepts>    // std::same_as
#include <exception>   // std::exception_ptr, std::make_exception_ptr, std::rethrow_exception
#include <type_traits> // std::decay_t
#include <utility>     // std::move

#include <eddy/stream/stream.hpp>

namespace eddy {

/// A stream of `T` whose first `next()` rethrows `e` (and later ones yield an empty
/// optional), like a body that throws before its first `co_yield`.
///
/// Lazy: nothing is thrown before the first `next()`; where the awaiter resumes: inline.
/// Precondition: `e` is not null (assert).
/// Thread-safety: none (see `eddy::stream`).
///
///     auto s = eddy::error_stream<int>(std::runtime_error("down"));
///     co_await s.next(); // throws std::runtime_error("down")
template <class T>
[[nodiscard]] stream<T> error_stream(std::exception_ptr e) {
    assert(e && "eddy::error_stream: a null exception_ptr");
    std::rethrow_exception(std::move(e));
    co_return;
}

/// As above, from an exception object (copied into an `std::exception_ptr` now).
template <class T, class E>
    requires(!std::same_as<std::decay_t<E>, std::exception_ptr>)
[[nodiscard]] stream<T> error_stream(E exception) {
    return error_stream<T>(std::make_exception_ptr(std::move(exception)));
}

} // namespace eddy
