// Tests of eddy::saga_coordinator: the exact transitions it logs, inspect, resume of unfinished
// and stuck sagas, errors for bad ids and definitions, and the crash test: the coordinator is
// abandoned at every write of the log (before and after the write), a new one resumes from the
// same log, and every saga ends completed or compensated with no effect applied twice and no
// compensation skipped. Plus many concurrent sagas on a thread_pool.
#include <eddy/saga/saga_coordinator.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/saga/memory_saga_log.hpp>
#include <eddy/saga/parallel.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/sequence.hpp>
#include <eddy/saga/step.hpp>

#include <support/abandonable.hpp>
#include <support/saga_services.hpp>

namespace {

using namespace std::chrono_literals;
using eddy::saga_transition_kind;
using eddy::test::saga::reply;
using eddy::test::saga::service_call;
using eddy::test::saga::world;
using strings = std::vector<std::string>;

struct order {
    int amount = 100;
    int steps_done = 0;
};
using order_step = eddy::step<order>;
using log_type = eddy::memory_saga_log<order>;

order_step charge(world& w) {
    return {"charge", service_call{&w, "charge"}, service_call{&w, "refund"}};
}
order_step reserve(world& w) {
    return {"reserve", service_call{&w, "reserve"}, service_call{&w, "release"}};
}
order_step ship(world& w) { return {"ship", service_call{&w, "ship"}, service_call{&w, "recall"}}; }

std::vector<saga_transition_kind> kinds(const eddy::saga_history<order>& h) {
    std::vector<saga_transition_kind> out;
    for (const auto& t : h.transitions) {
        out.push_back(t.kind);
    }
    return out;
}

std::size_t journal_count(const world& w, const std::string& service) {
    return static_cast<std::size_t>(
        std::count_if(w.journal.begin(), w.journal.end(),
                      [&](const std::string& e) { return e.substr(0, e.find('@')) == service; }));
}

// Wraps a memory log; at write number `halt_at` (0 = start) it stops for good, before or after
// writing, so the test can abandon the coordinator exactly there.
struct halting_log {
    using context_type = order;
    log_type* inner;
    std::size_t halt_at = std::numeric_limits<std::size_t>::max();
    bool write_first = false;
    std::size_t writes = 0;

    eddy::task<void> start(std::string id, std::string def, eddy::saga_transition<order> first) {
        const bool halt = writes++ == halt_at;
        if (halt && !write_first) {
            co_await eddy::test::never{};
        }
        co_await inner->start(std::move(id), std::move(def), std::move(first));
        if (halt) {
            co_await eddy::test::never{};
        }
    }
    eddy::task<void> record(std::string id, eddy::saga_transition<order> t) {
        const bool halt = writes++ == halt_at;
        if (halt && !write_first) {
            co_await eddy::test::never{};
        }
        co_await inner->record(std::move(id), std::move(t));
        if (halt) {
            co_await eddy::test::never{};
        }
    }
    eddy::task<std::optional<eddy::saga_history<order>>> load(std::string id) {
        return inner->load(std::move(id));
    }
    eddy::task<std::vector<std::string>> unfinished() { return inner->unfinished(); }
};
static_assert(eddy::saga_log<halting_log>);

eddy::task<void> run_one(eddy::saga_coordinator<halting_log, eddy::virtual_time_scheduler>* c,
                         eddy::saga<order> def, eddy::saga_outcome<order>* out) {
    *out = co_await c->run(def, "o1", order{});
}

} // namespace

