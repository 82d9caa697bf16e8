// Tests of eddy::transaction and event_bus::begin_transaction: atomic visibility of records on
// several topics and of committed offsets, abort (explicit, by destruction, by fencing),
// isolation levels (read_committed waits behind open transactions and skips aborted records;
// read_uncommitted sees everything), producer fencing by epoch, offset conflicts, errors, a
// consume-process-produce run with failures injected at every step (exactly one committed
// output per input), and a [concurrency] stress on a thread_pool.
#include <eddy/bus/transaction.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <eddy/bus/event_bus.hpp>
#include <eddy/bus/producer_fenced.hpp>
#include <eddy/core/async_event.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/core/when_all.hpp>

using eddy::record;
using eddy::subscription;
using eddy::task;
using eddy::virtual_time_scheduler;
using bus_t = eddy::event_bus<virtual_time_scheduler>;
using namespace std::chrono_literals;

namespace {

// What a group saw: (topic, partition, offset, value) in delivery order.
struct seen {
    std::string topic;
    std::size_t partition;
    std::uint64_t offset;
    int value;
    friend bool operator==(const seen&, const seen&) = default;
};

task<void> note(std::vector<seen>* out, std::string topic, std::size_t p, std::uint64_t o, int v) {
    out->push_back({std::move(topic), p, o, v});
    co_return;
}

struct recorder {
    std::vector<seen>* out;
    task<void> operator()(const record<int>& r) const {
        return note(out, r.topic, r.partition, r.offset, r.value);
    }
};

eddy::consumer_options uncommitted() {
    eddy::consumer_options o;
    o.isolation = eddy::isolation::read_uncommitted;
    return o;
}

} // namespace

TEST_CASE("commit makes records on two topics and a group's offset visible at once",
          "[bus][transaction]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("in");
    bus.create_topic<int>("a");
    bus.create_topic<int>("b");
    std::vector<seen> committed;
    std::vector<seen> dirty;
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, std::vector<seen>* rc,
                       std::vector<seen>* ru) -> task<void> {
        co_await b->publish("in", "k", 7);
        auto pull = b->consume<int>("in", "proc");
        auto in = co_await pull.next(); // offset 0, committed only by the transaction below
        subscription c1 = b->subscribe<int>("a", "rc", recorder{rc});
        subscription c2 = b->subscribe<int>("b", "rc", recorder{rc});
        subscription d1 = b->subscribe<int>("a", "ru", recorder{ru}, uncommitted());
        subscription d2 = b->subscribe<int>("b", "ru", recorder{ru}, uncommitted());
        eddy::transaction tx = b->begin_transaction("p1");
        CHECK(tx.open());
        CHECK(tx.epoch() == 1);
        CHECK(tx.producer_id() == "p1");
        const eddy::publish_result ra = co_await tx.publish("a", "x", 1);
        const eddy::publish_result rb = co_await tx.publish("b", "y", 2);
        CHECK(ra == eddy::publish_result{0, 0});
        CHECK(rb == eddy::publish_result{0, 0});
        tx.commit_offset("proc", *in);
        co_await v->schedule_after(1s);
        CHECK(rc->empty());                                           // open: not visible
        CHECK(ru->size() == 2);                                       // read_uncommitted: at once
        CHECK(b->lag("in", "proc") == std::vector<std::uint64_t>{1}); // offset not yet
        co_await tx.commit();
        CHECK_FALSE(tx.open());
        CHECK(b->lag("in", "proc") == std::vector<std::uint64_t>{0});
        co_await v->schedule_after(1s);
        CHECK(rc->size() == 2);
        co_await c1.stop();
        co_await c2.stop();
        co_await d1.stop();
        co_await d2.stop();
    };
    vt.run(scenario(&bus, &vt, &committed, &dirty));
    REQUIRE(committed.size() == 2);
    REQUIRE(dirty.size() == 2);
}

