// Tests of eddy::run_saga, the in-memory run of a saga definition: forward order, compensation
// in reverse order of completion, how each kind of failure is treated (business failure,
// retryable with exact backoff times, non-retryable, timeout and lost reply = unknown outcome),
// optional steps, branches, parallel groups, the pivot, failing compensations, semantic
// compensation, observer hooks and cancellation. Everything runs in virtual time.
#include <eddy/saga/run_saga.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include <eddy/core/stop_token.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/saga/branch.hpp>
#include <eddy/saga/parallel.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/sequence.hpp>
#include <eddy/saga/step.hpp>

#include <support/saga_services.hpp>
#include <support/virtual_time_tasks.hpp>

namespace {

using namespace std::chrono_literals;
using eddy::test::saga::reply;
using eddy::test::saga::service_call;
using eddy::test::saga::world;
using strings = std::vector<std::string>;

struct order {
    int amount = 100;
    int refunded = 0;
    int credited = 0;
    bool express = false;
    strings keys; // idempotency keys the recording steps saw
};

using order_step = eddy::step<order>;

order_step charge(world& w) {
    return {"charge", service_call{&w, "charge"}, service_call{&w, "refund"}};
}
order_step reserve(world& w) {
    return {"reserve", service_call{&w, "reserve"}, service_call{&w, "release"}};
}
order_step ship(world& w) { return {"ship", service_call{&w, "ship"}, service_call{&w, "recall"}}; }

eddy::saga_outcome<order> run(world& w, const eddy::saga<order>& s, order o = {}) {
    return w.vt.run(eddy::run_saga(s, "o1", std::move(o), w.vt));
}

std::string what(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    }
}

template <class E>
bool is(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

const eddy::retry_policy four_doubling{.initial_interval = 1s, .max_attempts = 4};

} // namespace

TEST_CASE("steps run in order and the saga completes", "[saga][run_saga]") {
    world w;
    w.latency = 1s;
    const eddy::saga<order> s("order", eddy::sequence(charge(w), reserve(w), ship(w)));
    const auto out = run(w, s);
    CHECK(out.completed());
    CHECK(out.saga_id == "o1");
    CHECK(out.failed_step.empty());
    CHECK_FALSE(out.cause);
    CHECK(w.journal == strings{"charge@1s", "reserve@2s", "ship@3s"});
}

TEST_CASE("a business failure compensates the completed steps in reverse, without retrying",
          "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::business};
    const eddy::saga<order> s("order",
                              eddy::sequence(charge(w), reserve(w), ship(w).retry(four_doubling)));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(out.failed_step == "ship");
    CHECK(is<eddy::business_failure>(out.cause));
    CHECK(what(out.cause) == "ship declined");
    CHECK(w.calls["ship"] == 1);
    CHECK(w.journal == strings{"charge@0s", "reserve@0s", "release@0s", "refund@0s"});
}

TEST_CASE("a retryable failure is retried on the policy's exact schedule", "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::fail, reply::fail, reply::fail, reply::ok};
    const eddy::saga<order> s("order", eddy::sequence(charge(w), ship(w).retry(four_doubling)));
    const auto out = run(w, s);
    CHECK(out.completed());
    CHECK(w.calls["ship"] == 4);
    CHECK(w.journal == strings{"charge@0s", "ship@7s"}); // waits of 1s, 2s, 4s
}

TEST_CASE("given-up retries compensate; the cause is the last error", "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::fail, reply::fail, reply::fail, reply::fail, reply::ok};
    const eddy::saga<order> s("order",
                              eddy::sequence(charge(w), reserve(w), ship(w).retry(four_doubling)));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(w.calls["ship"] == 4);
    CHECK(what(out.cause) == "ship unavailable");
    CHECK(w.journal == strings{"charge@0s", "reserve@0s", "release@7s", "refund@7s"});
}

TEST_CASE("an error the policy marks non-retryable is not retried", "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::fail, reply::ok};
    auto policy = four_doubling;
    policy.non_retryable = eddy::retry_policy::error_types<std::runtime_error>();
    const eddy::saga<order> s("order", eddy::sequence(charge(w), ship(w).retry(policy)));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(w.calls["ship"] == 1);
    CHECK(w.journal == strings{"charge@0s", "refund@0s"});
}