TEST_CASE("the coordinator logs every transition, in order", "[saga][saga_coordinator]") {
    world w;
    w.scripts["reserve"] = {reply::fail, reply::ok};
    w.scripts["ship"] = {reply::business};
    log_type log;
    eddy::saga_coordinator coordinator(w.vt, log);
    const eddy::saga<order> s(
        "order",
        eddy::sequence(charge(w), reserve(w).retry({.initial_interval = 1s, .max_attempts = 2}),
                       ship(w)));
    const auto out = w.vt.run(coordinator.run(s, "o1", order{}));
    CHECK(out.status == eddy::saga_status::compensated);
    const auto h = w.vt.run(log.load("o1"));
    REQUIRE(h);
    CHECK(h->definition == "order");
    using k = saga_transition_kind;
    CHECK(kinds(*h) == std::vector<k>{k::saga_started,
                                      k::step_started,         // charge 1
                                      k::step_completed,       //
                                      k::step_started,         // reserve 1
                                      k::step_attempt_failed,  //
                                      k::step_started,         // reserve 2
                                      k::step_completed,       //
                                      k::step_started,         // ship 1
                                      k::step_failed,          //
                                      k::compensation_started, // reserve
                                      k::compensation_completed,
                                      k::compensation_started, // charge
                                      k::compensation_completed, k::saga_compensated});
    CHECK(h->transitions[5].step == "reserve");
    CHECK(h->transitions[5].attempt == 2);
    CHECK(h->transitions[8].error == "ship declined");
    CHECK(h->transitions[2].context.has_value());
    CHECK(w.vt.run(log.unfinished()).empty());
}

TEST_CASE("inspect shows status, current step, cause and history", "[saga][saga_coordinator]") {
    world w;
    w.scripts["ship"] = {reply::business};
    w.scripts["refund"] = {reply::fail};
    log_type log;
    eddy::saga_coordinator coordinator(w.vt, log);
    const eddy::saga<order> s(
        "order", eddy::sequence(charge(w).compensation_retry({.max_attempts = 1}), ship(w)));
    (void)w.vt.run(coordinator.run(s, "o1", order{.amount = 7}));
    const auto state = w.vt.run(coordinator.inspect("o1"));
    REQUIRE(state);
    CHECK(state->status == eddy::saga_status::compensation_failed);
    CHECK(state->failed_step == "charge");
    CHECK(state->cause == "refund unavailable");
    CHECK(state->current_step == "charge");
    CHECK(state->context.amount == 7);
    CHECK(state->history.transitions.back().kind == saga_transition_kind::saga_compensation_failed);
    CHECK_FALSE(w.vt.run(coordinator.inspect("nope")));
}

TEST_CASE("a stuck compensation is resumed by an operator", "[saga][saga_coordinator]") {
    world w;
    w.scripts["ship"] = {reply::business};
    w.scripts["refund"] = {reply::fail};
    log_type log;
    eddy::saga_coordinator coordinator(w.vt, log);
    const eddy::saga<order> s(
        "order", eddy::sequence(charge(w).compensation_retry({.max_attempts = 1}), ship(w)));
    CHECK(w.vt.run(coordinator.run(s, "o1", order{})).status ==
          eddy::saga_status::compensation_failed);
    CHECK(w.vt.run(coordinator.resume_pending()).empty()); // stuck ones wait for an operator
    CHECK(w.vt.run(log.unfinished()) == strings{"o1"});

    const auto out = w.vt.run(coordinator.resume("o1")); // the refund service is back
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(out.failed_step == "ship");
    CHECK(w.journal == strings{"charge@0s", "refund@0s"});
    CHECK(w.calls["refund"] == 2);
    const auto h = w.vt.run(log.load("o1"));
    CHECK(std::count_if(h->transitions.begin(), h->transitions.end(), [](const auto& t) {
              return t.kind == saga_transition_kind::saga_resumed;
          }) == 1);
    CHECK(w.vt.run(log.unfinished()).empty());
}

TEST_CASE("a parked saga is resumed forward", "[saga][saga_coordinator]") {
    world w;
    w.scripts["notify"] = {reply::fail};
    log_type log;
    eddy::saga_coordinator coordinator(w.vt, log);
    const eddy::saga<order> s("order",
                              eddy::sequence(charge(w), ship(w).pivot(),
                                             order_step("notify", service_call{&w, "notify"})));
    CHECK(w.vt.run(coordinator.run(s, "o1", order{})).status == eddy::saga_status::parked);
    const auto out = w.vt.run(coordinator.resume("o1"));
    CHECK(out.completed());
    CHECK(w.journal == strings{"charge@0s", "ship@0s", "notify@0s"});
    CHECK(w.calls["charge"] == 1);
}