TEST_CASE("abort, destruction and a failed commit hide the records from read_committed; "
          "records behind an open transaction wait for it",
          "[bus][transaction]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    std::vector<seen> rc;
    std::vector<seen> ru;
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, std::vector<seen>* c,
                       std::vector<seen>* u) -> task<void> {
        subscription s1 = b->subscribe<int>("t", "rc", recorder{c});
        subscription s2 = b->subscribe<int>("t", "ru", recorder{u}, uncommitted());
        co_await b->publish("t", "k", 0); // offset 0, plain
        {
            eddy::transaction tx = b->begin_transaction("p");
            co_await tx.publish("t", "k", 1); // offset 1, aborted explicitly
            tx.abort();
            CHECK_FALSE(tx.open());
        }
        {
            eddy::transaction tx = b->begin_transaction("p");
            co_await tx.publish("t", "k", 2); // offset 2, aborted by destruction
        }
        eddy::transaction open = b->begin_transaction("q");
        co_await open.publish("t", "k", 3); // offset 3, open for 10s
        co_await b->publish("t", "k", 4);   // offset 4, plain, behind the open one
        co_await v->schedule_after(10s);
        CHECK(*c == std::vector<seen>{{"t", 0, 0, 0}}); // waits at offset 3
        co_await open.commit();
        co_await v->schedule_after(1s);
        eddy::transaction late = b->begin_transaction("r");
        co_await late.publish("t", "k", 5); // offset 5, then aborted
        late.abort();
        co_await b->publish("t", "k", 6); // offset 6, plain
        co_await v->schedule_after(1s);
        co_await s1.stop();
        co_await s2.stop();
    };
    vt.run(scenario(&bus, &vt, &rc, &ru));
    REQUIRE(rc ==
            std::vector<seen>{{"t", 0, 0, 0}, {"t", 0, 3, 3}, {"t", 0, 4, 4}, {"t", 0, 6, 6}});
    REQUIRE(ru.size() == 7);
    for (std::size_t i = 0; i < ru.size(); ++i) {
        REQUIRE(ru[i].offset == i);
    }
    REQUIRE(bus.lag("t", "rc") == std::vector<std::uint64_t>{0});
}

TEST_CASE("a stale producer instance is fenced by epoch", "[bus][transaction]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    std::vector<seen> rc;
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, std::vector<seen>* c) -> task<void> {
        subscription s = b->subscribe<int>("t", "rc", recorder{c});
        eddy::transaction zombie = b->begin_transaction("p");
        co_await zombie.publish("t", "k", 1);
        eddy::transaction fresh = b->begin_transaction("p"); // bumps the epoch
        CHECK(zombie.epoch() == 1);
        CHECK(fresh.epoch() == 2);
        CHECK_FALSE(zombie.open());
        bool fenced = false;
        try {
            co_await zombie.commit();
        } catch (const eddy::producer_fenced& e) {
            fenced = true;
            CHECK(e.producer() == "p");
            CHECK(e.epoch() == 1);
            CHECK(e.current_epoch() == 2);
            const eddy::error& base = e; // derived from eddy::error
            CHECK(std::string(base.what()).find("fenced") != std::string::npos);
        }
        CHECK(fenced);
        bool fenced_publish = false;
        try {
            co_await zombie.publish("t", "k", 9);
        } catch (const eddy::producer_fenced&) {
            fenced_publish = true;
        }
        CHECK(fenced_publish);
        co_await fresh.publish("t", "k", 2);
        co_await fresh.commit();
        zombie.abort(); // a no-op once fenced
        co_await v->schedule_after(1s);
        co_await s.stop();
    };
    vt.run(scenario(&bus, &vt, &rc));
    REQUIRE(rc == std::vector<seen>{{"t", 0, 1, 2}});
}

TEST_CASE("commit fails and aborts when the group already moved past a committed offset",
          "[bus][transaction]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("in");
    bus.create_topic<int>("out");
    std::vector<seen> rc;
    auto scenario = [](bus_t* b, virtual_time_scheduler* v, std::vector<seen>* c) -> task<void> {
        subscription s = b->subscribe<int>("out", "rc", recorder{c});
        co_await b->publish("in", "k", 1);
        auto pull = b->consume<int>("in", "proc");
        auto in = co_await pull.next();
        eddy::transaction first = b->begin_transaction("a");
        eddy::transaction second = b->begin_transaction("b");
        co_await first.publish("out", "k", 10);
        co_await second.publish("out", "k", 20);
        first.commit_offset("proc", *in);
        second.commit_offset("proc", *in);
        co_await second.commit();
        bool conflict = false;
        try {
            co_await first.commit();
        } catch (const eddy::error& e) {
            conflict = true;
            CHECK(std::string(e.what()).find("already committed") != std::string::npos);
        }
        CHECK(conflict);
        CHECK_FALSE(first.open());
        co_await v->schedule_after(1s);
        co_await s.stop();
    };
    vt.run(scenario(&bus, &vt, &rc));
    REQUIRE(rc == std::vector<seen>{{"out", 0, 1, 20}});
}

