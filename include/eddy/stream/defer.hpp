// eddy/stream/defer.hpp - eddy::defer(factory): a stream source that can be subscribed again
// (each subscription calls the factory), for operators that re-subscribe (eddy::retry).
#pragma once

#include <concepts>    // std::convertible_to
#include <functional>  // std::invoke
#include <optional>    // std::optional
#include <type_traits> // std::decay_t, std::invoke_result, std::remove_cvref_t
#include <utility>     // std::move, std::forward

#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/pipeline.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// An async stage that subscribes to its source more than once (`eddy::retry`): opted in with
/// a `resubscribing_stage_tag` member type. `eddy::defer(f) | op` then hands `op` the
/// `deferred_stream` itself (`std::move(op).apply(deferred)`), where any other stage gets one
/// subscription as a `stream<T>`.
template <class S>
concept resubscribing_stage = async_stage<S> && requires {
    typename S::resubscribing_stage_tag;
};

namespace detail {
// What a factory may return: a stream, or anything (a pipeline) that converts to the stream
// of its value_type.
template <class R>
concept stream_convertible = requires {
    typename R::value_type;
    requires std::convertible_to<R, stream<typename R::value_type>>;
};

template <class F>
struct defer_traits {
    static constexpr bool invocable = std::is_invocable_v<F&>;
    static_assert(invocable, "eddy::defer: the factory must be callable with no arguments");
    using result =
        std::remove_cvref_t<typename std::conditional_t<invocable, std::invoke_result<F&>,
                                                        std::type_identity<stream<int>>>::type>;
    static constexpr bool returns_stream = stream_convertible<result>;
    static_assert(returns_stream, "eddy::defer: the factory must return an eddy::stream<T> (or a "
                                  "pipeline, which converts to one)");
    using value_type = typename std::conditional_t<returns_stream, result, stream<int>>::value_type;
};
} // namespace detail

/// A re-subscribable stream source (see `eddy::defer`): a factory of `stream<value_type>`.
template <class F>
class [[nodiscard]] deferred_stream {
public:
    using value_type = typename detail::defer_traits<F>::value_type;

    explicit deferred_stream(F factory) : m_factory(std::move(factory)) {}

    /// One subscription, now: calls the factory and returns its stream (the factory's
    /// exception propagates).
    [[nodiscard]] stream<value_type> subscribe() {
        return stream<value_type>(std::invoke(m_factory));
    }

    /// One subscription, lazily: the factory is called at the first `next()` of the result.
    operator stream<value_type>() && { return relay(std::move(*this)); }

    /// A fused stage after a deferred source applies to one (lazy) subscription.
    template <fused_stage Stage>
    friend auto operator|(deferred_stream d, Stage stage) {
        return stream<value_type>(std::move(d)) | std::move(stage);
    }

    /// An async stage gets one (lazy) subscription; a re-subscribing one gets the source.
    template <async_stage Stage>
    friend auto operator|(deferred_stream d, Stage stage) {
        if constexpr (resubscribing_stage<Stage>) {
            return std::move(stage).apply(std::move(d));
        } else {
            return std::move(stage).apply(stream<value_type>(std::move(d)));
        }
    }

private:
    // A static member coroutine taking the source by value (into the frame): no lambda
    // captures (g++ 12 bug 100611 pattern).
    static stream<value_type> relay(deferred_stream d) {
        stream<value_type> s = d.subscribe();
        for (;;) {
            std::optional<value_type> v = co_await s.next();
            if (!v) {
                break;
            }
            co_yield std::move(*v);
        }
    }

    [[no_unique_address]] F m_factory;
};

/// A stream source that calls `factory()` (which returns an `eddy::stream<T>`, or a pipeline
/// that converts to one) for each subscription, so that an operator such as `eddy::retry`
/// can subscribe again after a failure: `eddy::defer(f) | eddy::retry(policy, sched)`.
///
/// Lazy: converted to `stream<T>` (implicitly, or by piping it into any other operator or a
/// sink), it calls the factory once, at the first `next()`, and relays that stream (one
/// coroutine hop per element); the factory's exception then reaches that `next()`.
/// Where the awaiter resumes, errors, cancellation: as for the factory's stream, which sees
/// the stop token of the consumer (see `eddy::stream`).
/// Preconditions (static_assert): `factory` is callable with no arguments and returns a
/// stream or pipeline.
/// Lifetime: `factory` is stored by value (decayed); each stream it returns must own what
/// it uses (a subscription may outlive the call).
/// Thread-safety: none; the factory is called by the one consumer.
///
///     auto quotes = eddy::defer([&feed] { return feed.subscribe(); })
///                 | eddy::retry(eddy::retry_policy{.max_attempts = 3}, pool);
template <class F>
[[nodiscard]] deferred_stream<std::decay_t<F>> defer(F&& factory) {
    return deferred_stream<std::decay_t<F>>(std::forward<F>(factory));
}

// Sinks deduce `T` from a `stream<T>` parameter: these forward a deferred source as one
// subscription. Found by ADL on `stream` at instantiation (include the sink you call).
template <class F>
[[nodiscard]] auto to_vector(deferred_stream<F> d) {
    return to_vector(stream<typename deferred_stream<F>::value_type>(std::move(d)));
}
template <class F>
[[nodiscard]] auto count(deferred_stream<F> d) {
    return count(stream<typename deferred_stream<F>::value_type>(std::move(d)));
}
template <class F>
[[nodiscard]] auto first(deferred_stream<F> d) {
    return first(stream<typename deferred_stream<F>::value_type>(std::move(d)));
}
template <class F, class G>
[[nodiscard]] auto for_each(deferred_stream<F> d, G g) {
    return for_each(stream<typename deferred_stream<F>::value_type>(std::move(d)), std::move(g));
}
template <class F, class Acc, class G>
[[nodiscard]] auto reduce(deferred_stream<F> d, Acc init, G g) {
    return reduce(stream<typename deferred_stream<F>::value_type>(std::move(d)), std::move(init),
                  std::move(g));
}

} // namespace eddy
