// tests/support/virtual_time_tasks.hpp - small tasks that the tests of the combinators and
// schedulers (when_all, when_any, async_scope, virtual_time_scheduler) build their cases from:
// children that finish at a chosen virtual time, with a value, an exception or a stop request.
// Shared so that every test means the same thing by "a child that returns 1 after 3 s". A test
// takes them all with `using namespace eddy::test::virtual_time;`, or names the ones it wants
// where its own helpers reuse a name (async_scope's fail_after returns void).
#pragma once

#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

#include <stdexcept>  // std::runtime_error
#include <stop_token> // std::stop_source
#include <string>     // std::string

#include <support/counted.hpp>

namespace eddy::test::virtual_time {

/// The virtual clock's types, and its zero: `vt.now() == epoch + 3s`.
using duration = eddy::virtual_time_scheduler::duration;
using time_point = eddy::virtual_time_scheduler::time_point;
inline constexpr time_point epoch{};

/// Completes at once, without suspending.
inline eddy::task<int> ready(int v) { co_return v; }

/// Completes at once with a reference to `*object` (a reference result is not copied).
inline eddy::task<int&> reference_to(int* object) { co_return *object; }

/// Returns `v` once `d` of virtual time has passed.
inline eddy::task<int> value_after(eddy::virtual_time_scheduler& vt, duration d, int v) {
    co_await vt.schedule_after(d);
    co_return v;
}

/// Waits `d` of virtual time; a stop request ends the wait with eddy::operation_cancelled.
inline eddy::task<void> sleep_on(eddy::virtual_time_scheduler& vt, duration d) {
    co_await vt.schedule_after(d);
}

/// Throws std::runtime_error(`what`) once `d` has passed.
inline eddy::task<int> fail_after(eddy::virtual_time_scheduler& vt, duration d, std::string what) {
    co_await vt.schedule_after(d);
    throw std::runtime_error(what);
}

/// Requests stop on `source` once `d` has passed (a caller cancelling from outside).
inline eddy::task<void> request_stop_after(eddy::virtual_time_scheduler& vt, duration d,
                                           std::stop_source source) {
    co_await vt.schedule_after(d);
    source.request_stop();
}

/// Holds a `counted` parameter and a `counted` local across a wait of `d`, so a test can
/// prove the frame is destroyed however the wait ends (`counted::alive() == 0`).
inline eddy::task<int> holds_counted(eddy::virtual_time_scheduler& vt, duration d, counted c) {
    counted local;
    co_await vt.schedule_after(d);
    co_return c.id() + local.id();
}

} // namespace eddy::test::virtual_time
