// Tests of eddy::projector: an order-summary-by-customer read model
// built by catch_up (exact states and checkpoints), restart from the checkpoint, replay from
// position 1, live run over subscribe_all until stopped, a failing handler (not checkpointed,
// handled again after restart), task-returning handlers.
#include <eddy/es/projector.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/memory_checkpoint_store.hpp>
#include <eddy/es/memory_event_store.hpp>

#include <support/detached.hpp>

namespace {

struct order_placed {
    static constexpr std::string_view event_name = "order_placed";
    std::string customer;
    long amount = 0;
};
struct order_cancelled {
    static constexpr std::string_view event_name = "order_cancelled";
    std::string customer;
    long amount = 0;
};
using order_events = std::variant<order_placed, order_cancelled>;
using store_type = eddy::memory_event_store<order_events>;
using envelope = eddy::event_envelope<order_events>;

struct summary {
    int orders = 0;
    long total = 0;
    friend bool operator==(const summary&, const summary&) = default;
};
using summaries = std::map<std::string, summary>;

// The read model lives outside the projection object (as a table would), so a new projection
// object after a "restart" continues the same read model.
struct order_summary_by_customer {
    summaries* model;
    std::vector<std::uint64_t> handled; // positions handled by this object
    std::string fail_on_customer;       // handling an event of this customer throws

    std::string_view name() const { return "order_summary_by_customer"; }
    void reset() { model->clear(); }
    void handle(const envelope& e) {
        std::visit(
            [this](const auto& x) {
                if (x.customer == fail_on_customer) {
                    throw std::runtime_error("read model unavailable");
                }
                summary& s = (*model)[x.customer];
                if constexpr (std::is_same_v<std::decay_t<decltype(x)>, order_placed>) {
                    ++s.orders;
                    s.total += x.amount;
                } else {
                    --s.orders;
                    s.total -= x.amount;
                }
            },
            e.payload);
        handled.push_back(e.global_position);
    }
};

// A projection whose handler is a coroutine.
struct event_counter {
    int* count;
    std::string_view name() const { return "event_counter"; }
    eddy::task<> handle(const envelope&) {
        ++*count;
        co_return;
    }
};

void place(store_type& store, std::string stream, std::string customer, long amount) {
    eddy::sync_wait(store.append(std::move(stream), eddy::expected_version::any(),
                                 {order_placed{std::move(customer), amount}}));
}
void cancel(store_type& store, std::string stream, std::string customer, long amount) {
    eddy::sync_wait(store.append(std::move(stream), eddy::expected_version::any(),
                                 {order_cancelled{std::move(customer), amount}}));
}

eddy::task<> run_projection(eddy::projector<store_type, eddy::memory_checkpoint_store>* proj,
                            order_summary_by_customer* p) {
    co_await proj->run(*p);
}

} // namespace

TEST_CASE("projector: catch_up builds the read model and checkpoints; a restart resumes",
          "[es][projector]") {
    store_type store;
    eddy::memory_checkpoint_store checkpoints;
    eddy::projector proj(store, checkpoints);
    summaries model;

    place(store, "order-1", "ann", 30);
    place(store, "order-2", "bob", 5);
    place(store, "order-3", "ann", 12);
    order_summary_by_customer first{&model, {}, {}};
    REQUIRE(eddy::sync_wait(proj.catch_up(first)) == 3);
    REQUIRE(model == summaries{{"ann", {2, 42}}, {"bob", {1, 5}}});
    REQUIRE(first.handled == std::vector<std::uint64_t>{1, 2, 3});
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("order_summary_by_customer")) == 3);
    REQUIRE(checkpoints.saves() == 3);

    cancel(store, "order-1", "ann", 30);
    place(store, "order-4", "cy", 7);
    order_summary_by_customer restarted{&model, {}, {}}; // a new process, the same read model
    REQUIRE(eddy::sync_wait(proj.catch_up(restarted)) == 5);
    REQUIRE(restarted.handled == std::vector<std::uint64_t>{4, 5}); // nothing handled twice
    REQUIRE(model == summaries{{"ann", {1, 12}}, {"bob", {1, 5}}, {"cy", {1, 7}}});

    REQUIRE(eddy::sync_wait(proj.catch_up(restarted)) == 5); // nothing new
    REQUIRE(restarted.handled.size() == 2);
}