TEST_CASE("a step's timeout is an unknown outcome: retried, then compensated too",
          "[saga][run_saga]") {
    world w;
    w.scripts["reserve"] = {reply::hang, reply::hang};
    const eddy::saga<order> s(
        "order", eddy::sequence(charge(w), reserve(w)
                                               .timeout(2s)
                                               .retry({.initial_interval = 1s, .max_attempts = 2})
                                               .compensation_retry({.max_attempts = 1})));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(out.failed_step == "reserve");
    CHECK(is<eddy::timeout_error>(out.cause));
    CHECK(w.calls["reserve"] == 2);
    // timeout at 2s, wait 1s, second timeout at 5s; then release (it may have reserved)
    CHECK(w.journal == strings{"charge@0s", "release@5s", "refund@5s"});
}

TEST_CASE("a lost reply is retried with the same key, so the effect happens once",
          "[saga][run_saga]") {
    world w;
    w.scripts["reserve"] = {reply::lost_reply, reply::ok};
    const eddy::saga<order> s(
        "order",
        eddy::sequence(charge(w), reserve(w).retry({.initial_interval = 1s, .max_attempts = 2}),
                       ship(w)));
    const auto out = run(w, s);
    CHECK(out.completed());
    CHECK(w.calls["reserve"] == 2);
    CHECK(w.effects_per_key["o1/reserve"] == 2); // both calls carried the same key
    CHECK(w.journal == strings{"charge@0s", "reserve@0s", "ship@1s"});
}

TEST_CASE("a lost reply given up compensates the step itself", "[saga][run_saga]") {
    world w;
    w.scripts["reserve"] = {reply::lost_reply};
    const eddy::saga<order> s("order", eddy::sequence(charge(w), reserve(w), ship(w)));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(is<eddy::unknown_outcome>(out.cause));
    CHECK(w.calls["ship"] == 0);
    CHECK(w.journal == strings{"charge@0s", "reserve@0s", "release@0s", "refund@0s"});
}

TEST_CASE("keys and attempts reach the actions and compensations", "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::fail, reply::fail};
    struct recorder {
        world* w;
        std::string service;
        eddy::task<void> operator()(order& o, const eddy::step_context& c) const {
            o.keys.push_back(std::string(c.idempotency_key) + "#" + std::to_string(c.attempt) +
                             (c.compensating ? "c" : ""));
            return eddy::test::saga::call_service(w, service, std::string(c.idempotency_key));
        }
    };
    const eddy::saga<order> s(
        "order",
        eddy::sequence(order_step("charge", recorder{&w, "charge"}, recorder{&w, "refund"}),
                       order_step("ship", recorder{&w, "ship"})
                           .retry({.initial_interval = 1s, .max_attempts = 2})));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(out.context.keys ==
          strings{"o1/charge#1", "o1/ship#1", "o1/ship#2", "o1/charge/compensation#1c"});
}

TEST_CASE("an optional step's failure does not fail the saga", "[saga][run_saga]") {
    world w;
    w.scripts["notify"] = {reply::business};
    const eddy::saga<order> s(
        "order",
        eddy::sequence(charge(w), order_step("notify", service_call{&w, "notify"}).optional(),
                       ship(w)));
    const auto out = run(w, s);
    CHECK(out.completed());
    CHECK(w.journal == strings{"charge@0s", "ship@0s"});
}

TEST_CASE("a branch follows the context", "[saga][run_saga]") {
    for (const bool express : {true, false}) {
        world w;
        const eddy::saga<order> s(
            "order", eddy::sequence(charge(w),
                                    eddy::branch([](const order& o) { return o.express; },
                                                 order_step("courier", service_call{&w, "courier"}),
                                                 order_step("post", service_call{&w, "post"}))));
        order o;
        o.express = express;
        const auto out = run(w, s, o);
        CHECK(out.completed());
        CHECK(w.journal == strings{"charge@0s", express ? "courier@0s" : "post@0s"});
    }
}

TEST_CASE("a branch without an else runs nothing when false", "[saga][run_saga]") {
    world w;
    const eddy::saga<order> s(
        "order", eddy::sequence(eddy::branch([](const order& o) { return o.express; },
                                             order_step("courier", service_call{&w, "courier"})),
                                ship(w)));
    CHECK(run(w, s).completed());
    CHECK(w.journal == strings{"ship@0s"});
}

