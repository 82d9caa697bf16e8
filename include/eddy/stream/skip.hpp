// eddy/stream/skip.hpp - eddy::skip(n): every element but the first n, fused.
#pragma once

#include <cstddef>     // std::size_t
#include <optional>    // std::optional
#include <type_traits> // std::type_identity_t
#include <utility>     // std::move

#include <eddy/stream/pipeline.hpp>

namespace eddy {

/// The stage of `eddy::skip`: drops elements while it has some left to skip.
struct skip_stage {
    using fused_stage_tag = void;
    template <class In>
    using output = In;

    template <class In>
    std::optional<In> process(std::type_identity_t<In>&& element) {
        if (m_left > 0) {
            --m_left;
            return std::nullopt;
        }
        return std::optional<In>(std::move(element));
    }
    [[nodiscard]] bool done() const noexcept { return false; }

    std::size_t m_left;
};

/// A pipeline stage that drops the first `n` elements and passes on the rest.
///
/// Synchronous and fused: the first `next()` pulls the source up to `n + 1` times, in a loop,
/// in constant stack (see `eddy::pipeline`); moves elements, never copies them.
/// Preconditions: none (`skip(0)` passes everything; skipping past the end is the end).
/// Lifetime: no state but the count.
/// Thread-safety: none.
///
///     auto rest = count_to(5) | eddy::skip(2); // 3, 4, 5
[[nodiscard]] inline skip_stage skip(std::size_t n) noexcept { return skip_stage{n}; }

} // namespace eddy