TEST_CASE("transaction errors", "[bus][transaction]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("t");
    REQUIRE_THROWS_AS(bus.begin_transaction(""), eddy::error);
    auto scenario = [](bus_t* b) -> task<void> {
        eddy::transaction tx = b->begin_transaction("p");
        CHECK_THROWS_AS(co_await tx.publish("nope", "k", 1), eddy::error);
        CHECK_THROWS_AS(co_await tx.publish("t", "k", std::string("x")), eddy::error);
        CHECK_THROWS_AS(tx.commit_offset("no-group", "t", 0, 0), eddy::error);
        auto pull = b->consume<int>("t", "g");
        CHECK_THROWS_AS(tx.commit_offset("g", "t", 5, 0), eddy::error);
        co_await tx.commit();
        bool again = false;
        try {
            co_await tx.commit();
        } catch (const eddy::producer_fenced&) {
        } catch (const eddy::error& e) {
            again = std::string(e.what()).find("already committed") != std::string::npos;
        }
        CHECK(again);
    };
    vt.run(scenario(&bus));
}

namespace {

// ----- consume-process-produce with injected failures -----
//
// Input value v fails on its first attempt according to v % 7:
//  0: no failure
//  1: throws before producing
//  2: produces, then throws before commit (the transaction is destroyed: aborted)
//  3: produces, aborts explicitly and throws
//  4: produces, then is fenced by a newer instance of its producer id: commit throws
//  5: produces and commits, then throws: the record is done, not retried
//  6: produces, then waits; its member is cancelled mid-record (redelivered to the other);
//     only value 6 (one member is cancelled), so 13 does not fail
constexpr int inputs = 14;

struct cpp_state {
    std::map<int, int> attempts;
    std::map<int, int> committed_out;   // value -> count, read_committed on "out"
    std::map<int, int> committed_audit; // value -> count, read_committed on "audit"
    int uncommitted_out = 0;            // everything on "out", read_uncommitted
    int stuck_member = -1;
    eddy::async_event stuck;
    int outputs_seen = 0;
    eddy::async_event all_out;
};

struct injected : std::runtime_error {
    using std::runtime_error::runtime_error;
};

task<void> process(bus_t* bus, virtual_time_scheduler* vt, cpp_state* st, int member,
                   std::size_t partition, std::uint64_t offset, int value) {
    const int attempt = ++st->attempts[value];
    const int mode = attempt == 1 && value != 13 ? value % 7 : 0;
    if (mode == 1) {
        throw injected("before produce");
    }
    eddy::transaction tx = bus->begin_transaction("proc-p" + std::to_string(partition));
    const std::string key = "out-" + std::to_string(value);
    co_await tx.publish("out", key, value * 100);
    co_await tx.publish("audit", key, value);
    tx.commit_offset("proc", "in", partition, offset);
    if (mode == 2) {
        throw injected("after produce, before commit");
    }
    if (mode == 3) {
        tx.abort();
        throw injected("aborted");
    }
    if (mode == 4) {
        eddy::transaction newer = bus->begin_transaction("proc-p" + std::to_string(partition));
    }
    if (mode == 6) {
        st->stuck_member = member;
        st->stuck.set();
        co_await vt->schedule_after(1h); // ends with operation_cancelled
    }
    co_await tx.commit();
    if (mode == 5) {
        throw injected("after commit");
    }
}

struct processor {
    bus_t* bus;
    virtual_time_scheduler* vt;
    cpp_state* st;
    int member;
    task<void> operator()(const record<int>& r) const {
        return process(bus, vt, st, member, r.partition, r.offset, r.value);
    }
};

task<void> count_out(cpp_state* st, std::string topic, int value) {
    if (topic == "out") {
        ++st->committed_out[value / 100];
        if (++st->outputs_seen == inputs) {
            st->all_out.set();
        }
    } else {
        ++st->committed_audit[value];
    }
    co_return;
}

struct committed_counter {
    cpp_state* st;
    task<void> operator()(const record<int>& r) const { return count_out(st, r.topic, r.value); }
};

task<void> count_dirty(cpp_state* st) {
    ++st->uncommitted_out;
    co_return;
}

struct dirty_counter {
    cpp_state* st;
    task<void> operator()(const record<int>&) const { return count_dirty(st); }
};

task<void> consume_process_produce(bus_t* b, virtual_time_scheduler* v, cpp_state* st) {
    eddy::consumer_options opts;
    opts.retry.initial_interval = 1s;
    opts.retry.max_attempts = 5;
    subscription check_out = b->subscribe<int>("out", "check", committed_counter{st});
    subscription check_audit = b->subscribe<int>("audit", "check", committed_counter{st});
    subscription dirty = b->subscribe<int>("out", "dirty", dirty_counter{st}, uncommitted());
    std::vector<subscription> members;
    members.push_back(b->subscribe<int>("in", "proc", processor{b, v, st, 0}, opts));
    members.push_back(b->subscribe<int>("in", "proc", processor{b, v, st, 1}, opts));
    for (int i = 0; i < inputs; ++i) {
        co_await b->publish("in", "in-" + std::to_string(i), i);
    }
    co_await st->stuck.wait();
    co_await members[static_cast<std::size_t>(st->stuck_member)].cancel();
    co_await st->all_out.wait();
    co_await v->schedule_after(1h); // room for any duplicate to show up
    co_await members[static_cast<std::size_t>(1 - st->stuck_member)].stop();
    co_await check_out.stop();
    co_await check_audit.stop();
    co_await dirty.stop();
}

} // namespace

