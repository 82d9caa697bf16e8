// eddy/stream/on_error_resume.hpp - eddy::on_error_resume(f): when the stream fails, continue
// with the stream f(error) returns.
#pragma once

#include <concepts>    // std::convertible_to
#include <exception>   // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <functional>  // std::invoke
#include <optional>    // std::optional
#include <type_traits> // std::decay_t, std::invoke_result_t, std::is_invocable_v
#include <utility>     // std::move, std::forward

#include <eddy/core/error.hpp>
#include <eddy/stream/async_stage.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

namespace detail {
template <class F, class T>
inline constexpr bool resume_function_for = std::is_invocable_v<F&, std::exception_ptr>&&
    std::convertible_to<typename std::conditional_t<std::is_invocable_v<F&, std::exception_ptr>,
                                                    std::invoke_result<F&, std::exception_ptr>,
                                                    std::type_identity<stream<T>>>::type,
                        stream<T>>;
} // namespace detail

/// The stage of `eddy::on_error_resume`.
template <class F>
struct on_error_resume_stage {
    using async_stage_tag = void;

    template <class T>
    [[nodiscard]] stream<T> apply(stream<T> s) && {
        static_assert(detail::resume_function_for<F, T>,
                      "eddy::on_error_resume: the function must take an std::exception_ptr and "
                      "return an eddy::stream of the stream's element type (or a pipeline that "
                      "converts to one)");
        return run<T>(std::move(s), std::move(m_f));
    }

    // A static member coroutine taking everything by value (into the frame): no lambda
    // captures (g++ 12 bug 100611 pattern). No co_await in a condition or a handler.
    template <class T>
    static stream<T> run(stream<T> s, F f) {
        std::exception_ptr failure;
        for (;;) {
            std::optional<T> v;
            try {
                v = co_await s.next();
            } catch (const operation_cancelled&) {
                throw; // cancellation is not a failure to recover from
            } catch (...) {
                failure = std::current_exception();
            }
            if (failure) {
                break;
            }
            if (!v) {
                co_return;
            }
            co_yield std::move(*v);
        }
        s = stream<T>(); // frees the failed upstream before the fallback runs
        stream<T> fallback = std::invoke(f, std::move(failure));
        for (;;) {
            std::optional<T> v = co_await fallback.next();
            if (!v) {
                break;
            }
            co_yield std::move(*v);
        }
    }

    [[no_unique_address]] F m_f;
};

/// A stage that relays the stream until it fails, then continues with the stream that
/// `f(error)` returns (called once, with the `std::exception_ptr` of the failure); the
/// elements emitted before the failure stay emitted. `eddy::operation_cancelled` is not
/// caught (cancellation is not a failure to recover from).
///
/// Lazy; an async stage (one coroutine hop per element). Where the awaiter resumes: where the
/// upstream, then the fallback, yielded. Errors: a failure of the fallback stream, or an
/// exception of `f`, reaches the consumer (it is not resumed again; rethrow from `f` to pass
/// an error on). Cancellation: the upstream and the fallback see the consumer's stop token.
/// Preconditions (static_assert): `f` is callable with an `std::exception_ptr` and returns a
/// `stream<T>` (or a pipeline converting to one) of the element type.
/// Lifetime: `f` is stored by value (decayed); the failed upstream is destroyed before `f`
/// is called.
/// Thread-safety: none (see `eddy::stream`).
///
///     auto s = live_prices() | eddy::on_error_resume([](std::exception_ptr) {
///         return eddy::just(last_known_price()); });
template <class F>
[[nodiscard]] on_error_resume_stage<std::decay_t<F>> on_error_resume(F&& f) {
    return on_error_resume_stage<std::decay_t<F>>{std::forward<F>(f)};
}

} // namespace eddy
