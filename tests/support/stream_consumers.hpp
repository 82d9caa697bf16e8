// tests/support/stream_consumers.hpp - consumers that the stream operator tests pull with, as
// tasks: one pull, the first n values, or everything up to the end or the first exception (kept,
// with the values before it, for the test to inspect).
#pragma once

#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>

#include <exception> // std::exception_ptr, std::current_exception
#include <optional>  // std::optional
#include <utility>   // std::move
#include <vector>    // std::vector

#include <support/detached.hpp>

namespace eddy::test {

/// True when `e` holds an exception of type `E` (or derived from it); false when `e` is null.
template <class E>
bool is(const std::exception_ptr& e) {
    return failed_with<E>(outcome{true, e});
}

/// One pull of `*s`, as a task.
template <class T>
eddy::task<std::optional<T>> pull_one(eddy::stream<T>* s) {
    std::optional<T> v = co_await s->next();
    co_return v;
}

/// Takes the first `n` values of `s` (fewer if it ends sooner); `s` is then destroyed mid-way,
/// with the task.
template <class T>
eddy::task<std::vector<T>> take_n(eddy::stream<T> s, int n) {
    std::vector<T> out;
    for (int i = 0; i < n; ++i) {
        std::optional<T> v = co_await s.next();
        if (!v) {
            break;
        }
        out.push_back(std::move(*v));
    }
    co_return out;
}

/// The values a stream gave before it ended, and the exception it ended with, if any.
template <class T>
struct drained {
    std::vector<T> values;
    std::exception_ptr error;
};

/// Pulls `*s` to its end or its first exception (a stop request's eddy::operation_cancelled
/// included); `*s` stays the caller's, to destroy when the test chooses.
template <class T>
eddy::task<drained<T>> drain(eddy::stream<T>* s) {
    drained<T> r;
    try {
        for (;;) {
            std::optional<T> v = co_await s->next();
            if (!v) {
                break;
            }
            r.values.push_back(std::move(*v));
        }
    } catch (...) {
        r.error = std::current_exception();
    }
    co_return r;
}

/// The same, owning `s`: it is destroyed with the task (not when the pulls end).
template <class T>
eddy::task<drained<T>> drain(eddy::stream<T> s) {
    drained<T> r = co_await drain(&s);
    co_return r;
}

} // namespace eddy::test
