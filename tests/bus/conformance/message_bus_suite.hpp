// tests/bus/conformance/message_bus_suite.hpp - the conformance suite of eddy::message_bus: every
// bus (eddy::event_bus now; the NATS JetStream bus later) runs these checks unchanged.
//
// A harness gives a fresh bus and drives scenarios to completion:
//
//     struct my_harness {
//         using bus_type = my_bus;
//         static constexpr bool virtual_time = false; // true: its timers run on
//                                                     // eddy::virtual_time_scheduler `clock`
//         bus_type& bus();                            // fresh, without topics
//         template <class A> decltype(auto) run(A a); // drives a scenario to its end
//     };
//     TEMPLATE_TEST_CASE("message_bus conformance", "[bus][conformance]", my_harness) {
//         eddy::test::bus::message_bus_conformance<TestType>();
//     }
//
// Scenarios wait for handlers with events, never with sleeps, so they hold on a real broker;
// the exact times of the retry schedule and of the dead-letter headers are checked when
// `virtual_time` is true (then the harness has `eddy::virtual_time_scheduler clock`).
#pragma once

#include <catch2/catch.hpp>

#include <chrono>      // std::chrono
#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint64_t
#include <map>         // std::map
#include <mutex>       // std::mutex, std::lock_guard
#include <optional>    // std::optional
#include <stdexcept>   // std::runtime_error
#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view
#include <type_traits> // std::is_same_v, std::remove_pointer_t
#include <utility>     // std::declval, std::move
#include <vector>      // std::vector

#include <eddy/bus/consumer_options.hpp>
#include <eddy/bus/dead_letter.hpp>
#include <eddy/bus/dead_letter_entry.hpp>
#include <eddy/bus/headers.hpp>
#include <eddy/bus/message_bus.hpp>
#include <eddy/bus/record.hpp>
#include <eddy/bus/subscription.hpp>
#include <eddy/core/async_event.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy::test::bus {

using namespace std::chrono_literals;

// The payload of every check: not trivially copyable, compared by value.
struct parcel {
    int n = 0;
    std::string note;
    friend bool operator==(const parcel&, const parcel&) = default;
};

inline parcel parcel_n(int n) { return parcel{n, "parcel-" + std::to_string(n)}; }

// One handled delivery, as a handler saw it.
struct seen {
    std::string group;
    std::size_t partition = 0;
    std::uint64_t offset = 0;
    std::string key;
    parcel value;
    eddy::headers headers;
    std::chrono::steady_clock::time_point at{}; // the harness clock (virtual_time only)
    friend bool operator==(const seen&, const seen&) = default;
};

// What the handlers of one check did; handlers may run on any thread (a real broker), so every
// change is under the mutex. `done` is set once `expected` successful deliveries happened.
struct log {
    std::mutex mutex;
    std::vector<seen> handled;     // successful deliveries, in completion order
    std::vector<seen> attempts;    // every call of a handler, in call order
    std::map<int, int> fail_first; // value n -> calls of it that still fail
    bool fail_all = false;         // every call fails
    std::size_t expected = 0;
    eddy::async_event done;
};

// A handler failure carrying a recognisable message.
struct parcel_failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

template <class Clock>
task<void> on_parcel(log* l, Clock* clock, std::string group, record<parcel> r) {
    seen s{group, r.partition, r.offset, r.key, r.value, r.headers, {}};
    if constexpr (!std::is_same_v<Clock, void>) {
        s.at = clock->now();
    }
    bool fail = false;
    bool finished = false;
    {
        std::lock_guard lock(l->mutex);
        l->attempts.push_back(s);
        auto it = l->fail_first.find(r.value.n);
        if (l->fail_all) {
            fail = true;
        } else if (it != l->fail_first.end() && it->second > 0) {
            --it->second;
            fail = true;
        } else {
            l->handled.push_back(s);
            finished = l->handled.size() == l->expected;
        }
    }
    if (fail) {
        throw parcel_failure("parcel " + std::to_string(r.value.n) + " failed");
    }
    if (finished) {
        l->done.set();
    }
    co_return;
}

// The push handler: records every call in `l` (with the time of `clock`, if any).
template <class Clock = void>
struct recorder {
    log* l;
    std::string group;
    Clock* clock = nullptr;
    task<void> operator()(const record<parcel>& r) const {
        return on_parcel<Clock>(l, clock, group, r);
    }
};