TEST_CASE("a pivot given up unanswered is parked in the log too, and resumed forward",
          "[saga][saga_coordinator]") {
    world w;
    w.scripts["ship"] = {reply::lost_reply}; // shipped, but the reply is lost
    log_type log;
    eddy::saga_coordinator coordinator(w.vt, log);
    const eddy::saga<order> s("order", eddy::sequence(charge(w), ship(w).pivot()));
    CHECK(w.vt.run(coordinator.run(s, "o1", order{})).status == eddy::saga_status::parked);
    // The state read back from the log agrees: parked, not compensating.
    const auto state = w.vt.run(coordinator.inspect("o1"));
    REQUIRE(state.has_value());
    CHECK(state->status == eddy::saga_status::parked);
    const auto out = w.vt.run(coordinator.resume("o1"));
    CHECK(out.completed());
    CHECK(w.calls["ship"] == 2); // asked again under the same key
    CHECK(w.calls["refund"] == 0);
}

TEST_CASE("resuming a finished saga runs nothing and returns its outcome",
          "[saga][saga_coordinator]") {
    world w;
    log_type log;
    eddy::saga_coordinator coordinator(w.vt, log);
    const eddy::saga<order> s("order", eddy::sequence(charge(w), ship(w)));
    CHECK(w.vt.run(coordinator.run(s, "o1", order{})).completed());
    const auto out = w.vt.run(coordinator.resume("o1"));
    CHECK(out.completed());
    CHECK(w.calls["charge"] == 1);
    CHECK(w.calls["ship"] == 1);
}

TEST_CASE("bad ids and definitions are clear errors", "[saga][saga_coordinator]") {
    world w;
    log_type log;
    eddy::saga_coordinator coordinator(w.vt, log);
    const eddy::saga<order> s("order", eddy::sequence(charge(w)));
    CHECK(w.vt.run(coordinator.run(s, "o1", order{})).completed());
    CHECK_THROWS_WITH(w.vt.run(coordinator.run(s, "o1", order{})),
                      Catch::Contains("'o1' is already in the log"));
    CHECK_THROWS_WITH(w.vt.run(coordinator.resume("o2")), Catch::Contains("no saga with id 'o2'"));
    CHECK_THROWS_WITH(coordinator.add(eddy::saga<order>("order", eddy::sequence(ship(w)))),
                      Catch::Contains("another definition named 'order'"));
    coordinator.add(s); // the same definition again is harmless

    eddy::saga_coordinator fresh(w.vt, log); // after a restart, before adding definitions
    CHECK_THROWS_WITH(w.vt.run(fresh.resume("o1")),
                      Catch::Contains("needs the definition 'order', which was not added"));
}

TEST_CASE("one saga id runs once at a time per coordinator", "[saga][saga_coordinator]") {
    world w;
    w.latency = 1s;
    log_type log;
    eddy::saga_coordinator coordinator(w.vt, log);
    const eddy::saga<order> s("order", eddy::sequence(charge(w)));
    CHECK(w.vt.run(coordinator.run(s, "o1", order{})).completed());
    w.scripts["charge"] = {reply::hang};
    eddy::saga_coordinator<log_type, eddy::virtual_time_scheduler>* c = &coordinator;
    auto twice = eddy::when_all(c->resume("o1"), c->resume("o1"));
    CHECK_NOTHROW(w.vt.run(std::move(twice))); // a finished saga: both just read the log

    log_type log2;
    eddy::saga_coordinator c2(w.vt, log2);
    auto both = eddy::when_all(c2.run(s, "o9", order{}), c2.resume("o9"));
    CHECK_THROWS_WITH(w.vt.run(std::move(both)), Catch::Contains("already running"));
}

