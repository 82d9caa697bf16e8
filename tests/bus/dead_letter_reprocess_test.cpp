// Tests of dead-letter reprocessing and ordered dead-lettering: listing dead letters (filters),
// reprocess one or a batch (republished to the original topic, for the failing group only),
// discard, the audit log, the attempt history of a record that fails again, the counters, and
// ordered dead-lettering (a dead-lettered key's later records are parked, other keys flow;
// reprocessing releases them in order). All in virtual time.
#include <eddy/bus/dead_letter_entry.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>

using eddy::dead_letter_id;
using eddy::dead_letter_status;
using eddy::record;
using eddy::subscription;
using eddy::task;
using eddy::virtual_time_scheduler;
using bus_t = eddy::event_bus<virtual_time_scheduler>;
using time_point = virtual_time_scheduler::time_point;
using namespace std::chrono_literals;

namespace {

const time_point epoch{};

struct journal {
    std::vector<std::string> handled; // "<key><value>" on success
    std::set<std::string> poison;     // keys+values that fail
    int attempts = 0;
};

task<void> handle(journal* j, std::string key, int value) {
    ++j->attempts;
    const std::string what = key + std::to_string(value);
    if (j->poison.count(what) != 0) {
        throw std::runtime_error("poison " + what);
    }
    j->handled.push_back(what);
    co_return;
}

struct handler {
    journal* j;
    task<void> operator()(const record<int>& r) const { return handle(j, r.key, r.value); }
};

eddy::consumer_options options(bool ordered) {
    eddy::consumer_options o;
    o.retry.initial_interval = 1s;
    o.retry.max_attempts = 2;
    o.ordered_dead_letters = ordered;
    return o;
}

using batch_t = std::vector<std::pair<std::string, int>>;

task<void> publish(bus_t* b, batch_t records) {
    for (auto& [k, v] : records) {
        co_await b->publish("t", k, v);
    }
}

const std::string error_type = typeid(std::runtime_error).name();

} // namespace

TEST_CASE("ordered dead-lettering parks a key's later records and releases them in order",
          "[bus][dead_letter]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    journal j;
    j.poison = {"A2"};
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, journal* jr) -> task<void> {
        subscription s = b->subscribe<int>("t", "g", handler{jr}, options(true));
        {

            batch_t batch{{"A", 1}, {"B", 1}, {"A", 2}, {"B", 2},
                          {"A", 3}, {"C", 1}, {"A", 4}, {"B", 3}};

            co_await publish(b, std::move(batch));
        }
        co_await v->schedule_after(10s);
        // A2 failed twice (at 0s and 1s) and is the head of A; A3, A4 are parked.
        CHECK(jr->handled == std::vector<std::string>{"A1", "B1", "B2", "C1", "B3"});
        CHECK(b->stats("t").parked == 2);
        const auto pending = b->dead_letters({.topic = "t"});
        REQUIRE(pending.size() == 1);
        CHECK(pending[0].id == dead_letter_id{"t.DLQ", 0, 0});
        CHECK(pending[0].key == "A");
        CHECK(pending[0].offset == 2);
        CHECK(pending[0].group == "g");
        CHECK(pending[0].attempts == 2);
        CHECK(pending[0].error_type == error_type);
        CHECK(pending[0].error_message == "poison A2");
        CHECK(pending[0].status == dead_letter_status::pending);
        CHECK(b->dead_letters({.topic = "other"}).empty());
        CHECK(b->dead_letters({.error_type = "nope"}).empty());
        {

            batch_t batch{{"A", 5}, {"B", 4}};

            co_await publish(b, std::move(batch));

        } // A5 parked too, B4 flows
        co_await v->schedule_after(1s);
        jr->poison.clear();
        const eddy::publish_result r = co_await b->reprocess(pending[0].id, "alice");
        CHECK(r == eddy::publish_result{0, 10});
        co_await v->schedule_after(1s);
        {

            batch_t batch{{"A", 6}};

            co_await publish(b, std::move(batch));
        }
        co_await v->schedule_after(1s);
        co_await s.stop();
    };
    vt.run(scenario(&bus, &vt, &j));
    REQUIRE(j.handled == std::vector<std::string>{"A1", "B1", "B2", "C1", "B3", "B4", "A2", "A3",
                                                  "A4", "A5", "A6"});
    const eddy::topic_stats st = bus.stats("t");
    REQUIRE(st.parked == 3);
    REQUIRE(st.reprocessed == 1);
    REQUIRE(st.dead_lettered == 1);
    const auto audit = bus.audit_log();
    REQUIRE(audit.size() == 1);
    REQUIRE(audit[0].what == eddy::dead_letter_audit::action::reprocess);
    REQUIRE(audit[0].who == "alice");
    REQUIRE(audit[0].when == epoch + 11s);
    REQUIRE(audit[0].id == dead_letter_id{"t.DLQ", 0, 0});
    REQUIRE(audit[0].topic == "t");
    REQUIRE(audit[0].republished == eddy::publish_result{0, 10});
    REQUIRE(bus.dead_letters().empty());
    REQUIRE(bus.dead_letters({.status = dead_letter_status::reprocessed}).size() == 1);
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0});
}

