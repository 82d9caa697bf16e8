// Tests of eddy::outbox_relay: publishes in order with the aggregate as key and the message id
// header, marks published; a failing publish is retried on the policy's exact schedule and,
// when given up, released with its aggregate's later messages while other aggregates go on;
// run() wakes at a commit instead of waiting for its poll, and takes a crashed run's leases
// back; two relays on one store publish each message once; retention purges; bad options.
#include <eddy/outbox/outbox_relay.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/outbox/memory_outbox_store.hpp>

#include <support/outbox_world.hpp>
#include <support/virtual_time_tasks.hpp>

namespace {

using namespace std::chrono_literals;
using namespace eddy::test::outbox;
using strings = std::vector<std::string>;
using store_type = eddy::memory_outbox_store<notice>;

// A bus that records publishes and fails them by script (per aggregate key: how many of the
// next publishes of that key fail).
struct fake_bus {
    eddy::virtual_time_scheduler* vt;
    std::map<std::string, int> failures_left;
    strings published; // "<key>#<n>@<time>"
    strings message_ids;

    template <class T>
    eddy::task<eddy::publish_result> publish(std::string topic, std::string key, T value,
                                             eddy::headers h) {
        if (failures_left[key] > 0) {
            --failures_left[key];
            throw std::runtime_error("broker unavailable");
        }
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(vt->now().time_since_epoch())
                .count();
        published.push_back(key + "#" + std::to_string(value.n) + "@" + std::to_string(ms) + "ms");
        message_ids.push_back(std::string(h.get(eddy::message_id_header).value_or("")));
        (void)topic;
        co_return eddy::publish_result{};
    }
};

void enqueue(eddy::virtual_time_scheduler& vt, eddy::memory_storage& storage, store_type& outbox,
             std::vector<eddy::outbox_message<notice>> ms) {
    auto unit = storage.begin();
    outbox.enqueue(unit, std::move(ms));
    (void)vt.run(storage.commit(std::move(unit)));
}

} // namespace

TEST_CASE("a round publishes in order, with key and message id, and marks",
          "[outbox][outbox_relay]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    fake_bus bus{&vt, {}, {}, {}};
    enqueue(vt, storage, outbox, {message("a", 1), message("b", 1), message("a", 2)});
    eddy::outbox_relay relay(outbox, bus, vt, {.relay_id = "r1"});
    CHECK(vt.run(relay.run_once()) == 3);
    CHECK(bus.published == strings{"a#1@0ms", "b#1@0ms", "a#2@0ms"});
    const auto ms = outbox.messages();
    CHECK(bus.message_ids ==
          strings{ms[0].id.to_string(), ms[1].id.to_string(), ms[2].id.to_string()});
    CHECK(vt.run(outbox.stats()) == eddy::outbox_stats{0, {}, 3});
    CHECK(relay.published() == 3);
    CHECK(vt.run(relay.run_once()) == 0);
}

TEST_CASE("a failing publish retries on schedule, then holds back only its aggregate",
          "[outbox][outbox_relay]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    fake_bus bus{&vt, {{"a", 5}}, {}, {}};
    enqueue(vt, storage, outbox, {message("a", 1), message("b", 1), message("a", 2)});
    eddy::outbox_relay relay(
        outbox, bus, vt,
        {.relay_id = "r1", .retry = {.initial_interval = 100ms, .max_attempts = 3}});
    CHECK(vt.run(relay.run_once()) == 1); // a#1 tried at 0, 100, 300 ms; given up
    CHECK(bus.published == strings{"b#1@300ms"});
    auto ms = outbox.messages();
    CHECK(ms[0].attempts == 1);
    CHECK(ms[0].last_error == "broker unavailable");
    CHECK(ms[2].attempts == 1);           // released behind it, never published before it
    CHECK(vt.run(relay.run_once()) == 2); // 2 failures left: fails at 300, 400; ok at 600 ms
    CHECK(bus.published == strings{"b#1@300ms", "a#1@600ms", "a#2@600ms"});
}

