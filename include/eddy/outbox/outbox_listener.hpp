// eddy/outbox/outbox_listener.hpp - eddy::outbox_listener, the registration an outbox store's
// `on_enqueue` returns.
#pragma once

#include <functional> // std::function
#include <utility>    // std::move, std::exchange

namespace eddy {

/// A callback registered with an outbox store's `on_enqueue(f)` (every store has one: memory,
/// SQLite, PostgreSQL): `f` is called until this listener is destroyed or reset. Made by the
/// stores; move-only; an empty (default or moved-from) listener registers nothing.
///
/// Eager. Thread-safety: one owner at a time; destroying it unregisters `f` safely while the
/// store calls it on another thread (a call under way may still finish).
/// Lifetime: independent of the store (the store's shared state is kept by `unregister`).
///
///     eddy::outbox_listener l = outbox.on_enqueue([&wake] { wake.set(); });
///     l.reset(); // no more calls
class outbox_listener {
public:
    outbox_listener() = default;
    /// For stores: `unregister` removes the callback (called once, from `reset`).
    explicit outbox_listener(std::function<void()> unregister) noexcept
        : m_unregister(std::move(unregister)) {}
    outbox_listener(outbox_listener&& o) noexcept
        : m_unregister(std::exchange(o.m_unregister, nullptr)) {}
    outbox_listener& operator=(outbox_listener&& o) noexcept {
        if (this != &o) {
            reset();
            m_unregister = std::exchange(o.m_unregister, nullptr);
        }
        return *this;
    }
    outbox_listener(const outbox_listener&) = delete;
    outbox_listener& operator=(const outbox_listener&) = delete;
    ~outbox_listener() { reset(); }

    /// Unregisters the callback now (nothing when empty).
    void reset() noexcept {
        if (auto unregister = std::exchange(m_unregister, nullptr)) {
            unregister();
        }
    }

    /// Whether a callback is registered through this listener.
    explicit operator bool() const noexcept { return static_cast<bool>(m_unregister); }

private:
    std::function<void()> m_unregister;
};

} // namespace eddy