TEST_CASE("resume_pending continues every unfinished saga, oldest first",
          "[saga][saga_coordinator]") {
    world w;
    log_type log;
    const eddy::saga<order> s("order", eddy::sequence(charge(w), ship(w)));
    for (const char* id : {"a", "b"}) {
        // writes: 0 start, 1 charge started, 2 charge completed: halts before 2, so charge's
        // effect happened but is not logged
        halting_log halting{&log, 2, false};
        eddy::saga_coordinator<halting_log, eddy::virtual_time_scheduler> c(w.vt, halting);
        eddy::saga_outcome<order> out;
        auto driver = eddy::test::start_abandonable(
            [](eddy::saga_coordinator<halting_log, eddy::virtual_time_scheduler>* c,
               eddy::saga<order> def, std::string id,
               eddy::saga_outcome<order>* out) -> eddy::task<void> {
                *out = co_await c->run(def, id, order{});
            }(&c, s, id, &out));
        w.vt.run_until_idle();
        REQUIRE_FALSE(driver.done());
    }
    CHECK(w.vt.run(log.unfinished()) == strings{"a", "b"});
    eddy::saga_coordinator coordinator(w.vt, log);
    coordinator.add(s);
    const auto outs = w.vt.run(coordinator.resume_pending());
    REQUIRE(outs.size() == 2);
    CHECK(outs[0].saga_id == "a");
    CHECK(outs[1].saga_id == "b");
    CHECK(outs[0].completed());
    CHECK(outs[1].completed());
    CHECK(w.effects_per_key["a/charge"] == 2); // rerun with the same key: applied once
    CHECK(journal_count(w, "charge") == 2);    // once per saga
}

namespace {

struct scenario {
    const char* name;
    std::function<void(world&)> script;
    std::function<eddy::saga<order>(world&)> definition;
    eddy::saga_status expected;
    std::vector<std::pair<std::string, std::string>> undo; // effect -> its compensation
};

std::vector<scenario> scenarios() {
    // Effects and the compensation that undoes each.
    const std::vector<std::pair<std::string, std::string>> all_undone{
        {"charge", "refund"}, {"reserve", "release"}, {"book", "unbook"}};
    return {
        {"success with a retry",
         [](world& w) { w.scripts["reserve"] = {reply::fail}; },
         [](world& w) {
             return eddy::saga<order>(
                 "order",
                 eddy::sequence(charge(w),
                                reserve(w).retry({.initial_interval = 1s, .max_attempts = 3}),
                                ship(w)));
         },
         eddy::saga_status::completed,
         {}},
        {"compensated", [](world& w) { w.scripts["ship"] = std::deque<reply>(8, reply::business); },
         [](world& w) {
             return eddy::saga<order>("order", eddy::sequence(charge(w), reserve(w), ship(w)));
         },
         eddy::saga_status::compensated, all_undone},
        {"compensation retried",
         [](world& w) {
             w.scripts["ship"] = std::deque<reply>(8, reply::business);
             w.scripts["refund"] = {reply::fail};
         },
         [](world& w) {
             return eddy::saga<order>(
                 "order", eddy::sequence(charge(w).compensation_retry(
                                             {.initial_interval = 1s, .max_attempts = 3}),
                                         reserve(w), ship(w)));
         },
         eddy::saga_status::compensated, all_undone},
        {"parallel then compensated",
         [](world& w) {
             w.latency_of["reserve"] = 2s;
             w.scripts["ship"] = std::deque<reply>(8, reply::business);
         },
         [](world& w) {
             return eddy::saga<order>(
                 "order", eddy::sequence(charge(w),
                                         eddy::parallel(reserve(w),
                                                        order_step("book", service_call{&w, "book"},
                                                                   service_call{&w, "unbook"})),
                                         ship(w)));
         },
         eddy::saga_status::compensated, all_undone},
        {"parallel, one fails while the other runs",
         [](world& w) {
             w.latency_of["reserve"] = 2s;
             w.scripts["book"] = std::deque<reply>(8, reply::business);
         },
         [](world& w) {
             return eddy::saga<order>(
                 "order", eddy::sequence(charge(w),
                                         eddy::parallel(reserve(w),
                                                        order_step("book", service_call{&w, "book"},
                                                                   service_call{&w, "unbook"})),
                                         ship(w)));
         },
         eddy::saga_status::compensated, all_undone},
    };
}

} // namespace