namespace {
eddy::task<void> enqueue_at(eddy::virtual_time_scheduler* vt, eddy::memory_storage storage,
                            store_type* outbox, std::chrono::milliseconds when,
                            eddy::outbox_message<notice> m) {
    co_await vt->schedule_after(when);
    auto unit = storage.begin();
    outbox->enqueue(unit, {std::move(m)});
    (void)co_await storage.commit(std::move(unit));
}
} // namespace

TEST_CASE("run wakes at a commit instead of waiting for its poll", "[outbox][outbox_relay]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    fake_bus bus{&vt, {}, {}, {}};
    eddy::outbox_relay relay(outbox, bus, vt, {.relay_id = "r1", .poll_interval = 10s});
    std::stop_source stop;
    auto all = eddy::when_all(eddy::with_stop_token(relay.run(), stop.get_token()),
                              enqueue_at(&vt, storage, &outbox, 1500ms, message("a", 1)),
                              enqueue_at(&vt, storage, &outbox, 2500ms, message("a", 2)),
                              eddy::test::virtual_time::request_stop_after(vt, 60s, stop));
    CHECK_THROWS_AS(vt.run(std::move(all)), eddy::operation_cancelled);
    CHECK(bus.published == strings{"a#1@1500ms", "a#2@2500ms"});
}

TEST_CASE("a relay restarted under its id takes its crashed run's leases back at once",
          "[outbox][outbox_relay]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    enqueue(vt, storage, outbox, {message("a", 1), message("a", 2), message("b", 1)});
    // The crashed run claimed a#1 (30 s lease) and died before publishing it.
    REQUIRE(vt.run(outbox.claim("r1", 1, 30s)).size() == 1);
    fake_bus bus{&vt, {}, {}, {}};
    eddy::outbox_relay relay(outbox, bus, vt, {.relay_id = "r1", .poll_interval = 1s});
    std::stop_source stop;
    auto all = eddy::when_all(eddy::with_stop_token(relay.run(), stop.get_token()),
                              eddy::test::virtual_time::request_stop_after(vt, 5s, stop));
    CHECK_THROWS_AS(vt.run(std::move(all)), eddy::operation_cancelled);
    CHECK(bus.published == strings{"a#1@0ms", "a#2@0ms", "b#1@0ms"}); // not after 30 s
}

namespace {
// The same store without enqueue notifications: the relay can only poll.
struct polled_store {
    using payload_type = notice;
    using unit_type = eddy::memory_unit_of_work;
    store_type* inner;
    void enqueue(unit_type& u, std::vector<eddy::outbox_message<notice>> m) {
        inner->enqueue(u, std::move(m));
    }
    auto claim(std::string r, std::size_t n, std::chrono::steady_clock::duration l) {
        return inner->claim(std::move(r), n, l);
    }
    auto mark_published(std::string r, std::vector<eddy::uuid> ids) {
        return inner->mark_published(std::move(r), std::move(ids));
    }
    auto release(std::string r, eddy::uuid id, std::string e) {
        return inner->release(std::move(r), id, std::move(e));
    }
    auto stats() { return inner->stats(); }
    auto purge_published(std::chrono::steady_clock::duration age) {
        return inner->purge_published(age);
    }
};
static_assert(eddy::outbox_store<polled_store>);
} // namespace

TEST_CASE("without notifications the relay polls", "[outbox][outbox_relay]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    polled_store polled{&outbox};
    fake_bus bus{&vt, {}, {}, {}};
    eddy::outbox_relay relay(polled, bus, vt, {.relay_id = "r1", .poll_interval = 2s});
    std::stop_source stop;
    auto all = eddy::when_all(eddy::with_stop_token(relay.run(), stop.get_token()),
                              enqueue_at(&vt, storage, &outbox, 1500ms, message("a", 1)),
                              eddy::test::virtual_time::request_stop_after(vt, 10s, stop));
    CHECK_THROWS_AS(vt.run(std::move(all)), eddy::operation_cancelled);
    CHECK(bus.published == strings{"a#1@2000ms"}); // the first poll after the commit
}

