// Tests of eddy::memory_saga_log: start, record, load, unfinished (order, final kinds), errors
// for a duplicate or unknown id, and concurrent writers on a thread pool.
#include <eddy/saga/memory_saga_log.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/saga/saga_log.hpp>

namespace {

struct ctx {
    int n = 0;
};
using kind = eddy::saga_transition_kind;
using transition = eddy::saga_transition<ctx>;

transition started(int n) { return transition{kind::saga_started, {}, 0, {}, ctx{n}, {}}; }
transition of(kind k, std::string step = {}) {
    return transition{k, std::move(step), 1, {}, {}, {}};
}

} // namespace

static_assert(eddy::saga_log<eddy::memory_saga_log<ctx>>);

TEST_CASE("histories keep their entries in order", "[saga][memory_saga_log]") {
    eddy::memory_saga_log<ctx> log;
    eddy::sync_wait(log.start("a", "order", started(1)));
    eddy::sync_wait(log.record("a", of(kind::step_started, "charge")));
    eddy::sync_wait(log.record("a", of(kind::step_completed, "charge")));
    const auto h = eddy::sync_wait(log.load("a"));
    REQUIRE(h);
    CHECK(h->id == "a");
    CHECK(h->definition == "order");
    REQUIRE(h->transitions.size() == 3);
    CHECK(h->transitions[0].context->n == 1);
    CHECK(h->transitions[1].kind == kind::step_started);
    CHECK(h->transitions[2].step == "charge");
    CHECK_FALSE(eddy::sync_wait(log.load("b")));
}

TEST_CASE("unfinished lists sagas without a final entry, oldest first", "[saga][memory_saga_log]") {
    eddy::memory_saga_log<ctx> log;
    for (const char* id : {"c", "a", "b", "d"}) {
        eddy::sync_wait(log.start(id, "order", started(0)));
    }
    eddy::sync_wait(log.record("a", of(kind::saga_completed)));
    eddy::sync_wait(log.record("b", of(kind::saga_compensation_failed))); // stuck, unfinished
    eddy::sync_wait(log.record("d", of(kind::saga_compensated)));
    CHECK(eddy::sync_wait(log.unfinished()) == std::vector<std::string>{"c", "b"});
    CHECK(eddy::is_final(kind::saga_completed));
    CHECK(eddy::is_final(kind::saga_compensated));
    CHECK_FALSE(eddy::is_final(kind::saga_parked));
    CHECK_FALSE(eddy::is_final(kind::saga_compensation_failed));
}

TEST_CASE("a duplicate or unknown id is an eddy::error", "[saga][memory_saga_log]") {
    eddy::memory_saga_log<ctx> log;
    eddy::sync_wait(log.start("a", "order", started(0)));
    CHECK_THROWS_WITH(eddy::sync_wait(log.start("a", "order", started(0))),
                      Catch::Contains("'a' is already in the log"));
    CHECK_THROWS_WITH(eddy::sync_wait(log.record("zz", of(kind::saga_completed))),
                      Catch::Contains("no saga with id 'zz'"));
    CHECK(eddy::sync_wait(log.load("a"))->transitions.size() == 1);
}

namespace {
eddy::task<void> writer(eddy::thread_pool* pool, eddy::memory_saga_log<ctx>* log, int id) {
    co_await pool->schedule();
    const std::string name = "s" + std::to_string(id);
    co_await log->start(name, "order", started(id));
    for (int i = 0; i < 50; ++i) {
        co_await log->record(name, of(kind::step_started, "x"));
    }
    co_await log->record(name, of(kind::saga_completed));
}
} // namespace

TEST_CASE("concurrent writers each keep a whole history", "[saga][memory_saga_log][concurrency]") {
    eddy::thread_pool pool(2);
    eddy::memory_saga_log<ctx> log;
    std::vector<eddy::task<void>> writers;
    for (int i = 0; i < 40; ++i) {
        writers.push_back(writer(&pool, &log, i));
    }
    eddy::sync_wait(eddy::when_all(std::move(writers)));
    CHECK(eddy::sync_wait(log.unfinished()).empty());
    for (int i = 0; i < 40; ++i) {
        const auto h = eddy::sync_wait(log.load("s" + std::to_string(i)));
        REQUIRE(h);
        CHECK(h->transitions.size() == 52);
        CHECK(h->transitions.front().context->n == i);
    }
}
