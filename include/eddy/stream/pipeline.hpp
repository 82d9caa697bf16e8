// eddy/stream/pipeline.hpp - eddy::pipeline<Source, Stages...>: synchronous stream operators
// (map, filter, take, ...) fused into one pull loop, converting implicitly to eddy::stream.
#pragma once

#include <concepts>    // std::same_as
#include <cstddef>     // std::size_t
#include <optional>    // std::optional (what stages and next() return)
#include <tuple>       // std::tuple, std::get, std::tuple_cat, std::tuple_element_t
#include <type_traits> // std::type_identity_t, std::conditional_t
#include <utility>     // std::move, std::forward, std::index_sequence

#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>

namespace eddy {

/// A synchronous stage of a fused pipeline (`eddy::map_stage`, `eddy::filter_stage`, ...):
/// opted in with a `fused_stage_tag` member type, so `|` never matches unrelated types.
///
/// Protocol, for an element type `In` the stage accepts:
/// - `typename S::template output<In>` is the element type after the stage; naming it checks
///   `In` (a static_assert naming the operator when the callable does not fit);
/// - `s.template process<In>(In&&)` (an rvalue: `In` is given, not deduced) returns
/// `std::optional<output<In>>`: a value to pass on, or empty to
///   drop the element (it may throw: the exception ends the pipeline and reaches the puller);
/// - `s.done()` is true once the stage accepts nothing more (`take(n)` after n values,
///   `take_while` after its first false, `take(0)` from the start): the pipeline then ends
///   without pulling its source again. A stage may emit a value and become done at once.
template <class S>
concept fused_stage = requires(const S& s) {
    typename S::fused_stage_tag;
    { s.done() } -> std::same_as<bool>;
};

namespace detail {
template <class In, class... Stages>
struct pipeline_output {
    using type = In;
};
template <class In, class S, class... Rest>
struct pipeline_output<In, S, Rest...> {
    using type = typename pipeline_output<typename S::template output<In>, Rest...>::type;
};
} // namespace detail

/// A stream source followed by synchronous stages, run in one loop: `co_await p.next()` pulls
/// the source and passes each element through the stages in order until one comes out (a
/// `filter` or `skip` may pull several times), or the source ends, or a stage is done
/// (`take`, `take_while`); from then on `next()` yields an empty optional and the source is
/// never pulled again. No coroutine frame per operator; `pipeline | op` appends a stage.
///
/// Lazy: nothing is pulled before a `next()` is awaited. Converts implicitly (from an rvalue)
/// to `eddy::stream<value_type>`, one coroutine that runs the loop and `co_yield`s; sinks
/// (`to_vector`, `count`, `first`, `for_each`, `reduce`) accept a pipeline directly, and over
/// a synchronous source (`from(range)`) run it as a plain loop with no coroutine hop.
/// Where the awaiter resumes, errors, cancellation: as for the source stream (see
/// `eddy::stream`); the source sees the stop token of the coroutine awaiting `next()` (of the
/// converted stream's consumer after conversion). An exception of the source or of a stage
/// is rethrown by the `next()` that pulled, and the pipeline ends.
/// Elements are moved from stage to stage, never copied by the pipeline itself.
/// Lifetime: owns the source and the stages (callables stored by value). `next()` returns an
/// awaitable that refers to the pipeline: await it before moving or destroying the pipeline.
/// Thread-safety: none; one consumer pulls.
///
///     std::vector<int> v = co_await eddy::to_vector(
///         count_to(10) | eddy::map(square) | eddy::filter(is_even) | eddy::take(2)); // {4, 16}
template <class Source, class... Stages>
class [[nodiscard]] pipeline {
public:
    using source_value_type = typename Source::value_type;
    using value_type = typename detail::pipeline_output<source_value_type, Stages...>::type;
    /// Over `from(range)` (or another synchronous source) `next()` never suspends.
    static constexpr bool is_synchronous = detail::synchronous_source<Source>;

    pipeline(Source source, std::tuple<Stages...> stages, bool ended = false)
        : m_source(std::move(source)), m_stages(std::move(stages)), m_ended(ended) {}

    /// An awaitable of the next element that comes out of the stages, or an empty optional at
    /// the end; rethrows what the source or a stage throws (once; then the pipeline ends).
    /// Over a synchronous source it is ready at once and runs the loop in `await_resume` (no
    /// frame at all); otherwise a task (one recycled frame per call). The converted stream
    /// runs the same loop in its own body instead.
    [[nodiscard]] auto next() {
        if constexpr (is_synchronous) {
            return detail::ready_pull<pipeline>(*this);
        } else {
            return next_async();
        }
    }

