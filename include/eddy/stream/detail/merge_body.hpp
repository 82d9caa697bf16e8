// eddy/stream/detail/merge_body.hpp - the coroutine behind eddy::merge.
#pragma once

#include <cstddef>  // std::size_t
#include <memory>   // std::make_shared
#include <optional> // std::optional
#include <utility>  // std::move
#include <vector>   // std::vector

#include <eddy/stream/detail/pump_state.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy::detail {

// One producer per source, each with a credit of one permit: a source is pulled again only
// once its previous value was taken, so at most sources.size() values wait.
template <class T>
stream<T> merge_body(std::vector<stream<T>> sources) {
    auto state = std::make_shared<pump_state<T>>(sources.size(), sources.size(), 1);
    const stop_on_exit<T> stop_producers(state.get());
    for (std::size_t i = 0; i < sources.size(); ++i) {
        start_pump(*state, pump_source(state, std::move(sources[i]), i, no_hop{}));
    }
    sources.clear();
    for (;;) {
        std::optional<T> value = co_await state->pop();
        if (!value) {
            break;
        }
        co_yield std::move(*value);
    }
}

} // namespace eddy::detail