TEST_CASE("without ordered dead-lettering later records of the key go on", "[bus][dead_letter]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    journal j;
    j.poison = {"A2"};
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, journal* jr) -> task<void> {
        subscription s = b->subscribe<int>("t", "g", handler{jr}, options(false));
        {

            batch_t batch{{"A", 1}, {"A", 2}, {"A", 3}};

            co_await publish(b, std::move(batch));
        }
        co_await v->schedule_after(10s);
        co_await s.stop();
    };
    vt.run(scenario(&bus, &vt, &j));
    REQUIRE(j.handled == std::vector<std::string>{"A1", "A3"});
    REQUIRE(bus.stats("t").parked == 0);
}

TEST_CASE("a parked record that fails after release becomes the new head", "[bus][dead_letter]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    journal j;
    j.poison = {"A1", "A2"};
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, journal* jr) -> task<void> {
        subscription s = b->subscribe<int>("t", "g", handler{jr}, options(true));
        {

            batch_t batch{{"A", 1}, {"A", 2}, {"A", 3}, {"B", 1}};

            co_await publish(b, std::move(batch));
        }
        co_await v->schedule_after(10s);
        CHECK(jr->handled == std::vector<std::string>{"B1"});
        jr->poison.erase("A1");
        const dead_letter_id first{"t.DLQ", 0, 0};
        co_await b->reprocess(first, "ops"); // A1 ok, A2 fails again
        co_await v->schedule_after(10s);
        CHECK(jr->handled == std::vector<std::string>{"B1", "A1"});
        const auto pending = b->dead_letters();
        REQUIRE(pending.size() == 1);
        CHECK(pending[0].key == "A");
        CHECK(pending[0].offset == 1);
        CHECK(pending[0].id == dead_letter_id{"t.DLQ", 0, 1});
        jr->poison.clear();
        b->discard(pending[0].id, "ops"); // releases A3 without A2
        co_await v->schedule_after(10s);
        co_await s.stop();
    };
    vt.run(scenario(&bus, &vt, &j));
    REQUIRE(j.handled == std::vector<std::string>{"B1", "A1", "A3"});
    REQUIRE(bus.stats("t").discarded == 1);
}

