// eddy/stream/streamable.hpp - the concept every stream source, pipeline and sink argument models.
#pragma once

#include <concepts>    // std::convertible_to
#include <coroutine>   // std::coroutine_handle
#include <optional>    // std::optional
#include <type_traits> // std::is_object_v, std::remove_cvref_t
#include <utility>     // std::move, std::forward

#include <eddy/stream/stream.hpp>

namespace eddy {

/// Something a consumer pulls with `co_await s.next()` (yielding `std::optional<value_type>`)
/// and that converts, as an rvalue, to `eddy::stream<value_type>`: `eddy::stream<T>` itself,
/// `eddy::from(range)`, and every fused `eddy::pipeline`. Sinks (`to_vector`, `count`, `first`,
/// `for_each`, `reduce`) and `|` accept any of them without a conversion, so a chain keeps its
/// concrete type, and a synchronous chain its speed, until it is stored as a `stream<T>`.
template <class S>
concept streamable = std::is_object_v<S> && requires(S& s) {
    typename S::value_type;
    s.next();
} && std::convertible_to<S, stream<typename S::value_type>>;

namespace detail {

// A source whose next() always completes without suspending (from(range), and pipelines of
// fused stages over one): it offers next_sync(), and sinks pull it with no coroutine hop.
template <class S>
concept synchronous_source = streamable<S> && requires(S& s) {
    requires S::is_synchronous;
    { s.next_sync() } -> std::same_as<std::optional<typename S::value_type>>;
};

// The awaiter of a synchronous source's next(): ready at once; the element is produced in
// await_resume, so nothing runs before the pull is awaited.
template <class S>
class ready_pull {
public:
    explicit ready_pull(S& source) noexcept : m_source(&source) {}
    [[nodiscard]] bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    [[nodiscard]] std::optional<typename S::value_type> await_resume() {
        return m_source->next_sync();
    }

private:
    S* m_source;
};

// A synchronous source's values folded in a plain loop. Sinks call it instead of awaiting each
// ready next(): outside the coroutine body the accumulator stays in registers rather than in
// the frame, which makes a fused chain over from(range) about as fast as a hand-written loop.
template <class S, class Acc, class F>
[[nodiscard]] Acc fold_sync(S& source, Acc acc, F&& f) {
    for (;;) {
        std::optional<typename S::value_type> value = source.next_sync();
        if (!value) {
            return acc;
        }
        acc = f(std::move(acc), std::move(*value));
    }
}

template <class S>
inline constexpr bool is_stream = false;
template <class T>
inline constexpr bool is_stream<stream<T>> = true;

// What a sink pulls: a stream or a synchronous source as it is; any other pipeline as its
// stream, whose one coroutine runs the fused loop (no task frame per element).
template <streamable S>
[[nodiscard]] auto pullable(S&& s) {
    if constexpr (is_stream<S> || synchronous_source<S>) {
        return S(std::forward<S>(s));
    } else {
        return stream<typename S::value_type>(std::forward<S>(s));
    }
}

} // namespace detail

} // namespace eddy
