// tests/support/timed_streams.hpp - the virtual-time sources and recorder that the tests of the
// time-based and multi-source stream operators (batch, window, debounce, throttle, timeout,
// rate_limit, buffer, merge, flat_map, concat, concat_map, zip) build their cases from: a source
// that yields scripted values at absolute virtual times, a source that ticks at a period, and a
// consumer that records when each value arrived and how the stream ended. Times are durations
// since the clock's epoch (a fresh virtual_time_scheduler starts there), so a test asserts
// `{{3, 3800ms}, {4, 6s}}`.
#pragma once

#include <eddy/core/stop_token.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>

#include <exception>  // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <limits>     // std::numeric_limits
#include <optional>   // std::optional
#include <stdexcept>  // std::runtime_error
#include <stop_token> // std::stop_source
#include <tuple>      // std::get
#include <utility>    // std::move
#include <vector>     // std::vector

#include <support/counted.hpp>
#include <support/stream_sources.hpp>
#include <support/virtual_time_tasks.hpp>

namespace eddy::test {

/// Counts the destructions of the frames that hold one (a source body's RAII cleanup ran).
/// A null counter counts nothing.
struct frame_guard {
    explicit frame_guard(int* d) : destroyed(d) {}
    frame_guard(const frame_guard&) = delete;
    frame_guard& operator=(const frame_guard&) = delete;
    ~frame_guard() {
        if (destroyed != nullptr) {
            ++*destroyed;
        }
    }
    int* destroyed;
};

/// One value of a `scripted` source, and the virtual time (since the epoch) it comes at.
struct step {
    virtual_time::duration at;
    int value;
};

/// Yields each step's value at epoch + its time (at once when that has passed), then ends (or,
/// when `fail`, throws std::runtime_error("upstream failed")) at epoch + `end`. Counts its pulls
/// (each value's and the last one's) in `*pulls` when given; holds `guard` so a test can prove
/// the frame was freed (`counted::alive() == 0`).
inline eddy::stream<int> scripted(eddy::virtual_time_scheduler* vt, std::vector<step> steps,
                                  virtual_time::duration end, bool fail, counted guard,
                                  int* pulls = nullptr) {
    static_cast<void>(guard);
    for (const step& s : steps) {
        if (pulls != nullptr) {
            ++*pulls;
        }
        co_await vt->schedule_at(virtual_time::epoch + s.at);
        co_yield s.value;
    }
    if (pulls != nullptr) {
        ++*pulls;
    }
    co_await vt->schedule_at(virtual_time::epoch + end);
    if (fail) {
        throw std::runtime_error("upstream failed");
    }
}

/// Yields first, first + stride, ... (`n` values): the first `offset` after its first pull (at
/// once when `offset` is zero), each other one `period` after the previous was pulled. Holds a
/// frame_guard on `destroyed` (may be null) and `c`, so a test can see its frame destroyed.
inline eddy::stream<int> timed(eddy::virtual_time_scheduler* vt, virtual_time::duration offset,
                               virtual_time::duration period, int first, int stride, int n,
                               int* destroyed, counted c) {
    const frame_guard guard{destroyed};
    if (offset > virtual_time::duration::zero()) {
        co_await vt->schedule_after(offset);
    }
    for (int i = 0; i < n; ++i) {
        if (i > 0) {
            co_await vt->schedule_after(period);
        }
        co_yield first + (i * stride) + 0 * c.id();
    }
}

/// The inner stream the flat_map and concat_map tests map element `x` to: x*10 + 1 .. x*10 + k,
/// one every `period` after an initial `period`. Counts its frame's destruction in `destroyed`
/// (may be null) and holds a `counted`.
inline eddy::stream<int> ticks(eddy::virtual_time_scheduler* vt, int x, int k,
                               virtual_time::duration period, int* destroyed) {
    return timed(vt, period, period, (x * 10) + 1, 1, k, destroyed, counted{});
}

/// A value and the virtual time (since the epoch) at which the consumer received it.
template <class T>
struct arrival {
    T value;
    virtual_time::duration at;
    bool operator==(const arrival&) const = default;
};

template <class T>
using arrivals = std::vector<arrival<T>>;

/// What `record` saw: every value with its time, the exception the stream ended with (if any),
/// and when it ended.
template <class T>
struct recorded {
    arrivals<T> values;
    std::exception_ptr error;
    virtual_time::duration ended_at{};
};

/// Pulls `*s` to its end or its first exception (at most `limit` values), recording when each
/// value arrived; waits `pause` of virtual time after each value (a slow consumer) when positive.
/// `*s` stays the caller's.
template <class T>
eddy::task<recorded<T>> record(eddy::virtual_time_scheduler* vt, eddy::stream<T>* s,
                               virtual_time::duration pause = {}, int limit = unbounded) {
    recorded<T> r;
    try {
        for (int i = 0; i < limit; ++i) {
            std::optional<T> v = co_await s->next();
            if (!v) {
                break;
            }
            r.values.push_back({std::move(*v), vt->now() - virtual_time::epoch});
            if (pause > virtual_time::duration::zero()) {
                co_await vt->schedule_after(pause);
            }
        }
    } catch (...) {
        r.error = std::current_exception();
    }
    r.ended_at = vt->now() - virtual_time::epoch;
    co_return r;
}

/// The same, owning `s`: it is destroyed with the task (not when the pulls end).
template <class T>
eddy::task<recorded<T>> record(eddy::virtual_time_scheduler* vt, eddy::stream<T> s,
                               virtual_time::duration pause = {}, int limit = unbounded) {
    recorded<T> r = co_await record(vt, &s, pause, limit);
    co_return r;
}

/// The same for a pipeline, pulled as the stream it converts to.
template <eddy::streamable S, class T = typename S::value_type>
eddy::task<recorded<T>> record(eddy::virtual_time_scheduler* vt, S pipeline,
                               virtual_time::duration pause = {}, int limit = unbounded) {
    return record(vt, eddy::stream<T>(std::move(pipeline)), pause, limit);
}

/// Like `record`, for a stream expected to end without error: its values with their times; an
/// exception propagates (and fails the test). `s` is destroyed with the task.
template <class T>
eddy::task<arrivals<T>> record_to_end(eddy::virtual_time_scheduler* vt, eddy::stream<T> s) {
    recorded<T> r = co_await record(vt, &s);
    if (r.error) {
        std::rethrow_exception(r.error);
    }
    co_return std::move(r.values);
}

/// Runs `t` on `vt` under a stop token whose stop is requested `d` of virtual time from now (a
/// consumer cancelling from outside), and returns `t`'s result: a `record` or `drain` then holds
/// the eddy::operation_cancelled its pull ended with.
template <class R>
R run_stopped_after(eddy::virtual_time_scheduler& vt, virtual_time::duration d, eddy::task<R> t) {
    std::stop_source source;
    auto results = vt.run(eddy::when_all(eddy::with_stop_token(std::move(t), source.get_token()),
                                         virtual_time::request_stop_after(vt, d, source)));
    return std::get<0>(std::move(results));
}

} // namespace eddy::test
