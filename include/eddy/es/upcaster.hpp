// eddy/es/upcaster.hpp - eddy::upcaster<Stored, Current>: turns events written with an old
// schema version into the current event types while reading.
#pragma once

#include <cstdint>     // std::uint32_t
#include <functional>  // std::function
#include <map>         // std::map
#include <memory>      // std::shared_ptr, std::make_shared
#include <optional>    // std::optional
#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view
#include <type_traits> // std::is_invocable_r_v, std::remove_cvref_t
#include <utility>     // std::move, std::forward, std::pair, std::in_place_type
#include <variant>     // std::variant, std::visit, std::get

#include <eddy/core/error.hpp>
#include <eddy/es/detail/is_alternative.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy {

/// A chain of upcasters: `Stored` is the variant of every event type a store may hold (old
/// schema versions included), `Current` the variant the application handles (current types
/// only, each also an alternative of `Stored`). `add<From, To>(fn)` registers the step from
/// `From` (name and schema version) to `To`, whose schema version must be higher; reading with
/// `upcast(envelope)` applies the steps registered for the event's (name, version) one after
/// the other (v1 -> v2 -> v3) until it reaches a current type, and sets the envelope's type
/// name and schema version to the result's.
///
/// Eager, synchronous (`upcast(stream)` is lazy like any stream operator).
/// Errors: registering a second step for the same (name, version) throws `eddy::error`; an
/// event that no chain brings to a current type throws `eddy::error` naming its type, schema
/// version, stream and position (never undefined behaviour).
/// Lifetime: `upcast(stream)` shares the chain, so the stream may outlive the upcaster; steps
/// added after it was created are seen by it.
/// Thread-safety: `add` by one thread before reading; `upcast` from many threads then.
///
///     eddy::upcaster<stored_events, current_events> up;
///     up.add<placed_v1, placed_v2>([](placed_v1 e) { return placed_v2{e.customer, "EUR"}; });
///     auto current = up.upcast(store.read_all(1));
template <event_variant Stored, event_variant Current>
class upcaster {
public:
    template <class From, class To, class Fn>
    upcaster& add(Fn fn) {
        static_assert(detail::is_alternative_v<From, Stored> &&
                          detail::is_alternative_v<To, Stored>,
                      "eddy::upcaster::add: From and To must both be alternatives of Stored");
        static_assert(event_schema_version_v<To> > event_schema_version_v<From>,
                      "eddy::upcaster::add: To's schema version must be higher than From's");
        static_assert(std::is_invocable_r_v<To, Fn&, From>,
                      "eddy::upcaster::add: fn must turn a From into a To");
        key k{std::string(event_name_v<From>), event_schema_version_v<From>};
        if (m_steps->contains(k)) {
            throw error("eddy::upcaster::add: an upcaster for '" + k.first + "' schema version " +
                        std::to_string(k.second) + " is already registered");
        }
        m_steps->emplace(std::move(k), [fn = std::move(fn)](Stored&& e) mutable -> Stored {
            return Stored(std::in_place_type<To>, fn(std::get<From>(std::move(e))));
        });
        return *this;
    }

    /// The envelope with its payload brought to a current event type.
    [[nodiscard]] event_envelope<Current> upcast(event_envelope<Stored> e) const {
        return upcast_with(*m_steps, std::move(e));
    }

    /// Every envelope of `s`, upcast (lazily, as pulled).
    [[nodiscard]] stream<event_envelope<Current>> upcast(stream<event_envelope<Stored>> s) const {
        return upcast_stream(m_steps, std::move(s));
    }

    /// A current event as the stored variant (for appending to a store of `Stored`).
    [[nodiscard]] static Stored widen(Current e) {
        return std::visit(
            [](auto&& x) -> Stored {
                using T = std::remove_cvref_t<decltype(x)>;
                return Stored(std::in_place_type<T>, std::forward<decltype(x)>(x));
            },
            std::move(e));
    }

private:
    using key = std::pair<std::string, std::uint32_t>;
    using steps = std::map<key, std::function<Stored(Stored&&)>, std::less<>>;

    static event_envelope<Current> upcast_with(const steps& chain, event_envelope<Stored> e) {
        for (;;) {
            auto it = chain.find(
                key{std::string(event_name_of(e.payload)), event_schema_version_of(e.payload)});
            if (it == chain.end()) {
                break;
            }
            e.payload = it->second(std::move(e.payload));
        }
        std::optional<Current> current = std::visit(
            [](auto&& x) -> std::optional<Current> {
                using T = std::remove_cvref_t<decltype(x)>;
                if constexpr (detail::is_alternative_v<T, Current>) {
                    return Current(std::in_place_type<T>, std::forward<decltype(x)>(x));
                } else {
                    return std::nullopt;
                }
            },
            std::move(e.payload));
        if (!current) {
            throw error("eddy::upcaster: event '" + std::string(event_name_of(e.payload)) +
                        "' schema version " + std::to_string(event_schema_version_of(e.payload)) +
                        " (stream '" + e.stream_id + "', position " +
                        std::to_string(e.global_position) +
                        ") has no upcaster to a current event type");
        }
        event_envelope<Current> out{std::move(e.event_id),
                                    std::move(e.stream_id),
                                    e.stream_version,
                                    e.global_position,
                                    std::string(event_name_of(*current)),
                                    event_schema_version_of(*current),
                                    e.recorded_at,
                                    std::move(e.metadata),
                                    std::move(*current)};
        return out;
    }

    static stream<event_envelope<Current>> upcast_stream(std::shared_ptr<const steps> chain,
                                                         stream<event_envelope<Stored>> s) {
        for (;;) {
            std::optional<event_envelope<Stored>> e = co_await s.next();
            if (!e) {
                co_return;
            }
            co_yield upcast_with(*chain, std::move(*e));
        }
    }

    std::shared_ptr<steps> m_steps = std::make_shared<steps>();
};

} // namespace eddy