TEST_CASE("a pivot given up unanswered, abandoned before the log says parked, resumes forward",
          "[saga][saga_coordinator]") {
    const auto define = [](world& w) {
        return eddy::saga<order>("order", eddy::sequence(charge(w), ship(w).pivot()));
    };
    // Where the log records the pivot's unknown outcome (a run without a crash).
    std::size_t unknown_at = 0;
    {
        world w;
        w.scripts["ship"] = {reply::lost_reply};
        log_type log;
        eddy::saga_coordinator coordinator(w.vt, log);
        CHECK(w.vt.run(coordinator.run(define(w), "o1", order{})).status ==
              eddy::saga_status::parked);
        const auto history = w.vt.run(log.load("o1"));
        REQUIRE(history);
        const auto k = kinds(*history);
        const auto it = std::find(k.begin(), k.end(), saga_transition_kind::step_outcome_unknown);
        REQUIRE(it != k.end());
        REQUIRE(it + 1 != k.end()); // saga_parked follows
        unknown_at = static_cast<std::size_t>(it - k.begin());
    }
    world w;
    w.scripts["ship"] = {reply::lost_reply}; // shipped, but the reply is lost
    log_type log;
    const auto def = define(w);
    {
        halting_log halting{&log, unknown_at, true};
        eddy::saga_coordinator<halting_log, eddy::virtual_time_scheduler> c(w.vt, halting);
        eddy::saga_outcome<order> out;
        auto driver = eddy::test::start_abandonable(run_one(&c, def, &out));
        w.vt.advance(1h);
        REQUIRE_FALSE(driver.done());
    } // gone right after the unknown outcome was written
    eddy::saga_coordinator restarted(w.vt, log);
    restarted.add(def);
    const auto state = w.vt.run(restarted.inspect("o1"));
    REQUIRE(state);
    CHECK(state->status == eddy::saga_status::parked); // the shipment may stand: no refund
    const auto out = w.vt.run(restarted.resume("o1"));
    CHECK(out.completed());
    CHECK(w.calls["refund"] == 0);
}

TEST_CASE("abandoned at any write, a saga resumes to a consistent end",
          "[saga][saga_coordinator]") {
    for (const auto& sc : scenarios()) {
        // A run without a crash counts the writes.
        std::size_t total = 0;
        {
            world w;
            sc.script(w);
            log_type log;
            halting_log counting{&log};
            eddy::saga_coordinator<halting_log, eddy::virtual_time_scheduler> c(w.vt, counting);
            CHECK(w.vt.run(c.run(sc.definition(w), "o1", order{})).status == sc.expected);
            total = counting.writes;
        }
        REQUIRE(total >= 5);
        for (std::size_t halt_at = 0; halt_at < total; ++halt_at) {
            for (const bool write_first : {false, true}) {
                CAPTURE(sc.name, halt_at, write_first);
                world w;
                sc.script(w);
                log_type log;
                const auto def = sc.definition(w);
                {
                    halting_log halting{&log, halt_at, write_first};
                    eddy::saga_coordinator<halting_log, eddy::virtual_time_scheduler> c(w.vt,
                                                                                        halting);
                    eddy::saga_outcome<order> out;
                    auto driver = eddy::test::start_abandonable(run_one(&c, def, &out));
                    w.vt.advance(1h);
                    REQUIRE_FALSE(driver.done());
                } // the coordinator and its run are gone mid-operation

                eddy::saga_coordinator restarted(w.vt, log);
                restarted.add(def);
                const auto outs = w.vt.run(restarted.resume_pending());
                if (halt_at == 0 && !write_first) {
                    CHECK(outs.empty()); // it never started: nothing to resume
                    CHECK(w.journal.empty());
                    continue;
                }
                const bool ended = halt_at == total - 1 && write_first; // final entry written
                REQUIRE(outs.size() == (ended ? 0U : 1U));
                if (!ended) {
                    CHECK(outs[0].status == sc.expected);
                }
                const auto state = w.vt.run(restarted.inspect("o1"));
                REQUIRE(state);
                CHECK(state->status == sc.expected);
                for (const auto& [service, count] : w.calls) {
                    CHECK(journal_count(w, service) <= 1); // no effect applied twice
                }
                if (sc.expected == eddy::saga_status::completed) {
                    CHECK(journal_count(w, "charge") == 1);
                    CHECK(journal_count(w, "reserve") == 1);
                    CHECK(journal_count(w, "ship") == 1);
                }
                for (const auto& [effect, undo] : sc.undo) {
                    // none skipped; a step caught mid-action may be undone without having
                    // happened (compensations must accept that)
                    CHECK(journal_count(w, undo) >= journal_count(w, effect));
                }
                CHECK(w.vt.run(log.unfinished()).empty());
            }
        }
    }
}

