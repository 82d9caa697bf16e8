// Tests of eddy::sqlite_saga_log: the saga_log concept; start/record/load/unfinished with every
// field and the context through the JSON codec; errors for a duplicate or unknown id; histories
// surviving a reopen; two named logs in one file; a full saga through eddy::saga_coordinator on
// a thread_pool. (The SIGKILL crash test is sqlite_saga_crash_test.cpp.)
#include <eddy/sqlite/sqlite_saga_log.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/saga/memory_saga_log.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/saga_coordinator.hpp>
#include <eddy/saga/sequence.hpp>
#include <eddy/saga/step.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>

#include <sqlite/temp_dir.hpp>

namespace {

struct order {
    int amount = 0;
    std::string customer;
    friend bool operator==(const order&, const order&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order, amount, customer)

using log_type = eddy::sqlite_saga_log<order>;
using kind = eddy::saga_transition_kind;
using eddy::test::sqlite::temp_dir;

eddy::saga_transition<order> entry(kind k, std::string step = {}, std::size_t attempt = 0,
                                   std::optional<order> ctx = std::nullopt,
                                   std::string error = {}) {
    eddy::saga_transition<order> t;
    t.kind = k;
    t.step = std::move(step);
    t.attempt = attempt;
    t.at =
        std::chrono::system_clock::time_point(std::chrono::nanoseconds(1'700'000'000'123'456'789));
    t.context = std::move(ctx);
    t.error = std::move(error);
    return t;
}

eddy::task<void> bump(order& o, const eddy::step_context&) {
    ++o.amount;
    co_return;
}

} // namespace

TEST_CASE("sqlite_saga_log models eddy::saga_log", "[sqlite][sqlite_saga_log]") {
    STATIC_REQUIRE(eddy::saga_log<log_type>);
    STATIC_REQUIRE(eddy::detail::check_saga_log<log_type>());
    STATIC_REQUIRE_FALSE(eddy::saga_log<eddy::sqlite_storage>);
}

TEST_CASE("sqlite_saga_log: start, record, load and unfinished, across a reopen",
          "[sqlite][sqlite_saga_log]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    const std::string path = dir.file("sagas.db");
    {
        log_type log(eddy::sqlite_storage(path, s));
        REQUIRE_FALSE(eddy::sync_wait(log.load("o1")));
        eddy::sync_wait(
            log.start("o1", "order", entry(kind::saga_started, {}, 0, order{5, "ann"})));
        eddy::sync_wait(
            log.start("o2", "order", entry(kind::saga_started, {}, 0, order{7, "bob"})));
        eddy::sync_wait(log.record("o1", entry(kind::step_started, "charge", 1)));
        eddy::sync_wait(log.record(
            "o1", entry(kind::step_attempt_failed, "charge", 1, std::nullopt, "card declined")));
        eddy::sync_wait(
            log.record("o1", entry(kind::step_completed, "charge", 2, order{6, "ann"})));
        eddy::sync_wait(log.record("o2", entry(kind::saga_completed)));
        REQUIRE(eddy::sync_wait(log.unfinished()) == std::vector<std::string>{"o1"});

        REQUIRE_THROWS_WITH(
            eddy::sync_wait(log.start("o1", "order", entry(kind::saga_started, {}, 0, order{}))),
            Catch::Contains("'o1'") && Catch::Contains("already"));
        REQUIRE_THROWS_WITH(eddy::sync_wait(log.record("nope", entry(kind::step_started, "x", 1))),
                            Catch::Contains("'nope'"));
    }
    log_type log(eddy::sqlite_storage(path, s));
    auto h = eddy::sync_wait(log.load("o1"));
    REQUIRE(h);
    REQUIRE(h->id == "o1");
    REQUIRE(h->definition == "order");
    REQUIRE(h->transitions.size() == 4);
    REQUIRE(h->transitions[0].kind == kind::saga_started);
    REQUIRE(h->transitions[0].context == order{5, "ann"});
    REQUIRE(h->transitions[0].at == entry(kind::saga_started).at);
    REQUIRE(h->transitions[1].kind == kind::step_started);
    REQUIRE(h->transitions[1].step == "charge");
    REQUIRE_FALSE(h->transitions[1].context);
    REQUIRE(h->transitions[2].kind == kind::step_attempt_failed);
    REQUIRE(h->transitions[2].error == "card declined");
    REQUIRE(h->transitions[3].attempt == 2);
    REQUIRE(h->transitions[3].context == order{6, "ann"});
    REQUIRE(eddy::sync_wait(log.unfinished()) == std::vector<std::string>{"o1"});
    eddy::sync_wait(log.record("o1", entry(kind::saga_compensated)));
    REQUIRE(eddy::sync_wait(log.unfinished()).empty());
}

TEST_CASE("sqlite_saga_log: logs of different names in one file are apart",
          "[sqlite][sqlite_saga_log]") {
    eddy::inline_scheduler s;
    temp_dir dir;
    eddy::sqlite_storage db(dir.file("sagas.db"), s);
    log_type a(db, "a");
    log_type b(db, "b");
    eddy::sync_wait(a.start("x", "order", entry(kind::saga_started, {}, 0, order{1, "a"})));
    eddy::sync_wait(b.start("x", "order", entry(kind::saga_started, {}, 0, order{2, "b"})));
    REQUIRE(eddy::sync_wait(a.load("x"))->transitions[0].context == order{1, "a"});
    REQUIRE(eddy::sync_wait(b.load("x"))->transitions[0].context == order{2, "b"});
    REQUIRE(eddy::sync_wait(a.unfinished()) == std::vector<std::string>{"x"});
}

TEST_CASE("sqlite_saga_log: a saga_coordinator runs sagas on it from a thread_pool",
          "[sqlite][sqlite_saga_log][concurrency]") {
    eddy::thread_pool pool(2);
    temp_dir dir;
    log_type log(eddy::sqlite_storage(dir.file("sagas.db"), pool));
    eddy::saga_coordinator coordinator(pool, log);
    const eddy::saga<order> def(
        "order", eddy::sequence(eddy::step<order>("one", bump), eddy::step<order>("two", bump)));
    for (int i = 0; i < 10; ++i) {
        auto out = eddy::sync_wait(coordinator.run(def, "o" + std::to_string(i), order{i, "c"}));
        REQUIRE(out.completed());
        REQUIRE(out.context.amount == i + 2);
    }
    REQUIRE(eddy::sync_wait(log.unfinished()).empty());
    auto h = eddy::sync_wait(log.load("o3"));
    REQUIRE(h);
    REQUIRE(h->transitions.back().kind == kind::saga_completed);
    REQUIRE(h->transitions.size() == 6); // started, 2 x (step started, completed), completed
}
