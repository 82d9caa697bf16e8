// Tests of the eddy::message_bus and eddy::transactional_bus concepts: eddy::event_bus models
// both, and runs the conformance suite every bus runs (tests/bus/conformance/) on virtual time
// and on a thread pool; archetypes missing one member each model neither.
#include <eddy/bus/message_bus.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/bus/event_bus.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

namespace {

// The in-process bus on virtual time: the suite checks its retry times exactly.
struct in_process_harness {
    using bus_type = eddy::event_bus<eddy::virtual_time_scheduler>;
    static constexpr bool virtual_time = true;

    eddy::virtual_time_scheduler clock;
    bus_type b{clock};

    bus_type& bus() { return b; }
    template <class A>
    decltype(auto) run(A a) {
        return clock.run(std::move(a));
    }
};

// The in-process bus on a thread pool: handlers on other threads than the scenario's.
struct pool_harness {
    using bus_type = eddy::event_bus<eddy::thread_pool>;
    static constexpr bool virtual_time = false;

    eddy::thread_pool pool{2};
    bus_type b{pool};

    bus_type& bus() { return b; }
    template <class A>
    decltype(auto) run(A a) {
        return eddy::sync_wait(std::move(a));
    }
};

using eddy::consumer_options;
using eddy::dead_letter_entry;
using eddy::dead_letter_filter;
using eddy::dead_letter_id;
using eddy::headers;
using eddy::producer_sequence;
using eddy::publish_result;
using eddy::record;
using eddy::stream;
using eddy::subscription;
using eddy::task;
using eddy::topic_config;

// A minimal model of message_bus (declarations only: the concept looks at signatures). With
// EDDY_ARCHETYPE_DROP = n, member n is left out.
template <int Drop>
struct archetype {
    template <class T>
    void create_topic(std::string, topic_config) requires(Drop != 1);
    bool has_topic(std::string_view) const requires(Drop != 2);
    template <class T>
    task<publish_result> publish(std::string, std::string, T, headers) requires(Drop != 3);
    template <class T>
    task<publish_result> publish(std::string, std::string, T, headers,
                                 producer_sequence) requires(Drop != 4);
    template <class T, class Handler>
    subscription subscribe(std::string, std::string, Handler, consumer_options) requires(Drop != 5);
    template <class T>
    stream<record<T>> consume(std::string, std::string, consumer_options) requires(Drop != 6);
    std::vector<std::uint64_t> lag(std::string_view, std::string_view) const requires(Drop != 7);
    std::vector<dead_letter_entry> dead_letters(dead_letter_filter) requires(Drop != 8);
    task<publish_result> reprocess(dead_letter_id, std::string) requires(Drop != 9);
    task<std::vector<publish_result>> reprocess(std::vector<dead_letter_id>,
                                                std::string) requires(Drop != 9);
    void discard(const dead_letter_id&, const std::string&) requires(Drop != 10);
    eddy::transaction begin_transaction(std::string) requires(Drop != 11);
};

// Publish returns the wrong type: not a message bus either.
struct sync_publisher : archetype<3> {
    template <class T>
    publish_result publish(std::string, std::string, T, headers);
};

} // namespace

TEST_CASE("event_bus models message_bus and transactional_bus", "[bus][message_bus]") {
    STATIC_REQUIRE(eddy::message_bus<eddy::event_bus<eddy::virtual_time_scheduler>>);
    STATIC_REQUIRE(eddy::message_bus<eddy::event_bus<eddy::thread_pool>>);
    STATIC_REQUIRE(eddy::transactional_bus<eddy::event_bus<eddy::thread_pool>>);
    STATIC_REQUIRE(eddy::detail::check_transactional_bus<eddy::event_bus<eddy::thread_pool>>());
}

TEST_CASE("an archetype with every member models both concepts; one without a member does not",
          "[bus][message_bus]") {
    STATIC_REQUIRE(eddy::message_bus<archetype<0>>);
    STATIC_REQUIRE(eddy::transactional_bus<archetype<0>>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<archetype<1>>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<archetype<2>>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<archetype<3>>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<archetype<4>>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<archetype<5>>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<archetype<6>>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<archetype<7>>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<archetype<8>>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<archetype<9>>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<archetype<10>>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<sync_publisher>);
    STATIC_REQUIRE_FALSE(eddy::message_bus<int>);
    // Without transactions (NATS JetStream): a message bus, not a transactional one.
    STATIC_REQUIRE(eddy::message_bus<archetype<11>>);
    STATIC_REQUIRE_FALSE(eddy::transactional_bus<archetype<11>>);
}

TEMPLATE_TEST_CASE("message_bus conformance", "[bus][message_bus][conformance][concurrency]",
                   in_process_harness, pool_harness) {
    eddy::test::bus::message_bus_conformance<TestType>();
}
