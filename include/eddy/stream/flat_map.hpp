// eddy/stream/flat_map.hpp - eddy::flat_map(f, n): each element to a stream or task, up to n
// of them running at once, their values merged in completion order.
#pragma once

#include <cstddef>     // std::size_t, std::ptrdiff_t
#include <limits>      // std::numeric_limits
#include <type_traits> // std::decay_t, std::invoke_result, std::is_invocable_v
#include <utility>     // std::move, std::forward

#include <eddy/core/error.hpp>
#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/detail/flat_map_body.hpp>
#include <eddy/stream/detail/flat_map_inner.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

namespace detail {
template <class F, class In>
struct flat_map_output {
    static_assert(std::is_invocable_v<F&, In&&>,
                  "eddy::flat_map: the function cannot be called with the stream's element type");
    using result = std::remove_cvref_t<
        typename std::conditional_t<std::is_invocable_v<F&, In&&>, std::invoke_result<F&, In&&>,
                                    std::type_identity<task<int>>>::type>;
    static_assert(flat_map_inner<result>::valid,
                  "eddy::flat_map: the function must return an eddy::stream<U> (or a pipeline) "
                  "or an eddy::task<U> with U a non-void, non-reference type");
    static constexpr bool valid = std::is_invocable_v<F&, In&&> && flat_map_inner<result>::valid;
    using type = typename flat_map_inner<result>::value_type;
};
} // namespace detail

/// The stage of `eddy::flat_map`: `s | flat_map(f, n)` is `flat_map_stage::apply(s)`.
template <class F>
struct flat_map_stage {
    using async_stage_tag = void;

    template <class T>
    [[nodiscard]] stream<typename detail::flat_map_output<F, T>::type>
    apply(stream<T> upstream) && {
        using output = detail::flat_map_output<F, T>;
        if constexpr (output::valid) {
            return detail::flat_map_body<typename output::type>(std::move(upstream), std::move(m_f),
                                                                m_max_concurrency);
        } else {
            return {};
        }
    }

    [[no_unique_address]] F m_f;
    std::size_t m_max_concurrency;
};

/// An async stage that maps each element `x` to an inner operation `f(std::move(x))`, an
/// `eddy::stream<U>` (or a pipeline) or an `eddy::task<U>` (one value), runs up to
/// `max_concurrency` of them at once, and yields their values as they complete (completion
/// order; the values of one inner stream keep their order).
///
/// Concurrency and memory, bounded: background work takes one of `max_concurrency` slots
/// before it pulls the upstream, calls `f` and starts the inner operation in that slot; the
/// slot is given back once the inner operation ended and its last value was taken, and the
/// next upstream element is pulled at once. So at most `max_concurrency` inner operations
/// exist (started or not), each at most one value ahead of the consumer: at most
/// `max_concurrency` values of `U` wait, and no upstream element is held waiting for a slot
/// (plus per-slot bookkeeping allocated at the first `next()`).
/// Lazy: nothing runs before the first `next()`.
/// Where things run: the upstream and `f` run where the upstream resumes them, or where a
/// finished inner operation freed a slot; each inner operation starts on that thread and runs
/// where it resumes. Where the awaiter resumes: at once when a value is waiting; otherwise on
/// the thread where an inner operation produced one (or where the last one ended).
/// Errors: the first exception (of the upstream, of `f` or of an inner operation) stops all
/// the others (stop is requested on them: their timers and channel waits end with
/// `eddy::operation_cancelled`); the values that arrived before it are delivered, then
/// `next()` rethrows it and the stream ends. Values arriving after it are dropped.
/// Cancellation: the upstream and the inner operations see the stop token of the background
/// work, which is stopped when the stream is destroyed or ends. A `next()` waiting while the
/// consumer's stop token is stopped throws `eddy::operation_cancelled` and stops everything.
/// Preconditions: `max_concurrency >= 1`, else `eddy::error` (thrown here, eagerly); `f`
/// callable with an rvalue of the element type, returning a stream, pipeline or task of a
/// value (static_assert naming eddy::flat_map).
/// Lifetime: `f` is stored by value. Destroying the stream never blocks: the background work
/// is stopped and destroys the upstream and the inner operations wherever it ends (where their
/// timers resume it); schedulers they use must outlive that.
/// Thread-safety: one consumer pulls (see `eddy::stream`). `f` is called by one thread at a
/// time; inner operations may run on different threads at once.
///
///     // Up to 16 lookups in flight, results as they come back:
///     auto users = ids | eddy::flat_map([&db](int id) { return db.load_user(id); }, 16);
template <class F>
[[nodiscard]] flat_map_stage<std::decay_t<F>> flat_map(F&& f, std::size_t max_concurrency) {
    if (max_concurrency == 0) {
        throw error("eddy::flat_map: max_concurrency must be at least 1");
    }
    if (max_concurrency > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max())) {
        throw error("eddy::flat_map: max_concurrency is too large");
    }
    return flat_map_stage<std::decay_t<F>>{std::forward<F>(f), max_concurrency};
}

} // namespace eddy