TEST_CASE("reprocess: a record failing again returns with its history; discard; batch; audit; "
          "errors; other groups skip republished records",
          "[bus][dead_letter]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    journal j;
    journal other;
    j.poison = {"X1", "Y1", "Z1"};
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, journal* jr,
                       journal* ok) -> task<void> {
        subscription s = b->subscribe<int>("t", "g", handler{jr}, options(false));
        subscription h = b->subscribe<int>("t", "h", handler{ok}, options(false));
        {

            batch_t batch{{"X", 1}};

            co_await publish(b, std::move(batch));
        }
        co_await v->schedule_after(10s); // X1 dead-lettered at 1s (t.DLQ:0:0)
        const dead_letter_id first{"t.DLQ", 0, 0};
        co_await b->reprocess(first, "alice");
        co_await v->schedule_after(10s); // fails again: t.DLQ:0:1 at 11s
        const auto again = b->dead_letters({.topic = "t"});
        REQUIRE(again.size() == 1);
        CHECK(again[0].id == dead_letter_id{"t.DLQ", 0, 1});
        CHECK(again[0].offset == 1); // the republished copy's offset
        CHECK(again[0].history ==
              "2x " + error_type + " @1000000000;2x " + error_type + " @11000000000");
        CHECK_THROWS_AS(co_await b->reprocess(first, "alice"), eddy::error); // done already
        b->discard(again[0].id, "bob");
        CHECK_THROWS_AS(b->discard(again[0].id, "bob"), eddy::error);
        CHECK_THROWS_AS(b->discard(dead_letter_id{"t.DLQ", 0, 7}, "bob"), eddy::error);
        CHECK_THROWS_AS(b->discard(dead_letter_id{"t", 0, 0}, "bob"), eddy::error);
        {

            batch_t batch{{"Y", 1}, {"Z", 1}};

            co_await publish(b, std::move(batch));
        }
        co_await v->schedule_after(10s); // t.DLQ:0:2 and 0:3
        jr->poison.clear();
        // A batch with a bad id does nothing.
        std::vector<dead_letter_id> bad{{"t.DLQ", 0, 2}, {"t.DLQ", 0, 0}};
        CHECK_THROWS_AS(co_await b->reprocess(bad, "carol"), eddy::error);
        CHECK(b->dead_letters().size() == 2);
        std::vector<dead_letter_id> good{{"t.DLQ", 0, 3}, {"t.DLQ", 0, 2}};
        const std::vector<eddy::publish_result> rs = co_await b->reprocess(good, "carol");
        CHECK(rs == std::vector<eddy::publish_result>{{0, 4}, {0, 5}});
        co_await v->schedule_after(10s);
        co_await s.stop();
        co_await h.stop();
    };
    vt.run(scenario(&bus, &vt, &j, &other));
    REQUIRE(j.handled == std::vector<std::string>{"Z1", "Y1"});
    // Group h handled each original once and none of the republished copies.
    REQUIRE(other.handled == std::vector<std::string>{"X1", "Y1", "Z1"});
    const eddy::topic_stats st = bus.stats("t");
    REQUIRE(st.reprocessed == 3);
    REQUIRE(st.discarded == 1);
    REQUIRE(st.dead_lettered == 4);
    REQUIRE(bus.dead_lettered_by_error("t") ==
            std::map<std::string, std::uint64_t>{{error_type, 4}});
    const auto audit = bus.audit_log();
    REQUIRE(audit.size() == 4);
    REQUIRE(audit[0].who == "alice");
    REQUIRE(audit[1].what == eddy::dead_letter_audit::action::discard);
    REQUIRE(audit[1].who == "bob");
    REQUIRE(audit[1].when == epoch + 20s);
    REQUIRE(audit[2].who == "carol");
    REQUIRE(audit[2].id == dead_letter_id{"t.DLQ", 0, 3});
    REQUIRE(audit[3].republished == eddy::publish_result{0, 5});
    REQUIRE(bus.dead_letters({.status = std::nullopt}).size() == 4);
    REQUIRE(bus.dead_letters({.status = dead_letter_status::discarded}).size() == 1);
}

TEST_CASE("a group's batch of records stops before one republished for another group and goes on "
          "after it",
          "[bus][dead_letter]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    journal j;
    journal other;
    j.poison = {"X1"};
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, journal* jr,
                       journal* ok) -> task<void> {
        subscription s = b->subscribe<int>("t", "g", handler{jr}, options(false));
        subscription h = b->subscribe<int>("t", "h", handler{ok}, options(false));
        {

            batch_t batch{{"X", 1}};

            co_await publish(b, std::move(batch));
        }
        co_await v->schedule_after(10s); // X1 dead-lettered by g, handled by h
        jr->poison.clear();
        // Published without a suspension in between: h's next claim finds all three at once,
        // the republished X1 (for g only) between two plain records.
        {

            batch_t before{{"P", 1}};

            co_await publish(b, std::move(before));
        }
        const dead_letter_id first{"t.DLQ", 0, 0};
        co_await b->reprocess(first, "ops");
        {

            batch_t after{{"P", 2}};

            co_await publish(b, std::move(after));
        }
        co_await v->schedule_after(10s);
        co_await s.stop();
        co_await h.stop();
    };
    vt.run(scenario(&bus, &vt, &j, &other));
    REQUIRE(j.handled == std::vector<std::string>{"P1", "X1", "P2"});
    REQUIRE(other.handled == std::vector<std::string>{"X1", "P1", "P2"});
    REQUIRE(bus.lag("t", "g") == std::vector<std::uint64_t>{0});
    REQUIRE(bus.lag("t", "h") == std::vector<std::uint64_t>{0});
}