TEST_CASE("two relays on one store publish every message once, in order per aggregate",
          "[outbox][outbox_relay]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    fake_bus bus{&vt, {}, {}, {}};
    for (int n = 1; n <= 5; ++n) {
        enqueue(vt, storage, outbox, {message("a", n), message("b", n), message("c", n)});
    }
    eddy::outbox_relay r1(outbox, bus, vt, {.relay_id = "r1", .batch = 2});
    eddy::outbox_relay r2(outbox, bus, vt, {.relay_id = "r2", .batch = 2});
    while (vt.run(outbox.stats()).pending > 0) {
        (void)vt.run(eddy::when_all(r1.run_once(), r2.run_once()));
    }
    REQUIRE(bus.published.size() == 15);
    std::map<std::string, int> last;
    for (const auto& p : bus.published) {
        const std::string key = p.substr(0, 1);
        const int n = std::stoi(p.substr(2, p.find('@') - 2));
        CHECK(n == last[key] + 1);
        last[key] = n;
    }
    CHECK(r1.published() + r2.published() == 15);
}

TEST_CASE("retention purges what was published long enough ago", "[outbox][outbox_relay]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    fake_bus bus{&vt, {}, {}, {}};
    eddy::outbox_relay relay(outbox, bus, vt, {.relay_id = "r1", .retention = 1min});
    enqueue(vt, storage, outbox, {message("a", 1)});
    CHECK(vt.run(relay.run_once()) == 1);
    CHECK(outbox.messages().size() == 1);
    vt.advance(2min);
    enqueue(vt, storage, outbox, {message("a", 2)});
    CHECK(vt.run(relay.run_once()) == 1); // a#1 is purged, a#2 (just published) stays
    CHECK(outbox.messages().size() == 1);
    CHECK(outbox.messages()[0].payload.n == 2);
}

namespace {
eddy::task<strings> read_three(eddy::event_bus<eddy::virtual_time_scheduler>* bus) {
    auto s = bus->consume<notice>("notices", "check");
    strings out;
    for (int i = 0; i < 3; ++i) {
        auto r = co_await s.next();
        out.push_back(r->key + "#" + std::to_string(r->value.n) +
                      (r->headers.get(eddy::message_id_header) ? " with id" : ""));
    }
    co_return out;
}
} // namespace

TEST_CASE("the relay publishes to the in-process bus", "[outbox][outbox_relay]") {
    eddy::virtual_time_scheduler vt;
    auto storage = storage_on(vt);
    store_type outbox(storage);
    eddy::event_bus bus(vt);
    bus.create_topic<notice>("notices", {.partitions = 3});
    enqueue(vt, storage, outbox, {message("a", 1), message("b", 1), message("a", 2)});
    eddy::outbox_relay relay(outbox, bus, vt, {.relay_id = "r1"});
    CHECK(vt.run(relay.run_once()) == 3);
    auto got = vt.run(read_three(&bus));
    // one key's records share a partition, in order; partitions interleave freely
    CHECK(std::find(got.begin(), got.end(), "a#1 with id") <
          std::find(got.begin(), got.end(), "a#2 with id"));
    std::sort(got.begin(), got.end());
    CHECK(got == strings{"a#1 with id", "a#2 with id", "b#1 with id"});
}

TEST_CASE("bad relay options are eddy::errors", "[outbox][outbox_relay]") {
    eddy::virtual_time_scheduler vt;
    store_type outbox;
    fake_bus bus{&vt, {}, {}, {}};
    using relay = eddy::outbox_relay<store_type, fake_bus, eddy::virtual_time_scheduler>;
    CHECK_THROWS_WITH(relay(outbox, bus, vt, {.relay_id = ""}), Catch::Contains("relay_id"));
    CHECK_THROWS_WITH(relay(outbox, bus, vt, {.batch = 0}), Catch::Contains("batch"));
    CHECK_THROWS_WITH(relay(outbox, bus, vt, {.lease = 0s}), Catch::Contains("positive"));
    CHECK_THROWS_WITH(relay(outbox, bus, vt, {.retry = {.max_attempts = 0}}),
                      Catch::Contains("max_attempts"));
}