template <class Bus>
task<std::vector<publish_result>> publish_all(Bus* bus, std::string topic,
                                              std::vector<std::string> keys, int n, int first = 0) {
    std::vector<publish_result> out;
    for (int i = first; i < first + n; ++i) {
        // Arguments built before the co_await (g++ 12 miscompiles braced temporaries in it).
        eddy::headers h;
        h.set("n", std::to_string(i));
        std::string key = keys[static_cast<std::size_t>(i) % keys.size()];
        publish_result r = co_await bus->publish(topic, std::move(key), parcel_n(i), std::move(h));
        out.push_back(r);
    }
    co_return out;
}

template <class Bus>
task<void> publish_one(Bus* bus, std::string topic, std::string key, parcel value) {
    eddy::headers none;
    co_await bus->publish(std::move(topic), std::move(key), std::move(value), std::move(none));
}

template <class Bus>
task<void> publish_int(Bus* bus, std::string topic) {
    eddy::headers none;
    std::string key = "k";
    co_await bus->publish(std::move(topic), std::move(key), 7, std::move(none));
}

inline task<void> wait_then_stop(log* l, std::vector<subscription*> subs) {
    co_await l->done.wait();
    for (subscription* s : subs) {
        co_await s->stop();
    }
}

// Pulls `n` records of `s` (a consume stream never ends on its own).
template <class T>
task<std::vector<record<T>>> pull_n(stream<record<T>>* s, std::size_t n) {
    std::vector<record<T>> out;
    while (out.size() < n) {
        std::optional<record<T>> r = co_await s->next();
        if (!r) {
            break;
        }
        out.push_back(std::move(*r));
    }
    co_return out;
}

// Pulls `n` records of a fresh pull member of `group`, then drops the stream without pulling
// again: the last record pulled is not committed.
template <class Bus>
task<std::vector<record<parcel>>> pull_and_leave(Bus* bus, std::string topic, std::string group,
                                                 std::size_t n) {
    stream<record<parcel>> s = bus->template consume<parcel>(topic, group, {});
    std::vector<record<parcel>> out = co_await pull_n(&s, n);
    co_return out;
}

inline std::vector<int> values(const std::vector<seen>& v) {
    std::vector<int> out;
    for (const seen& s : v) {
        out.push_back(s.value.n);
    }
    return out;
}

template <class Harness>
auto* clock_of(Harness& h) {
    if constexpr (Harness::virtual_time) {
        return &h.clock;
    } else {
        return static_cast<void*>(nullptr);
    }
}

template <class Harness>
using clock_type = std::remove_pointer_t<decltype(clock_of(std::declval<Harness&>()))>;

template <class Harness>
task<void> push_until_done(Harness* h, log* l, std::string topic, std::string group,
                           consumer_options options, std::vector<std::string> keys, int n) {
    using clock = clock_type<Harness>;
    subscription sub = h->bus().template subscribe<parcel>(
        topic, group, recorder<clock>{l, group, clock_of(*h)}, std::move(options));
    co_await publish_all(&h->bus(), topic, std::move(keys), n);
    std::vector<subscription*> subs{&sub};
    co_await wait_then_stop(l, std::move(subs));
}