TEST_CASE("projector: replay resets the read model and rebuilds it from position 1",
          "[es][projector]") {
    store_type store;
    eddy::memory_checkpoint_store checkpoints;
    eddy::projector proj(store, checkpoints);
    summaries model;
    place(store, "order-1", "ann", 30);
    place(store, "order-2", "bob", 5);
    order_summary_by_customer p{&model, {}, {}};
    eddy::sync_wait(proj.catch_up(p));
    model["ghost"] = summary{9, 9}; // corruption that a rebuild must remove
    p.handled.clear();
    REQUIRE(eddy::sync_wait(proj.replay(p)) == 2);
    REQUIRE(p.handled == std::vector<std::uint64_t>{1, 2});
    REQUIRE(model == summaries{{"ann", {1, 30}}, {"bob", {1, 5}}});
}

TEST_CASE("projector: run catches up, then follows live appends until stopped", "[es][projector]") {
    store_type store;
    eddy::memory_checkpoint_store checkpoints;
    eddy::projector proj(store, checkpoints);
    summaries model;
    place(store, "order-1", "ann", 30);

    order_summary_by_customer p{&model, {}, {}};
    std::stop_source stop;
    eddy::test::outcome out;
    eddy::test::start(eddy::with_stop_token(run_projection(&proj, &p), stop.get_token()), &out);
    REQUIRE_FALSE(out.done);
    REQUIRE(model == summaries{{"ann", {1, 30}}});
    place(store, "order-2", "bob", 5); // handled inside the append (memory store)
    REQUIRE(model == summaries{{"ann", {1, 30}}, {"bob", {1, 5}}});
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("order_summary_by_customer")) == 2);
    cancel(store, "order-1", "ann", 30);
    REQUIRE(model == summaries{{"ann", {0, 0}}, {"bob", {1, 5}}});
    REQUIRE(p.handled == std::vector<std::uint64_t>{1, 2, 3});

    stop.request_stop();
    REQUIRE(out.done);
    REQUIRE(eddy::test::failed_with<eddy::operation_cancelled>(out));
    place(store, "order-3", "cy", 1); // no longer followed
    REQUIRE(p.handled.size() == 3);
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("order_summary_by_customer")) == 3);
}

TEST_CASE("projector: a failing handler stops it before the checkpoint; the event is retried",
          "[es][projector]") {
    store_type store;
    eddy::memory_checkpoint_store checkpoints;
    eddy::projector proj(store, checkpoints);
    summaries model;
    place(store, "order-1", "ann", 1);
    place(store, "order-2", "bob", 2);
    place(store, "order-3", "cy", 3);
    order_summary_by_customer failing{&model, {}, "bob"};
    REQUIRE_THROWS_WITH(eddy::sync_wait(proj.catch_up(failing)), "read model unavailable");
    REQUIRE(failing.handled == std::vector<std::uint64_t>{1});
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("order_summary_by_customer")) == 1);

    order_summary_by_customer fixed{&model, {}, {}};
    REQUIRE(eddy::sync_wait(proj.catch_up(fixed)) == 3);
    REQUIRE(fixed.handled == std::vector<std::uint64_t>{2, 3});
    REQUIRE(model == summaries{{"ann", {1, 1}}, {"bob", {1, 2}}, {"cy", {1, 3}}});
}

TEST_CASE("projector: handlers may be coroutines", "[es][projector]") {
    store_type store;
    eddy::memory_checkpoint_store checkpoints;
    eddy::projector proj(store, checkpoints);
    place(store, "order-1", "ann", 1);
    place(store, "order-2", "bob", 2);
    int count = 0;
    event_counter c{&count};
    REQUIRE(eddy::sync_wait(proj.catch_up(c)) == 2);
    REQUIRE(count == 2);
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("event_counter")) == 2);
}
