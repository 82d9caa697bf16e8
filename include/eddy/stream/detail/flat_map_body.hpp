// eddy/stream/detail/flat_map_body.hpp - the coroutines behind eddy::flat_map: one outer pump
// pulling the upstream into slots, one inner pump per running inner stream.
#pragma once

#include <cstddef>    // std::size_t, std::ptrdiff_t
#include <exception>  // std::current_exception
#include <functional> // std::invoke
#include <memory>     // std::shared_ptr, std::make_shared
#include <mutex>      // std::mutex, std::lock_guard
#include <optional>   // std::optional
#include <stop_token> // std::stop_token
#include <utility>    // std::move
#include <vector>     // std::vector (the free slots)

#include <eddy/core/async_semaphore.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/task.hpp>
#include <eddy/stream/detail/flat_map_inner.hpp>
#include <eddy/stream/detail/pump_state.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy::detail {

// The pump state plus `n` slots: a slot is taken before the upstream is pulled and given back
// once its inner stream was destroyed after its last value was taken. Slot i's inner stream
// pushes with credit i (one permit), so it runs at most one value ahead.
template <class U>
class flat_map_state : public pump_state<U> {
public:
    explicit flat_map_state(std::size_t n)
        : pump_state<U>(1, n, 1), m_slots(static_cast<std::ptrdiff_t>(n)) {
        m_free.reserve(n);
        for (std::size_t i = n; i > 0; --i) {
            m_free.push_back(i - 1);
        }
    }

    [[nodiscard]] async_semaphore& slots() noexcept { return m_slots; }

    // Precondition: a permit of slots() is held, so a slot is free.
    std::size_t take_slot() {
        std::lock_guard lock(m_free_mutex);
        const std::size_t slot = m_free.back();
        m_free.pop_back();
        return slot;
    }

    void return_slot(std::size_t slot) {
        {
            std::lock_guard lock(m_free_mutex);
            m_free.push_back(slot); // never reallocates: reserved for every slot
        }
        m_slots.release(); // may resume the outer pump inline: it pulls the upstream
    }

private:
    async_semaphore m_slots;
    std::mutex m_free_mutex;
    std::vector<std::size_t> m_free; // guarded by m_free_mutex
};

template <class U>
task<> flat_map_inner_pump(std::shared_ptr<flat_map_state<U>> state, stream<U> inner,
                           std::size_t slot) {
    co_await pump_values(static_cast<pump_state<U>*>(state.get()), std::move(inner),
                         &state->credit(slot), no_hop{});
    state->return_slot(slot);
    state->producer_done();
}

template <class U, class T, class F>
task<> flat_map_outer_pump(std::shared_ptr<flat_map_state<U>> state, stream<T> upstream, F f) {
    try {
        stream<T> source = std::move(upstream); // a local: destroyed before producer_done
        const std::stop_token token = co_await get_stop_token();
        for (;;) {
            co_await state->slots().acquire(); // a free slot before pulling: bounded memory
            if (token.stop_requested()) {
                break;
            }
            std::optional<T> value = co_await source.next();
            if (!value || token.stop_requested()) {
                break;
            }
            stream<U> inner = flat_map_as_stream(std::invoke(f, std::move(*value)));
            const std::size_t slot = state->take_slot();
            state->add_producer();
            start_pump(*state, flat_map_inner_pump(state, std::move(inner), slot));
        }
    } catch (...) {
        state->fail(std::current_exception());
    }
    state->producer_done();
}

// Checked by eddy::flat_map (n >= 1, F's result) before it gets here.
template <class U, class T, class F>
stream<U> flat_map_body(stream<T> upstream, F f, std::size_t n) {
    auto state = std::make_shared<flat_map_state<U>>(n);
    const stop_on_exit<U> stop_producers(state.get());
    start_pump(*state, flat_map_outer_pump<U>(state, std::move(upstream), std::move(f)));
    for (;;) {
        std::optional<U> value = co_await state->pop();
        if (!value) {
            break;
        }
        co_yield std::move(*value);
    }
}

} // namespace eddy::detail
