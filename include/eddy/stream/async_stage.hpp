// eddy/stream/async_stage.hpp - the protocol of operators that need a coroutine of their own
// (buffer, merge, flat_map, timeout, batch, ...): `s | op` hands the stream to the operator.
#pragma once

#include <utility> // std::move, std::forward

#include <eddy/stream/stream.hpp>
#include <eddy/stream/streamable.hpp>

namespace eddy {

/// An operator that turns a whole stream into another (as opposed to a `fused_stage`, which
/// handles one element at a time inside a pipeline): opted in with an `async_stage_tag` member
/// type. `std::move(op).apply(std::move(s))` takes `s` (an `eddy::stream<T>`) and returns the
/// resulting stream; an operator that cannot accept `T` says so with a static_assert naming
/// the operator and the type.
template <class S>
concept async_stage = requires {
    typename S::async_stage_tag;
};

/// `s | op` for an async stage: `op.apply(s)`, where a source or pipeline that is not yet a
/// `stream<T>` is converted to one first.
template <streamable S, async_stage Stage>
[[nodiscard]] auto operator|(S&& s, Stage stage) {
    return std::move(stage).apply(stream<typename S::value_type>(std::forward<S>(s)));
}

} // namespace eddy
