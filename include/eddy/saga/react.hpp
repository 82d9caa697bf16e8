// eddy/saga/react.hpp - eddy::react, a choreography step: on a record of one topic, run a
// handler and publish what it decides to another topic, exactly once per input.
#pragma once

#include <optional>    // std::optional
#include <string>      // std::string, std::to_string
#include <type_traits> // std::is_invocable_v, std::invoke_result_t, std::is_same_v
#include <utility>     // std::move

#include <eddy/bus/consumer_options.hpp>
#include <eddy/bus/headers.hpp>
#include <eddy/bus/record.hpp>
#include <eddy/bus/subscription.hpp>
#include <eddy/core/awaitable.hpp>
#include <eddy/core/task.hpp>
#include <eddy/saga/correlation.hpp>

namespace eddy {

/// Where a reaction reads and writes: it consumes `source` as consumer group `group` (the
/// reacting service) and publishes its results to `target`.
struct reaction_route {
    std::string source;
    std::string group;
    std::string target;
};

namespace detail {

template <class Out, class Result>
inline constexpr bool is_reaction_result_v =
    std::is_same_v<Result, Out> || std::is_same_v<Result, std::optional<Out>>;

template <class Bus>
concept transactional_bus_like = requires(Bus& b, std::string id) {
    b.begin_transaction(id);
};

template <class In, class Out, class Bus, class Handler>
struct reactor {
    Bus* bus;
    reaction_route route;
    Handler handler;

    task<void> operator()(const record<In>& r) { return run(bus, &route, &handler, &r); }

    // The record stays valid until this task finishes (the bus's push contract).
    static task<void> run(Bus* bus, const reaction_route* route, Handler* handler,
                          const record<In>* r) {
        std::optional<Out> out = co_await (*handler)(*r);
        std::string key(correlation_id(*r));
        headers h = caused_headers(*r);
        if constexpr (transactional_bus_like<Bus>) {
            // Output and consumed offset commit together: a retry after a crash or failure
            // never publishes twice (exactly-once inside the bus). One producer id per input
            // partition, since one partition is handled by one member at a time.
            auto tx = bus->begin_transaction("react/" + route->group + "/" + route->source + "/" +
                                             std::to_string(r->partition));
            if (out) {
                co_await tx.template publish<Out>(route->target, std::move(key), std::move(*out),
                                                  std::move(h));
            }
            tx.commit_offset(route->group, *r);
            co_await tx.commit();
        } else if (out) {
            co_await bus->template publish<Out>(route->target, std::move(key), std::move(*out),
                                                std::move(h));
        }
    }
};

} // namespace detail

/// Subscribes a reaction: for each record of `route.source` (type `In`), `handler(record)` is
/// awaited; it yields an `Out` (or a `std::optional<Out>`, empty = nothing to publish), which
/// is published to `route.target` (type `Out`, typically a `std::variant` of that topic's
/// events, failure events included) with the input's correlation id as key and
/// `correlation-id` / `causation-id` headers. A failure is just another event the handler
/// returns (`payment_failed`); an exception is handled by the bus like any handler error:
/// retried by `options.retry`, then dead-lettered.
/// Exactly once: on a bus with transactions (`eddy::event_bus`) the output and the consumed
/// offset commit in one transaction, so each input yields one committed output however often
/// the handler is retried or the record redelivered; on a bus without them, at-least-once.
/// The handler's own side effects are at-least-once: make them idempotent (e.g. keyed by the
/// correlation id).
///
/// Eager: the group is joined before `react` returns (see `event_bus::subscribe`).
/// Where handlers run: on the bus scheduler, as any push handler.
/// Errors: the bus's `eddy::error`s for unknown topics, wrong types or invalid options.
/// Lifetime: the bus must outlive the subscription's completed `stop()`; the handler is moved
/// into it. A capturing lambda handler must not itself be a coroutine (g++ 12): let it return
/// the task of a coroutine taking its state by value.
///
///     auto payments = eddy::react<order_event, payment_event>(
///         bus, {.source = "orders", .group = "payment-service", .target = "payments"}, charge);
template <class In, class Out, class Bus, class Handler>
[[nodiscard]] subscription react(Bus& bus, reaction_route route, Handler handler,
                                 consumer_options options = {}) {
    static_assert(std::is_invocable_v<Handler&, const record<In>&>,
                  "eddy::react<In, Out>: the handler must be callable with a const "
                  "eddy::record<In>&");
    if constexpr (std::is_invocable_v<Handler&, const record<In>&>) {
        using result = await_result_t<std::invoke_result_t<Handler&, const record<In>&>>;
        static_assert(detail::is_reaction_result_v<Out, result>,
                      "eddy::react<In, Out>: the handler must return an awaitable of Out or of "
                      "std::optional<Out> (e.g. eddy::task<Out>)");
    }
    std::string source = route.source;
    std::string group = route.group;
    return bus.template subscribe<In>(
        std::move(source), std::move(group),
        detail::reactor<In, Out, Bus, Handler>{&bus, std::move(route), std::move(handler)},
        std::move(options));
}

} // namespace eddy