TEST_CASE("parallel steps run concurrently and are compensated in reverse order of completion",
          "[saga][run_saga]") {
    world w;
    w.latency_of["reserve"] = 3s;
    w.latency_of["book"] = 1s;
    w.scripts["ship"] = {reply::business};
    const eddy::saga<order> s(
        "order",
        eddy::sequence(charge(w),
                       eddy::parallel(reserve(w), order_step("book", service_call{&w, "book"},
                                                             service_call{&w, "unbook"})),
                       ship(w)));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(w.journal ==
          strings{"charge@0s", "book@1s", "reserve@3s", "release@3s", "unbook@3s", "refund@3s"});
}

TEST_CASE("when one parallel step fails the others finish and are compensated",
          "[saga][run_saga]") {
    world w;
    w.latency_of["reserve"] = 3s;
    w.scripts["book"] = {reply::business};
    const eddy::saga<order> s(
        "order",
        eddy::sequence(charge(w),
                       eddy::parallel(reserve(w), order_step("book", service_call{&w, "book"},
                                                             service_call{&w, "unbook"})),
                       ship(w)));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(out.failed_step == "book");
    CHECK(w.calls["ship"] == 0);
    CHECK(w.journal == strings{"charge@0s", "reserve@3s", "release@3s", "refund@3s"});
}

TEST_CASE("after the pivot a failure retries forward and parks instead of compensating",
          "[saga][run_saga]") {
    world w;
    w.scripts["notify"] = {reply::fail, reply::fail, reply::fail};
    const eddy::saga<order> s(
        "order", eddy::sequence(charge(w), ship(w).pivot(),
                                order_step("notify", service_call{&w, "notify"})
                                    .retry({.initial_interval = 1s, .max_attempts = 3})));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::parked);
    CHECK(out.failed_step == "notify");
    CHECK(w.calls["notify"] == 3);
    CHECK(w.journal == strings{"charge@0s", "ship@0s"}); // nothing compensated
}

TEST_CASE("before the pivot a failure still compensates", "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::business};
    const eddy::saga<order> s("order", eddy::sequence(charge(w), ship(w).pivot()));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(w.journal == strings{"charge@0s", "refund@0s"});
}

TEST_CASE("a pivot given up with an unknown outcome parks: it may have taken effect",
          "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::hang, reply::lost_reply};
    const eddy::saga<order> s(
        "order", eddy::sequence(charge(w), ship(w).pivot().timeout(2s).retry(
                                               {.initial_interval = 1s, .max_attempts = 2})));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::parked);
    CHECK(out.failed_step == "ship");
    CHECK(w.calls["ship"] == 2);
    CHECK(w.journal == strings{"charge@0s", "ship@3s"}); // the shipment stands, the charge too
}

TEST_CASE("a compensation is retried by its own policy, then the saga is stuck",
          "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::business};
    w.scripts["release"] = {reply::fail, reply::fail, reply::fail};
    const eddy::saga<order> s(
        "order",
        eddy::sequence(charge(w),
                       reserve(w).compensation_retry({.initial_interval = 2s, .max_attempts = 3}),
                       ship(w)));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::compensation_failed);
    CHECK(out.failed_step == "reserve");
    CHECK(out.failed_forward_step == "ship");
    CHECK(what(out.cause) == "release unavailable");
    CHECK(w.calls["release"] == 3);
    CHECK(w.calls["refund"] == 0); // compensation stops at the stuck step: reverse order holds
    CHECK(w.journal == strings{"charge@0s", "reserve@0s"});
    CHECK(w.vt.now() == eddy::test::virtual_time::epoch + 6s); // waits of 2s and 4s
}

TEST_CASE("a compensation retried until it succeeds completes the compensation",
          "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::business};
    w.scripts["refund"] = {reply::fail, reply::fail};
    const eddy::saga<order> s(
        "order",
        eddy::sequence(charge(w).compensation_retry({.initial_interval = 1s, .max_attempts = 5}),
                       ship(w)));
    const auto out = run(w, s);
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(w.journal == strings{"charge@0s", "refund@3s"});
}