    /// Over a synchronous source only: the next element as a plain call (what `next()` yields).
    [[nodiscard]] std::optional<value_type>
    next_sync() requires detail::synchronous_source<Source> {
        while (!ended()) {
            std::optional<source_value_type> in;
            try {
                in = m_source.next_sync();
            } catch (...) {
                m_ended = true;
                throw;
            }
            if (!in) {
                m_ended = true;
                break;
            }
            std::optional<value_type> out = feed(std::move(*in));
            if (out) {
                return out;
            }
        }
        return std::nullopt;
    }

    /// The pipeline as one stream (no copies of elements; the stages run inside its body).
    operator stream<value_type>() && { return drain(std::move(*this)); }

    /// True once the source ended, threw, or a stage is done: next() will pull nothing more.
    [[nodiscard]] bool ended() const noexcept {
        return m_ended ||
               std::apply([](const Stages&... s) { return (s.done() || ...); }, m_stages);
    }

    /// Appends a stage (fused: no new frame).
    template <fused_stage Stage>
    friend pipeline<Source, Stages..., Stage> operator|(pipeline&& p, Stage stage) {
        // Names the output type here, so a callable that does not fit fails at the `|`.
        using checked [[maybe_unused]] = typename Stage::template output<value_type>;
        return pipeline<Source, Stages..., Stage>(
            std::move(p.m_source),
            std::tuple_cat(std::move(p.m_stages), std::tuple<Stage>(std::move(stage))), p.m_ended);
    }

    /// The pipeline with `more` stages after its own (what `pipeline | stage_chain` does).
    template <fused_stage... More>
    [[nodiscard]] pipeline<Source, Stages..., More...> append(std::tuple<More...> more) && {
        using checked [[maybe_unused]] =
            typename detail::pipeline_output<value_type, More...>::type;
        return pipeline<Source, Stages..., More...>(
            std::move(m_source), std::tuple_cat(std::move(m_stages), std::move(more)), m_ended);
    }

private:
    task<std::optional<value_type>> next_async() {
        while (!ended()) {
            std::optional<source_value_type> in;
            try {
                in = co_await m_source.next();
            } catch (...) {
                m_ended = true;
                throw;
            }
            if (!in) {
                m_ended = true;
                break;
            }
            std::optional<value_type> out = feed(std::move(*in));
            if (out) {
                co_return out;
            }
        }
        co_return std::nullopt;
    }

    // A static member coroutine taking the pipeline by value (into the frame): no lambda
    // captures (g++ 12 bug 100611 pattern) and no per-element task frame.
    static stream<value_type> drain(pipeline p) {
        while (!p.ended()) {
            std::optional<source_value_type> in;
            if constexpr (is_synchronous) {
                in = p.m_source.next_sync();
            } else {
                in = co_await p.m_source.next();
            }
            if (!in) {
                break;
            }
            std::optional<value_type> out = p.feed(std::move(*in));
            if (out) {
                co_yield std::move(*out);
            }
        }
    }

    std::optional<value_type> feed(source_value_type&& in) {
        try {
            return run<0, source_value_type>(std::move(in));
        } catch (...) {
            m_ended = true;
            throw;
        }
    }

    // Passes `v` (an rvalue of the element type entering stage I) through stages I, I+1, ...
    template <std::size_t I, class V>
    std::optional<value_type> run(std::type_identity_t<V>&& v) {
        if constexpr (I == sizeof...(Stages)) {
            return std::optional<value_type>(std::move(v));
        } else {
            using stage = std::tuple_element_t<I, std::tuple<Stages...>>;
            using next = typename stage::template output<V>;
            std::optional<next> out = std::get<I>(m_stages).template process<V>(std::move(v));
            if (!out) {
                return std::nullopt;
            }
            return run<I + 1, next>(std::move(*out));
        }
    }

    Source m_source;
    [[no_unique_address]] std::tuple<Stages...> m_stages;
    bool m_ended = false;
};

namespace detail {
template <class S>
inline constexpr bool is_pipeline = false;
template <class Source, class... Stages>
inline constexpr bool is_pipeline<pipeline<Source, Stages...>> = true;
} // namespace detail

/// Starts a pipeline: a source (an rvalue `stream<T>`, `from(range)`, ...) followed by a fused
/// stage.
template <streamable Source, fused_stage Stage>
    requires(!detail::is_pipeline<Source>)
[[nodiscard]] pipeline<Source, Stage> operator|(Source&& s, Stage stage) {
    using checked [[maybe_unused]] = typename Stage::template output<typename Source::value_type>;
    return pipeline<Source, Stage>(std::forward<Source>(s), std::tuple<Stage>(std::move(stage)));
}

} // namespace eddy
