// eddy/core/error.hpp - the root of every exception eddy throws.
#pragma once

#include <stdexcept> // std::runtime_error
#include <string>    // std::string

namespace eddy {

/// Base class of every exception eddy throws: catch `eddy::error` to handle any failure
/// reported by the library. Bad input is always reported with one of these, never by a crash.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Thrown by an awaitable whose wait ended early because stop was requested on the
/// awaiting coroutine's stop token (timers, channel and lock waits, scheduling).
class operation_cancelled : public error {
public:
    operation_cancelled() : error("eddy: operation cancelled") {}
    explicit operation_cancelled(const std::string& what) : error(what) {}
};

/// Thrown by `channel<T>::send` when the channel is closed.
class channel_closed : public error {
public:
    channel_closed() : error("eddy: send on a closed channel") {}
};

/// Thrown when an operation with a deadline did not finish in time.
class timeout_error : public error {
public:
    timeout_error() : error("eddy: operation timed out") {}
    explicit timeout_error(const std::string& what) : error(what) {}
};

} // namespace eddy