TEST_CASE("consume-process-produce with failures at every step: one committed output per input",
          "[bus][transaction]") {
    virtual_time_scheduler vt;
    bus_t bus(vt);
    bus.create_topic<int>("in", {.partitions = 2});
    bus.create_topic<int>("out", {.partitions = 3});
    bus.create_topic<int>("audit", {.partitions = 2});
    cpp_state st;
    vt.run(consume_process_produce(&bus, &vt, &st));
    for (int v = 0; v < inputs; ++v) {
        CAPTURE(v);
        REQUIRE(st.committed_out[v] == 1);
        REQUIRE(st.committed_audit[v] == 1);
        const int mode = v % 7;
        REQUIRE(st.attempts[v] == (mode == 0 || mode == 5 || v == 13 ? 1 : 2));
    }
    REQUIRE(st.committed_out.size() == inputs);
    REQUIRE(st.committed_audit.size() == inputs);
    // Published on "out" in all: 1 for modes 0, 1, 5 and value 13; 2 for modes 2, 3, 4, 6.
    REQUIRE(st.uncommitted_out == 21);
    REQUIRE(bus.lag("in", "proc") == std::vector<std::uint64_t>{0, 0});
    REQUIRE(bus.stats("in").dead_lettered == 0);
}

namespace {

// ----- stress: concurrent transactional producers, some sharing an id (fencing) -----

constexpr int producers = 4;
constexpr int txs_per_producer = 60;

struct stress_state {
    std::mutex m;
    std::set<int> expected;                           // values of committed transactions
    std::multiset<int> got;                           // values seen by read_committed
    std::map<std::size_t, std::uint64_t> next_offset; // per partition of "a", read_committed
    bool order_ok = true;
    std::size_t target = 0;
    bool target_set = false;
    eddy::async_event done;
    std::size_t dirty = 0; // read_uncommitted deliveries
    std::size_t published = 0;
};

task<void> stress_count(stress_state* st, std::string topic, std::size_t p, std::uint64_t o,
                        int v) {
    std::lock_guard lock(st->m);
    if (topic == "a") {
        // read_committed sees a partition in offset order (skipping aborted offsets).
        auto [it, fresh] = st->next_offset.try_emplace(p, 0);
        if (!fresh && o < it->second) {
            st->order_ok = false;
        }
        it->second = o + 1;
    }
    st->got.insert(v);
    if (st->target_set && st->got.size() == st->target) {
        st->done.set();
    }
    co_return;
}

struct stress_counter {
    stress_state* st;
    task<void> operator()(const record<int>& r) const {
        return stress_count(st, r.topic, r.partition, r.offset, r.value);
    }
};

task<void> stress_dirty(stress_state* st) {
    std::lock_guard lock(st->m);
    ++st->dirty;
    co_return;
}

struct stress_dirty_counter {
    stress_state* st;
    task<void> operator()(const record<int>&) const { return stress_dirty(st); }
};

using pool_bus = eddy::event_bus<eddy::thread_pool>;

task<void> stress_producer(pool_bus* bus, eddy::thread_pool* pool, stress_state* st, int id) {
    co_await pool->schedule();
    // Producers 0 and 1 share an id: they fence each other now and then.
    const std::string pid = id < 2 ? std::string("shared") : "p" + std::to_string(id);
    for (int i = 0; i < txs_per_producer; ++i) {
        const int base = (id * txs_per_producer + i) * 3;
        std::size_t appended = 0;
        bool ok = true;
        try {
            eddy::transaction tx = bus->begin_transaction(pid);
            co_await tx.publish("a", "k" + std::to_string(i % 5), base);
            ++appended;
            co_await tx.publish("a", "k" + std::to_string((i + 1) % 5), base + 1);
            ++appended;
            co_await tx.publish("b", "k" + std::to_string(i % 3), base + 2);
            ++appended;
            if (i % 3 == 0) {
                tx.abort();
                ok = false;
            } else {
                co_await tx.commit();
            }
        } catch (const eddy::producer_fenced&) {
            ok = false;
        }
        std::lock_guard lock(st->m);
        st->published += appended;
        if (ok) {
            st->expected.insert({base, base + 1, base + 2});
        }
    }
}

task<void> stress(pool_bus* bus, eddy::thread_pool* pool, stress_state* st) {
    subscription a1 = bus->subscribe<int>("a", "g", stress_counter{st});
    subscription a2 = bus->subscribe<int>("a", "g", stress_counter{st});
    subscription b1 = bus->subscribe<int>("b", "g", stress_counter{st});
    subscription d1 = bus->subscribe<int>("a", "d", stress_dirty_counter{st}, uncommitted());
    subscription d2 = bus->subscribe<int>("b", "d", stress_dirty_counter{st}, uncommitted());
    std::vector<task<void>> work;
    for (int id = 0; id < producers; ++id) {
        work.push_back(stress_producer(bus, pool, st, id));
    }
    co_await eddy::when_all(std::move(work));
    {
        std::lock_guard lock(st->m);
        st->target = st->expected.size();
        st->target_set = true;
        if (st->got.size() == st->target) {
            st->done.set();
        }
    }
    co_await st->done.wait();
    co_await a1.stop();
    co_await a2.stop();
    co_await b1.stop();
    co_await d1.stop();
    co_await d2.stop();
}

} // namespace

TEST_CASE("stress: concurrent transactions on a thread_pool, read_committed sees exactly the "
          "committed ones",
          "[bus][transaction][concurrency]") {
    eddy::thread_pool pool(2);
    pool_bus bus(pool);
    bus.create_topic<int>("a", {.partitions = 3});
    bus.create_topic<int>("b", {.partitions = 2});
    stress_state st;
    eddy::sync_wait(stress(&bus, &pool, &st));
    REQUIRE(st.order_ok);
    REQUIRE(st.got.size() == st.expected.size());
    REQUIRE(std::set<int>(st.got.begin(), st.got.end()) == st.expected);
    // Non-shared producers commit 2 of 3 transactions: 2 producers * 40 * 3 values at least.
    REQUIRE(st.expected.size() >= 240);
    // Nothing left in the log: every record is read or skipped.
    REQUIRE(bus.lag("a", "g") == std::vector<std::uint64_t>{0, 0, 0});
    REQUIRE(bus.lag("b", "g") == std::vector<std::uint64_t>{0, 0});
}