namespace {

struct pool_order {
    eddy::thread_pool* pool = nullptr;
    std::atomic<int>* charged = nullptr;
    std::atomic<int>* refunded = nullptr;
    std::atomic<int>* shipped = nullptr;
    bool decline = false;
};

eddy::task<void> pool_charge(pool_order& o, const eddy::step_context&) {
    co_await o.pool->schedule();
    o.charged->fetch_add(1);
}
eddy::task<void> pool_refund(pool_order& o, const eddy::step_context&) {
    co_await o.pool->schedule();
    o.refunded->fetch_add(1);
}
eddy::task<void> pool_ship(pool_order& o, const eddy::step_context&) {
    co_await o.pool->schedule();
    if (o.decline) {
        throw eddy::business_failure("declined");
    }
    o.shipped->fetch_add(1);
}

eddy::task<eddy::saga_outcome<pool_order>>
run_on_pool(eddy::saga_coordinator<eddy::memory_saga_log<pool_order>, eddy::thread_pool>* c,
            eddy::saga<pool_order> def, std::string id, pool_order o) {
    co_await o.pool->schedule();
    co_return co_await c->run(def, id, o);
}

} // namespace

TEST_CASE("many sagas run concurrently on a thread pool", "[saga][saga_coordinator][concurrency]") {
    eddy::thread_pool pool(2);
    std::atomic<int> charged{0};
    std::atomic<int> refunded{0};
    std::atomic<int> shipped{0};
    eddy::memory_saga_log<pool_order> log;
    eddy::saga_coordinator coordinator(pool, log);
    const eddy::saga<pool_order> s("order",
                                   eddy::sequence(eddy::step("charge", pool_charge, pool_refund),
                                                  eddy::step("ship", pool_ship)));
    std::vector<eddy::task<eddy::saga_outcome<pool_order>>> runs;
    constexpr int n = 200;
    for (int i = 0; i < n; ++i) {
        runs.push_back(run_on_pool(&coordinator, s, "o" + std::to_string(i),
                                   pool_order{&pool, &charged, &refunded, &shipped, i % 4 == 0}));
    }
    const auto outs = eddy::sync_wait(eddy::when_all(std::move(runs)));
    int completed = 0;
    int compensated = 0;
    for (const auto& o : outs) {
        completed += o.status == eddy::saga_status::completed ? 1 : 0;
        compensated += o.status == eddy::saga_status::compensated ? 1 : 0;
    }
    CHECK(completed == 150);
    CHECK(compensated == 50);
    CHECK(charged == n);
    CHECK(refunded == 50);
    CHECK(shipped == 150);
    CHECK(eddy::sync_wait(log.unfinished()).empty());
}
