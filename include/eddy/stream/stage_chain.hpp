// eddy/stream/stage_chain.hpp - eddy::stage_chain: fused stages composed without a source
// (`auto p = map(f) | filter(g);`), applied later to any stream of a matching element type.
#pragma once

#include <tuple>   // std::tuple, std::tuple_cat
#include <utility> // std::move, std::forward

#include <eddy/stream/pipeline.hpp>
#include <eddy/stream/streamable.hpp>

namespace eddy {

/// Fused stages in order, waiting for a source: `stage | stage` makes one, `chain | stage` and
/// `chain | chain` extend it, and `source | chain` (or `pipeline | chain`) yields the same
/// `eddy::pipeline` as piping the stages one by one. The element type is checked when the chain
/// meets a source: a stage that does not accept what reaches it fails there with its own
/// static_assert (which names the operator), and the compiler's note names the element type.
///
/// A chain is a value: it holds the stages (callables by value) and runs nothing; applying it
/// to a source copies it from an lvalue, so one chain serves many streams.
/// Thread-safety: as for the stages it holds (a plain value).
///
///     auto evens_squared = eddy::filter(is_even) | eddy::map(square);
///     auto a = eddy::to_vector(count_to(4) | evens_squared);             // {4, 16}
///     auto b = eddy::to_vector(eddy::from(std::vector{6}) | evens_squared); // {36}
template <fused_stage... Stages>
class [[nodiscard]] stage_chain {
public:
    explicit stage_chain(std::tuple<Stages...> stages) : m_stages(std::move(stages)) {}

    /// The element type after every stage, for an input element type `In`.
    template <class In>
    using output = typename detail::pipeline_output<In, Stages...>::type;

    /// The stages, moved out.
    [[nodiscard]] std::tuple<Stages...> take() && { return std::move(m_stages); }

    template <fused_stage Stage>
    friend stage_chain<Stages..., Stage> operator|(stage_chain chain, Stage stage) {
        return stage_chain<Stages..., Stage>(
            std::tuple_cat(std::move(chain.m_stages), std::tuple<Stage>(std::move(stage))));
    }

    template <fused_stage... More>
    friend stage_chain<Stages..., More...> operator|(stage_chain chain, stage_chain<More...> more) {
        return stage_chain<Stages..., More...>(
            std::tuple_cat(std::move(chain.m_stages), std::move(more).take()));
    }

    /// A source that is not yet a pipeline starts one with every stage of the chain.
    template <streamable Source>
        requires(!detail::is_pipeline<Source>)
    friend pipeline<Source, Stages...> operator|(Source&& source, stage_chain chain) {
        using checked [[maybe_unused]] =
            typename detail::pipeline_output<typename Source::value_type, Stages...>::type;
        return pipeline<Source, Stages...>(std::forward<Source>(source), std::move(chain.m_stages));
    }

    /// A pipeline gets the chain's stages after its own.
    template <class Source, class... Own>
    friend pipeline<Source, Own..., Stages...> operator|(pipeline<Source, Own...>&& p,
                                                         stage_chain chain) {
        return std::move(p).append(std::move(chain.m_stages));
    }

private:
    [[no_unique_address]] std::tuple<Stages...> m_stages;
};

/// Two fused stages make a chain (see `eddy::stage_chain`).
template <fused_stage First, fused_stage Second>
[[nodiscard]] stage_chain<First, Second> operator|(First first, Second second) {
    return stage_chain<First, Second>(
        std::tuple<First, Second>(std::move(first), std::move(second)));
}

} // namespace eddy