/// Every check, each on a fresh harness.
template <class Harness>
void message_bus_conformance() {
    using bus_type = typename Harness::bus_type;
    using clock = clock_type<Harness>;
    STATIC_REQUIRE(eddy::message_bus<bus_type>);
    STATIC_REQUIRE(eddy::detail::check_message_bus<bus_type>());

    SECTION("topics are created with their dead-letter topic, validated, and checked on use") {
        Harness h;
        bus_type& bus = h.bus();
        REQUIRE_FALSE(bus.has_topic("orders"));
        bus.template create_topic<parcel>("orders", {.partitions = 3});
        REQUIRE(bus.has_topic("orders"));
        REQUIRE(bus.has_topic(eddy::dead_letter_topic("orders")));
        bus.template create_topic<parcel>("orders", {.partitions = 3}); // the same: nothing
        REQUIRE_THROWS_AS(bus.template create_topic<parcel>("orders", {.partitions = 4}),
                          eddy::error);
        REQUIRE_THROWS_AS(bus.template create_topic<int>("orders", {.partitions = 3}), eddy::error);
        REQUIRE_THROWS_AS(h.run(publish_one(&bus, "nope", "k", parcel_n(1))), eddy::error);
        REQUIRE_THROWS_AS(h.run(publish_int(&bus, "orders")), eddy::error);
        REQUIRE_THROWS_AS(bus.template consume<parcel>("nope", "g", {}), eddy::error);
    }

    SECTION("order per partition and per key; publish tells where each record landed") {
        Harness h;
        bus_type& bus = h.bus();
        bus.template create_topic<parcel>("t", {.partitions = 4});
        log l;
        l.expected = 40;
        const std::vector<std::string> keys{"a", "b", "c", "d", "e", "f", "g"};
        h.run(push_until_done(&h, &l, "t", "g", {}, keys, 40));
        REQUIRE(l.handled.size() == 40);
        std::map<std::string, int> last_value;
        std::map<std::size_t, std::uint64_t> next_offset;
        std::map<std::string, std::size_t> partition_of;
        for (const seen& s : l.handled) {
            REQUIRE(s.key == keys[static_cast<std::size_t>(s.value.n) % keys.size()]);
            REQUIRE(s.value == parcel_n(s.value.n));
            REQUIRE(s.headers.get("n") == std::to_string(s.value.n));
            auto [it, fresh] = last_value.try_emplace(s.key, s.value.n);
            if (!fresh) {
                REQUIRE(s.value.n > it->second); // per key: publish order
                it->second = s.value.n;
            }
            REQUIRE(s.offset == next_offset[s.partition]++); // per partition: offset order
            auto [p, first] = partition_of.try_emplace(s.key, s.partition);
            REQUIRE(p->second == s.partition); // a key stays in one partition
        }
        REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>(4, 0));
    }

    SECTION("publish yields the partition and the offset the consumers see") {
        Harness h;
        bus_type& bus = h.bus();
        bus.template create_topic<parcel>("t", {.partitions = 2});
        const std::vector<publish_result> where = h.run(publish_all(&bus, "t", {"x", "y", "z"}, 9));
        std::map<std::size_t, std::uint64_t> next;
        for (const publish_result& r : where) {
            REQUIRE(r.partition < 2);
            REQUIRE(r.offset == next[r.partition]++);
        }
        stream<record<parcel>> s = bus.template consume<parcel>("t", "audit", {});
        const std::vector<record<parcel>> got = h.run(pull_n(&s, 9));
        REQUIRE(got.size() == 9);
        for (const record<parcel>& r : got) {
            REQUIRE(r.topic == "t");
            REQUIRE(where[static_cast<std::size_t>(r.value.n)] ==
                    publish_result{r.partition, r.offset});
        }
    }

    SECTION("two groups each see every record") {
        Harness h;
        bus_type& bus = h.bus();
        bus.template create_topic<parcel>("t", {.partitions = 3});
        log l;
        l.expected = 12;
        h.run(push_until_done(&h, &l, "t", "push-group", {}, {"a", "b", "c", "d"}, 12));
        stream<record<parcel>> s = bus.template consume<parcel>("t", "pull-group", {});
        const std::vector<record<parcel>> pulled = h.run(pull_n(&s, 12));
        std::vector<int> a = values(l.handled);
        std::vector<int> b;
        for (const record<parcel>& r : pulled) {
            b.push_back(r.value.n);
        }
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        const std::vector<int> all{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        REQUIRE(a == all);
        REQUIRE(b == all);
        REQUIRE(bus.lag("t", "push-group") == std::vector<std::uint64_t>(3, 0));
    }

    SECTION("at-least-once: a failed handler gets the record again before the next one") {
        Harness h;
        bus_type& bus = h.bus();
        bus.template create_topic<parcel>("t");
        log l;
        l.expected = 4;
        l.fail_first[1] = 2; // the first two calls with parcel 1 fail
        consumer_options options{
            .retry = {.initial_interval = 1ms, .max_interval = 1ms, .max_attempts = 3}};
        h.run(push_until_done(&h, &l, "t", "g", options, {"k"}, 4));
        REQUIRE(values(l.attempts) == std::vector<int>{0, 1, 1, 1, 2, 3});
        REQUIRE(values(l.handled) == std::vector<int>{0, 1, 2, 3});
        REQUIRE(l.attempts[1].offset == l.attempts[3].offset);
        REQUIRE(bus.dead_letters({.topic = "t"}).empty());
        REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0});
    }

    SECTION("at-least-once: a pull member that leaves mid-record leaves it to the next member") {
        Harness h;
        bus_type& bus = h.bus();
        bus.template create_topic<parcel>("t");
        h.run(publish_all(&bus, "t", {"k"}, 3));
        // The first member pulls records 0 and 1 (0 committed by the second pull) and leaves.
        const auto first = h.run(pull_and_leave(&bus, "t", "g", 2));
        REQUIRE(first.size() == 2);
        REQUIRE(first[1].value == parcel_n(1));
        REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{2});
        const auto second = h.run(pull_and_leave(&bus, "t", "g", 2));
        REQUIRE(second.size() == 2);
        REQUIRE(second[0].value == parcel_n(1)); // delivered again
        REQUIRE(second[0].offset == first[1].offset);
        REQUIRE(second[1].value == parcel_n(2));
    }

    SECTION("after the last attempt a record is dead-lettered with its headers, and the "
            "partition moves on") {
        Harness h;
        bus_type& bus = h.bus();
        bus.template create_topic<parcel>("t", {.partitions = 2});
        log l;
        l.expected = 2; // parcels 0 and 2 succeed
        l.fail_first[1] = 1000;
        // Seconds in virtual time; milliseconds on a real clock (only the count is checked).
        constexpr std::chrono::steady_clock::duration unit =
            Harness::virtual_time ? std::chrono::steady_clock::duration(1s)
                                  : std::chrono::steady_clock::duration(1ms);
        consumer_options options{.retry = {.initial_interval = unit,
                                           .multiplier = 2.0,
                                           .max_interval = 4 * unit,
                                           .max_attempts = 5}};
        h.run(push_until_done(&h, &l, "t", "billing", options, {"only"}, 3));
        REQUIRE(values(l.handled) == std::vector<int>{0, 2});
        REQUIRE(values(l.attempts) == std::vector<int>{0, 1, 1, 1, 1, 1, 2});
        if constexpr (Harness::virtual_time) {
            // Exact backoff: 1s, 2s, 4s, then capped at 4s.
            const auto t0 = l.attempts[1].at;
            REQUIRE(l.attempts[2].at - t0 == 1s);
            REQUIRE(l.attempts[3].at - t0 == 3s);
            REQUIRE(l.attempts[4].at - t0 == 7s);
            REQUIRE(l.attempts[5].at - t0 == 11s);
        }
        const seen& failed = l.attempts[1];
        // The dead letter, read from the dead-letter topic like any topic.
        stream<record<parcel>> dlq =
            bus.template consume<parcel>(eddy::dead_letter_topic("t"), "ops", {});
        const std::vector<record<parcel>> letters = h.run(pull_n(&dlq, 1));
        REQUIRE(letters.size() == 1);
        const record<parcel>& d = letters[0];
        REQUIRE(d.value == parcel_n(1));
        REQUIRE(d.key == "only");
        REQUIRE(d.partition == failed.partition); // same partition number
        const eddy::headers& hd = d.headers;
        REQUIRE(hd.get("n") == "1"); // the original headers stay
        REQUIRE(hd.get(dead_letter_header::topic) == "t");
        REQUIRE(hd.get(dead_letter_header::partition) == std::to_string(failed.partition));
        REQUIRE(hd.get(dead_letter_header::offset) == std::to_string(failed.offset));
        REQUIRE(hd.get(dead_letter_header::group) == "billing");
        REQUIRE(hd.get(dead_letter_header::error_message) == "parcel 1 failed");
        REQUIRE(hd.get(dead_letter_header::error_type).has_value());
        REQUIRE_FALSE(hd.get(dead_letter_header::error_type)->empty());
        REQUIRE(hd.get(dead_letter_header::attempts) == "5");
        REQUIRE(hd.contains(dead_letter_header::first_failure));
        REQUIRE(hd.contains(dead_letter_header::last_failure));
        if constexpr (Harness::virtual_time) {
            auto ns = [](auto t) {
                return std::to_string(std::chrono::nanoseconds(t.time_since_epoch()).count());
            };
            REQUIRE(hd.get(dead_letter_header::first_failure) == ns(l.attempts[1].at));
            REQUIRE(hd.get(dead_letter_header::last_failure) == ns(l.attempts[5].at));
        }
        // The same, listed.
        const std::vector<dead_letter_entry> listed = bus.dead_letters({.topic = "t"});
        REQUIRE(listed.size() == 1);
        REQUIRE(listed[0].topic == "t");
        REQUIRE(listed[0].partition == failed.partition);
        REQUIRE(listed[0].offset == failed.offset);
        REQUIRE(listed[0].group == "billing");
        REQUIRE(listed[0].key == "only");
        REQUIRE(listed[0].error_message == "parcel 1 failed");
        REQUIRE(listed[0].attempts == 5);
        REQUIRE(listed[0].status == dead_letter_status::pending);
        REQUIRE(listed[0].id.partition == d.partition);
        REQUIRE(listed[0].id.offset == d.offset);
        REQUIRE(bus.dead_letters({.topic = "other"}).empty());
        std::vector<std::uint64_t> lag = bus.lag("t", "billing");
        REQUIRE(lag == std::vector<std::uint64_t>(2, 0)); // not blocked by the poison record
    }

    SECTION("reprocessing republishes a dead letter to its group; discarding drops one") {
        Harness h;
        bus_type& bus = h.bus();
        bus.template create_topic<parcel>("t");
        log l;
        l.expected = 1; // parcel 2 succeeds
        l.fail_first[0] = 1;
        l.fail_first[1] = 1;
        consumer_options options{.retry = {.max_attempts = 1}};
        {
            subscription sub = bus.template subscribe<parcel>(
                "t", "g", recorder<clock>{&l, "g", clock_of(h)}, options);
            h.run(publish_all(&bus, "t", {"k"}, 3));
            h.run(wait_then_stop(&l, {&sub}));
        }
        std::vector<dead_letter_entry> pending = bus.dead_letters({.topic = "t"});
        REQUIRE(pending.size() == 2);
        REQUIRE(pending[0].offset == 0);
        REQUIRE(pending[1].offset == 1);
        // Reprocess parcel 0 (it succeeds now), discard parcel 1.
        log again;
        again.expected = 1;
        subscription sub = bus.template subscribe<parcel>(
            "t", "g", recorder<clock>{&again, "g", clock_of(h)}, options);
        const publish_result r = h.run(bus.reprocess(pending[0].id, "alice"));
        bus.discard(pending[1].id, "bob");
        h.run(wait_then_stop(&again, {&sub}));
        REQUIRE(values(again.handled) == std::vector<int>{0});
        REQUIRE(again.handled[0].offset == r.offset);
        REQUIRE(again.handled[0].key == "k");
        REQUIRE(bus.dead_letters({.topic = "t"}).empty());
        const auto reprocessed =
            bus.dead_letters({.topic = "t", .status = dead_letter_status::reprocessed});
        REQUIRE(reprocessed.size() == 1);
        REQUIRE(reprocessed[0].id == pending[0].id);
        const auto discarded =
            bus.dead_letters({.topic = "t", .status = dead_letter_status::discarded});
        REQUIRE(discarded.size() == 1);
        REQUIRE(discarded[0].id == pending[1].id);
        // A dead letter is reprocessed or discarded once.
        REQUIRE_THROWS_AS(h.run(bus.reprocess(pending[0].id, "alice")), eddy::error);
        REQUIRE_THROWS_AS(bus.discard(pending[1].id, "bob"), eddy::error);
        REQUIRE_THROWS_AS(h.run(bus.reprocess(std::vector<dead_letter_id>{pending[1].id}, "c")),
                          eddy::error);
        REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0});
    }

    SECTION("a record that fails again after reprocessing returns to the dead letters") {
        Harness h;
        bus_type& bus = h.bus();
        bus.template create_topic<parcel>("t");
        log l;
        l.fail_all = true;
        consumer_options options{
            .retry = {.initial_interval = 1ms, .max_interval = 1ms, .max_attempts = 2}};
        subscription sub = bus.template subscribe<parcel>(
            "t", "g", recorder<clock>{&l, "g", clock_of(h)}, options);
        // Dead letters arrive in the dead-letter topic: a pull member of it waits for them.
        stream<record<parcel>> watch =
            bus.template consume<parcel>(eddy::dead_letter_topic("t"), "watch", {});
        h.run(publish_all(&bus, "t", {"k"}, 1));
        REQUIRE(h.run(pull_n(&watch, 1)).size() == 1);
        const std::vector<dead_letter_entry> first = bus.dead_letters({.topic = "t"});
        REQUIRE(first.size() == 1);
        const std::vector<publish_result> again =
            h.run(bus.reprocess(std::vector<dead_letter_id>{first[0].id}, "ops"));
        REQUIRE(again.size() == 1);
        REQUIRE(h.run(pull_n(&watch, 1)).size() == 1);
        h.run(sub.stop());
        REQUIRE(values(l.attempts) == std::vector<int>{0, 0, 0, 0});
        const std::vector<dead_letter_entry> second = bus.dead_letters({.topic = "t"});
        REQUIRE(second.size() == 1);
        REQUIRE_FALSE(second[0].id == first[0].id);
        REQUIRE(second[0].offset == again[0].offset);
        REQUIRE(second[0].attempts == 2);
        REQUIRE(second[0].history.find(';') != std::string::npos); // both failures listed
    }
}

} // namespace eddy::test::bus
