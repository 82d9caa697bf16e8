// eddy/bus/detail/message_bus_requirements.hpp - the members eddy::message_bus and
// eddy::transactional_bus require, one concept each, so a type that misses one gets a
// diagnostic naming it.
#pragma once

#include <concepts>    // std::same_as, std::convertible_to
#include <cstdint>     // std::uint64_t
#include <string>      // std::string
#include <string_view> // std::string_view
#include <vector>      // std::vector

#include <eddy/bus/consumer_options.hpp>
#include <eddy/bus/dead_letter_entry.hpp>
#include <eddy/bus/headers.hpp>
#include <eddy/bus/producer_sequence.hpp>
#include <eddy/bus/record.hpp>
#include <eddy/bus/subscription.hpp>
#include <eddy/bus/topic_config.hpp>
#include <eddy/bus/transaction.hpp>
#include <eddy/core/awaitable.hpp>
#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy::detail {

// The members of a bus are templates over the payload type; the concept checks them with this
// stand-in payload (copyable, not default-constructible: a bus may not rely on more than
// moving and copying values) and a handler of it.
struct bus_probe_payload {
    explicit bus_probe_payload(int v) : value(v) {}
    int value;
};
struct bus_probe_handler {
    task<void> operator()(const record<bus_probe_payload>&) const;
};

template <class B>
concept has_create_topic = requires(B& b, std::string name, topic_config config) {
    b.template create_topic<bus_probe_payload>(name, config);
};

template <class B>
concept has_has_topic = requires(const B& b, std::string_view name) {
    { b.has_topic(name) } -> std::same_as<bool>;
};

// What a publish returns: `task<publish_result>`, or an awaitable yielding a publish_result that
// converts to one (event_bus's publish_awaitable: no coroutine frame per record), so generic
// code may both await it and keep it as a task.
template <class A>
concept publish_awaitable_of = awaitable<A> && std::convertible_to<A, task<publish_result>> &&
    std::same_as<await_result_t<A>, publish_result>;

template <class B>
concept has_publish = requires(B& b, std::string topic, std::string key, bus_probe_payload value,
                               headers h) {
    { b.publish(topic, key, value, h) } -> publish_awaitable_of;
};

template <class B>
concept has_idempotent_publish = requires(B& b, std::string topic, std::string key,
                                          bus_probe_payload value, headers h,
                                          producer_sequence seq) {
    { b.publish(topic, key, value, h, seq) } -> publish_awaitable_of;
};

template <class B>
concept has_subscribe = requires(B& b, std::string topic, std::string group,
                                 bus_probe_handler handler, consumer_options options) {
    {
        b.template subscribe<bus_probe_payload>(topic, group, handler, options)
        } -> std::same_as<subscription>;
};

template <class B>
concept has_consume = requires(B& b, std::string topic, std::string group,
                               consumer_options options) {
    {
        b.template consume<bus_probe_payload>(topic, group, options)
        } -> std::same_as<stream<record<bus_probe_payload>>>;
};

template <class B>
concept has_lag = requires(const B& b, std::string_view topic, std::string_view group) {
    { b.lag(topic, group) } -> std::same_as<std::vector<std::uint64_t>>;
};

template <class B>
concept has_dead_letters = requires(B& b, dead_letter_filter filter) {
    { b.dead_letters(filter) } -> std::same_as<std::vector<dead_letter_entry>>;
};

template <class B>
concept has_reprocess = requires(B& b, dead_letter_id id, std::vector<dead_letter_id> ids,
                                 std::string who) {
    { b.reprocess(id, who) } -> std::same_as<task<publish_result>>;
    { b.reprocess(ids, who) } -> std::same_as<task<std::vector<publish_result>>>;
};

template <class B>
concept has_discard = requires(B& b, dead_letter_id id, std::string who) {
    b.discard(id, who);
};

template <class B>
concept has_begin_transaction = requires(B& b, std::string producer_id) {
    { b.begin_transaction(producer_id) } -> std::same_as<transaction>;
};

// One static_assert per member, in order, so the first thing missing is what the user reads.
// Returns true so it can sit in a static_assert of its own at the point of use.
template <class B>
consteval bool check_message_bus() {
    static_assert(has_create_topic<B>,
                  "eddy::message_bus: the bus has no member `template <class T> "
                  "create_topic(std::string name, eddy::topic_config)`");
    static_assert(has_has_topic<B>, "eddy::message_bus: the bus has no const member "
                                    "`has_topic(std::string_view)` returning bool");
    static_assert(has_publish<B>,
                  "eddy::message_bus: the bus has no member `publish(std::string topic, "
                  "std::string key, T value, eddy::headers)` returning "
                  "eddy::task<eddy::publish_result> (or an awaitable of eddy::publish_result "
                  "that converts to it)");
    static_assert(has_idempotent_publish<B>,
                  "eddy::message_bus: the bus has no member `publish(std::string topic, "
                  "std::string key, T value, eddy::headers, eddy::producer_sequence)` returning "
                  "eddy::task<eddy::publish_result> (or an awaitable of eddy::publish_result "
                  "that converts to it)");
    static_assert(has_subscribe<B>,
                  "eddy::message_bus: the bus has no member `template <class T, class Handler> "
                  "subscribe(std::string topic, std::string group, Handler, "
                  "eddy::consumer_options)` returning eddy::subscription");
    static_assert(has_consume<B>,
                  "eddy::message_bus: the bus has no member `template <class T> "
                  "consume(std::string topic, std::string group, eddy::consumer_options)` "
                  "returning eddy::stream<eddy::record<T>>");
    static_assert(has_lag<B>, "eddy::message_bus: the bus has no const member "
                              "`lag(std::string_view topic, std::string_view group)` returning "
                              "std::vector<std::uint64_t>");
    static_assert(has_dead_letters<B>, "eddy::message_bus: the bus has no member "
                                       "`dead_letters(eddy::dead_letter_filter)` returning "
                                       "std::vector<eddy::dead_letter_entry>");
    static_assert(has_reprocess<B>,
                  "eddy::message_bus: the bus has no members `reprocess(eddy::dead_letter_id, "
                  "std::string who)` returning eddy::task<eddy::publish_result> and "
                  "`reprocess(std::vector<eddy::dead_letter_id>, std::string who)` returning "
                  "eddy::task<std::vector<eddy::publish_result>>");
    static_assert(has_discard<B>, "eddy::message_bus: the bus has no member "
                                  "`discard(eddy::dead_letter_id, std::string who)`");
    return true;
}

template <class B>
consteval bool check_transactional_bus() {
    check_message_bus<B>();
    static_assert(has_begin_transaction<B>,
                  "eddy::transactional_bus: the bus has no member "
                  "`begin_transaction(std::string producer_id)` returning eddy::transaction");
    return true;
}

} // namespace eddy::detail
