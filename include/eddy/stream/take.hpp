// eddy/stream/take.hpp - eddy::take(n): the first n elements, then the end, fused.
#pragma once

#include <cstddef>     // std::size_t
#include <optional>    // std::optional
#include <type_traits> // std::type_identity_t
#include <utility>     // std::move

#include <eddy/stream/pipeline.hpp>

namespace eddy {

/// The stage of `eddy::take`: passes elements on while it has some left, then is done.
struct take_stage {
    using fused_stage_tag = void;
    template <class In>
    using output = In;

    template <class In>
    std::optional<In> process(std::type_identity_t<In>&& element) {
        --m_left; // never called with none left: the pipeline stops pulling when done()
        return std::optional<In>(std::move(element));
    }
    [[nodiscard]] bool done() const noexcept { return m_left == 0; }

    std::size_t m_left;
};

/// A pipeline stage that passes on the first `n` elements and then ends the pipeline: the
/// source is pulled exactly `min(n, its length)` times (never after the n-th element, never
/// at all for `take(0)`), and is not run to its end.
///
/// Synchronous and fused (see `eddy::pipeline`); moves elements, never copies them.
/// Preconditions: none (`n == 0` is an empty pipeline).
/// Lifetime: the source stays suspended at its n-th `co_yield` until the pipeline (or the
/// stream it converted to) is destroyed, which destroys it (RAII in its body runs).
/// Thread-safety: none.
///
///     auto three = naturals() | eddy::take(3); // 1, 2, 3, even from an endless source
[[nodiscard]] inline take_stage take(std::size_t n) noexcept { return take_stage{n}; }

} // namespace eddy