namespace {
// Semantic compensation: the goods were partly consumed, so undoing the charge is a partial
// refund plus store credit for the rest.
eddy::task<void> pay(order& o, const eddy::step_context&) {
    o.refunded = 0;
    co_return;
}
eddy::task<void> refund_and_credit(order& o, const eddy::step_context&) {
    o.refunded = o.amount * 8 / 10;
    o.credited = o.amount - o.refunded;
    co_return;
}
eddy::task<void> out_of_stock(order&, const eddy::step_context&) {
    throw eddy::business_failure("out of stock");
    co_return;
}
} // namespace

TEST_CASE("a semantic compensation is just a compensation action", "[saga][run_saga]") {
    eddy::virtual_time_scheduler vt;
    const eddy::saga<order> s("order", eddy::sequence(eddy::step("pay", pay, refund_and_credit),
                                                      eddy::step("reserve", out_of_stock)));
    const auto out = vt.run(eddy::run_saga(s, "o1", order{}, vt));
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(out.context.refunded == 80);
    CHECK(out.context.credited == 20);
}

TEST_CASE("observer hooks see every step and the end; their exceptions are swallowed",
          "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::fail, reply::business};
    w.scripts["release"] = {reply::fail};
    strings seen;
    eddy::saga_observer obs{
        .on_step_started =
            [&](const eddy::saga_step_event& e) {
                seen.push_back("start " + std::string(e.step) + "#" + std::to_string(e.attempt));
                throw std::runtime_error("observer bug");
            },
        .on_step_completed =
            [&](const eddy::saga_step_event& e) { seen.push_back("done " + std::string(e.step)); },
        .on_step_failed =
            [&](const eddy::saga_step_event& e) {
                seen.push_back("fail " + std::string(e.step) + "#" + std::to_string(e.attempt));
            },
        .on_step_compensated =
            [&](const eddy::saga_step_event& e) {
                seen.push_back("undone " + std::string(e.step));
            },
        .on_end =
            [&](const eddy::saga_end_event& e) {
                seen.push_back("end " + std::string(eddy::to_string(e.status)) + " " +
                               std::string(e.failed_step));
            },
        .on_stuck = [&](const eddy::saga_end_event&) { seen.push_back("stuck"); }};
    const eddy::saga<order> s(
        "order", eddy::sequence(charge(w), reserve(w).compensation_retry({.initial_interval = 1s}),
                                ship(w).retry({.initial_interval = 1s, .max_attempts = 3})));
    const auto out = w.vt.run(eddy::run_saga(s, "o1", order{}, w.vt, obs));
    CHECK(out.status == eddy::saga_status::compensated);
    CHECK(seen == strings{"start charge#1", "done charge", "start reserve#1", "done reserve",
                          "start ship#1", "fail ship#1", "start ship#2", "fail ship#2",
                          "fail reserve#1", "undone reserve", "undone charge",
                          "end compensated ship"});
}

TEST_CASE("on_stuck alerts when a saga is stuck", "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::business};
    w.scripts["refund"] = {reply::fail};
    int stuck = 0;
    const eddy::saga<order> s(
        "order", eddy::sequence(charge(w).compensation_retry({.max_attempts = 1}), ship(w)));
    const auto out = w.vt.run(eddy::run_saga(
        s, "o1", order{}, w.vt, eddy::saga_observer{.on_stuck = [&](const eddy::saga_end_event& e) {
            CHECK(e.status == eddy::saga_status::compensation_failed);
            CHECK(e.failed_step == "charge");
            ++stuck;
        }}));
    CHECK(out.status == eddy::saga_status::compensation_failed);
    CHECK(stuck == 1);
}

TEST_CASE("a stopped run ends with operation_cancelled and compensates nothing",
          "[saga][run_saga]") {
    world w;
    w.scripts["ship"] = {reply::hang};
    const eddy::saga<order> s("order", eddy::sequence(charge(w), ship(w)));
    std::stop_source stop;
    auto both = eddy::when_all(
        eddy::with_stop_token(eddy::run_saga(s, "o1", order{}, w.vt), stop.get_token()),
        eddy::test::virtual_time::request_stop_after(w.vt, 5s, stop));
    CHECK_THROWS_AS(w.vt.run(std::move(both)), eddy::operation_cancelled);
    CHECK(w.journal == strings{"charge@0s"});
}
