// Tests of eddy::projector: an order-summary-by-customer read model
// built by catch_up (exact states and checkpoints), restart from the checkpoint, replay from
// position 1, live run over subscribe_all until stopped, a failing handler (not checkpointed,
// handled again after restart), task-returning handlers.
#include <eddy/es/projector.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <eddy/core/async_event.hpp>
#include <eddy/core/error.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/core/when_all.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/detail/contiguous_tracker.hpp>
#include <eddy/es/memory_checkpoint_store.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/es/unit_checkpoint_store.hpp>
#include <eddy/es/unit_projection.hpp>

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

namespace {

// A read model written only through units of work: `applied[p]` counts how often the write of
// position p was applied (exactly-once means every count is 1).
struct unit_summary {
    summaries* model;
    std::map<std::uint64_t, int>* applied;
    std::uint64_t crash_at = 0; // handling this position throws after adding its write

    std::string_view name() const { return "unit_summary"; }
    void reset() {
        model->clear();
        applied->clear();
    }
    void handle(const envelope& e, eddy::memory_unit_of_work& unit) {
        unit.on_commit(
            [model = model, applied = applied, payload = e.payload, position = e.global_position] {
                std::visit(
                    [model](const auto& x) {
                        summary& s = (*model)[x.customer];
                        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, order_placed>) {
                            ++s.orders;
                            s.total += x.amount;
                        } else {
                            --s.orders;
                            s.total -= x.amount;
                        }
                    },
                    payload);
                ++(*applied)[position];
            });
        if (e.global_position == crash_at) {
            throw std::runtime_error("crash after handling");
        }
    }
};

// A checkpoint store over a shared memory storage whose unit save "crashes" (throws) at one
// position: the crash falls between the handler and the commit.
struct crashing_checkpoints {
    using unit_type = eddy::memory_unit_of_work;
    eddy::memory_checkpoint_store* inner;
    std::uint64_t crash_at = 0;

    eddy::task<std::uint64_t> load_checkpoint(std::string name) {
        return inner->load_checkpoint(std::move(name));
    }
    eddy::task<void> save_checkpoint(std::string name, std::uint64_t position) {
        return inner->save_checkpoint(std::move(name), position);
    }
    void save_checkpoint(unit_type& unit, std::string name, std::uint64_t position) {
        if (position == crash_at) {
            throw std::runtime_error("crash before commit");
        }
        inner->save_checkpoint(unit, std::move(name), position);
    }
    const eddy::memory_storage& storage() const { return inner->storage(); }
};

std::map<std::uint64_t, int> once_each(std::uint64_t n) {
    std::map<std::uint64_t, int> out;
    for (std::uint64_t p = 1; p <= n; ++p) {
        out[p] = 1;
    }
    return out;
}

} // namespace

TEST_CASE("projector: the unit concepts", "[es][projector]") {
    STATIC_REQUIRE(eddy::unit_checkpoint_store<eddy::memory_checkpoint_store>);
    STATIC_REQUIRE(eddy::unit_checkpoint_store<crashing_checkpoints>);
    STATIC_REQUIRE_FALSE(eddy::unit_checkpoint_store<eddy::memory_storage>);
    STATIC_REQUIRE(eddy::unit_projection<unit_summary, order_events, eddy::memory_unit_of_work>);
    STATIC_REQUIRE_FALSE(eddy::projection<unit_summary, order_events>);
    STATIC_REQUIRE_FALSE(
        eddy::unit_projection<order_summary_by_customer, order_events, eddy::memory_unit_of_work>);
}

TEST_CASE("projector: a unit projection commits its read model with its checkpoint",
          "[es][projector]") {
    eddy::memory_storage storage;
    store_type store(storage);
    eddy::memory_checkpoint_store checkpoints(storage);
    eddy::projector proj(store, checkpoints);
    summaries model;
    std::map<std::uint64_t, int> applied;
    place(store, "order-1", "ann", 30);
    place(store, "order-2", "bob", 5);
    place(store, "order-3", "ann", 12);
    cancel(store, "order-1", "ann", 30);

    SECTION("a crash in the handler, after it added its write: neither is applied") {
        unit_summary crashing{&model, &applied, 3};
        REQUIRE_THROWS_WITH(eddy::sync_wait(proj.catch_up(crashing)), "crash after handling");
        REQUIRE(applied == once_each(2));
        REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("unit_summary")) == 2);
        REQUIRE(model == summaries{{"ann", {1, 30}}, {"bob", {1, 5}}});
    }

    SECTION("a crash between handling and commit: neither is applied") {
        crashing_checkpoints crashing{&checkpoints, 3};
        eddy::projector crash_proj(store, crashing);
        unit_summary p{&model, &applied, 0};
        REQUIRE_THROWS_WITH(eddy::sync_wait(crash_proj.catch_up(p)), "crash before commit");
        REQUIRE(applied == once_each(2));
        REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("unit_summary")) == 2);
    }

    // Restart (a new projection object, the same read model and storage): nothing lost,
    // nothing applied twice.
    unit_summary restarted{&model, &applied, 0};
    REQUIRE(eddy::sync_wait(proj.catch_up(restarted)) == 4);
    REQUIRE(applied == once_each(4));
    REQUIRE(model == summaries{{"ann", {1, 12}}, {"bob", {1, 5}}});
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("unit_summary")) == 4);

    // Replay resets and rebuilds, still through units.
    REQUIRE(eddy::sync_wait(proj.replay(restarted)) == 4);
    REQUIRE(applied == once_each(4));
    REQUIRE(model == summaries{{"ann", {1, 12}}, {"bob", {1, 5}}});
}

namespace {

// A projection that, for each order event, appends an audit event to stream "audit" in the
// same unit, expecting the version it counted: a stale expectation makes the commit fail a
// check, so neither its read-model write nor its checkpoint happens. (It sees its own audit
// events too and only checkpoints them.)
struct auditing_projection {
    store_type* store;
    std::uint64_t* audited; // read model: written on commit
    std::uint64_t expected = 0;

    std::string_view name() const { return "auditing"; }
    void handle(const envelope& e, eddy::memory_unit_of_work& unit) {
        if (e.stream_id == "audit") {
            return;
        }
        store->append(unit, "audit", eddy::expected_version::exact(expected),
                      {order_cancelled{"audit", static_cast<long>(e.global_position)}});
        unit.on_commit([audited = audited] { ++*audited; });
        ++expected;
    }
};

} // namespace

TEST_CASE("projector: a unit whose check fails writes neither read model nor checkpoint",
          "[es][projector]") {
    eddy::memory_storage storage;
    store_type orders(storage);
    eddy::memory_checkpoint_store checkpoints(storage);
    eddy::projector proj(orders, checkpoints);
    place(orders, "order-1", "ann", 1);
    place(orders, "order-2", "bob", 2);
    std::uint64_t audited = 0;
    auditing_projection p{&orders, &audited, 0};
    REQUIRE(eddy::sync_wait(proj.catch_up(p)) == 4); // 2 orders, then its 2 audit events
    REQUIRE(audited == 2);
    REQUIRE(orders.stream_version("audit") == 2);

    place(orders, "order-3", "cy", 3); // position 5
    eddy::sync_wait(orders.append("audit", eddy::expected_version::any(),
                                  {order_cancelled{"intruder", 0}})); // audit version 3
    auditing_projection stale{&orders, &audited, 2};
    REQUIRE_THROWS_AS(eddy::sync_wait(proj.catch_up(stale)), eddy::concurrency_conflict);
    REQUIRE(audited == 2);
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("auditing")) == 4);
    REQUIRE(orders.stream_version("audit") == 3);

    auditing_projection fixed{&orders, &audited, 3};
    REQUIRE(eddy::sync_wait(proj.catch_up(fixed)) == 7);
    REQUIRE(audited == 3);
}

TEST_CASE("projector: the contiguous tracker never skips an unfinished position",
          "[es][projector]") {
    eddy::detail::contiguous_tracker t(10);
    for (std::uint64_t p : {11, 12, 14, 15}) { // 13 is a gap: never dispatched
        t.dispatched(p);
    }
    REQUIRE_FALSE(t.completed(14)); // 11 and 12 are still running
    REQUIRE(t.checkpoint() == 10);
    REQUIRE_FALSE(t.completed(12));
    REQUIRE(t.checkpoint() == 10);
    REQUIRE(t.completed(11));
    REQUIRE(t.checkpoint() == 14);  // 11, 12, then 14 (13 was never dispatched)
    REQUIRE_FALSE(t.completed(99)); // unknown positions change nothing
    REQUIRE(t.in_flight() == 1);
    REQUIRE(t.completed(15));
    REQUIRE(t.checkpoint() == 15);
    REQUIRE(t.in_flight() == 0);
}

namespace {

// Thread-safe: records, per stream, the versions handled, in handling order.
struct per_stream_recorder {
    std::mutex mutex;
    std::map<std::string, std::vector<std::uint64_t>> versions; // guarded
    std::map<std::uint64_t, int> handled;                       // guarded: per position
    std::uint64_t fail_at = 0;

    std::string_view name() const { return "per_stream"; }
    void handle(const envelope& e) {
        if (e.global_position == fail_at) {
            throw std::runtime_error("handler failed");
        }
        std::lock_guard lock(mutex);
        versions[e.stream_id].push_back(e.stream_version);
        ++handled[e.global_position];
    }
};

// A checkpoint store recording every save (saves are serialized by the projector).
struct recording_checkpoints {
    eddy::memory_checkpoint_store inner;
    std::mutex mutex;
    std::vector<std::uint64_t> saved; // guarded

    eddy::task<std::uint64_t> load_checkpoint(std::string name) {
        return inner.load_checkpoint(std::move(name));
    }
    eddy::task<void> save_checkpoint(std::string name, std::uint64_t position) {
        {
            std::lock_guard lock(mutex);
            saved.push_back(position);
        }
        return inner.save_checkpoint(std::move(name), position);
    }
};

void interleaved(store_type& store, int streams, int per_stream) {
    for (int v = 0; v < per_stream; ++v) {
        for (int s = 0; s < streams; ++s) {
            place(store, "order-" + std::to_string(s), "c" + std::to_string(s), v);
        }
    }
}

} // namespace

TEST_CASE("projector: catch_up_parallel handles partitions concurrently, streams in order",
          "[es][projector][concurrency]") {
    eddy::thread_pool pool(4);
    store_type store;
    recording_checkpoints checkpoints;
    eddy::projector proj(store, checkpoints);
    constexpr int streams = 16;
    constexpr int per_stream = 30;
    interleaved(store, streams, per_stream);
    per_stream_recorder p;

    REQUIRE(eddy::sync_wait(proj.catch_up_parallel(p, pool, 4, 8)) == streams * per_stream);
    std::vector<std::uint64_t> in_order(per_stream);
    for (int v = 0; v < per_stream; ++v) {
        in_order[static_cast<std::size_t>(v)] = static_cast<std::uint64_t>(v) + 1;
    }
    REQUIRE(p.versions.size() == streams);
    for (const auto& [stream, versions] : p.versions) {
        REQUIRE(versions == in_order);
    }
    REQUIRE(p.handled.size() == streams * per_stream);
    for (const auto& [position, count] : p.handled) {
        REQUIRE(count == 1);
    }
    // Saves only go forward and end at the last position.
    REQUIRE_FALSE(checkpoints.saved.empty());
    for (std::size_t i = 1; i < checkpoints.saved.size(); ++i) {
        REQUIRE(checkpoints.saved[i - 1] < checkpoints.saved[i]);
    }
    REQUIRE(checkpoints.saved.back() == streams * per_stream);
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("per_stream")) == streams * per_stream);

    // Nothing new: nothing handled.
    REQUIRE(eddy::sync_wait(proj.catch_up_parallel(p, pool, 3)) == streams * per_stream);
    REQUIRE(p.handled.size() == streams * per_stream);
}

TEST_CASE("projector: catch_up_parallel stops at a failing handler; the checkpoint stays behind it",
          "[es][projector][concurrency]") {
    eddy::thread_pool pool(4);
    store_type store;
    recording_checkpoints checkpoints;
    eddy::projector proj(store, checkpoints);
    interleaved(store, 8, 20); // 160 events
    per_stream_recorder failing;
    failing.fail_at = 77;
    REQUIRE_THROWS_WITH(eddy::sync_wait(proj.catch_up_parallel(failing, pool, 4, 4)),
                        "handler failed");
    const std::uint64_t checkpoint = eddy::sync_wait(checkpoints.load_checkpoint("per_stream"));
    REQUIRE(checkpoint < 77);
    REQUIRE(failing.handled.count(77) == 0);
    for (std::uint64_t p = 1; p <= checkpoint; ++p) {
        REQUIRE(failing.handled.count(p) == 1); // everything below the checkpoint was handled
    }

    per_stream_recorder fixed;
    REQUIRE(eddy::sync_wait(proj.catch_up_parallel(fixed, pool, 2)) == 160);
    for (std::uint64_t p = 1; p <= 160; ++p) {
        // Resumed from the checkpoint: nothing lost (each event handled by one of the two
        // runs), nothing at or below the checkpoint handled again.
        REQUIRE(failing.handled.count(p) + fixed.handled.count(p) >= 1);
        REQUIRE(fixed.handled.count(p) == (p <= checkpoint ? 0U : 1U));
    }
    REQUIRE_THROWS_AS(proj.catch_up_parallel(fixed, pool, 0), eddy::error);
    REQUIRE_THROWS_AS(proj.catch_up_parallel(fixed, pool, 2, 0), eddy::error);
}

namespace {

// Sets `reached` once the checkpoint `target` is saved (so the test knows every event up to it
// was handled and checkpointed).
struct signalling_checkpoints {
    eddy::memory_checkpoint_store inner;
    std::uint64_t target = 0;
    eddy::async_event reached;

    eddy::task<std::uint64_t> load_checkpoint(std::string name) {
        return inner.load_checkpoint(std::move(name));
    }
    eddy::task<void> save_checkpoint(std::string name, std::uint64_t position) {
        return save(this, std::move(name), position);
    }
    static eddy::task<void> save(signalling_checkpoints* self, std::string name,
                                 std::uint64_t position) {
        co_await self->inner.save_checkpoint(std::move(name), position);
        if (position == self->target) {
            self->reached.set();
        }
    }
};

using parallel_projector = eddy::projector<store_type, signalling_checkpoints>;

// Runs run_parallel until stopped; true when it ended with operation_cancelled.
eddy::task<bool> run_until_stopped(parallel_projector* proj, per_stream_recorder* p,
                                   eddy::thread_pool* pool) {
    try {
        co_await proj->run_parallel(*p, *pool, 3, 4);
    } catch (const eddy::operation_cancelled&) {
        co_return true;
    }
    co_return false;
}

// Appends live events from a pool thread, waits until all are checkpointed, then stops.
eddy::task<> feed_then_stop(store_type* store, signalling_checkpoints* checkpoints,
                            eddy::thread_pool* pool, std::stop_source* stop) {
    co_await pool->schedule();
    interleaved(*store, 6, 10); // positions 21..80
    co_await checkpoints->reached.wait();
    stop->request_stop();
}

} // namespace

TEST_CASE("projector: run_parallel follows live appends until stopped",
          "[es][projector][concurrency]") {
    eddy::thread_pool pool(4);
    store_type store;
    signalling_checkpoints checkpoints;
    checkpoints.target = 80;
    parallel_projector proj(store, checkpoints);
    interleaved(store, 4, 5); // positions 1..20, before the projector starts
    per_stream_recorder p;
    std::stop_source stop;
    auto [cancelled, fed] = eddy::sync_wait(
        eddy::when_all(eddy::with_stop_token(run_until_stopped(&proj, &p, &pool), stop.get_token()),
                       feed_then_stop(&store, &checkpoints, &pool, &stop)));
    (void)fed;
    REQUIRE(cancelled);
    REQUIRE(p.handled.size() == 80);
    for (const auto& [position, count] : p.handled) {
        REQUIRE(count == 1);
    }
    for (const auto& [stream, versions] : p.versions) {
        for (std::size_t i = 0; i < versions.size(); ++i) {
            REQUIRE(versions[i] == i + 1); // each stream in order
        }
    }
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("per_stream")) == 80);
}

TEST_CASE("projector: run_parallel ends with a failing handler's error without new events",
          "[es][projector][concurrency]") {
    eddy::thread_pool pool(4);
    store_type store;
    eddy::memory_checkpoint_store checkpoints;
    eddy::projector proj(store, checkpoints);
    interleaved(store, 5, 8); // 40 events
    per_stream_recorder failing;
    failing.fail_at = 17;
    REQUIRE_THROWS_WITH(eddy::sync_wait(proj.run_parallel(failing, pool, 3, 2)), "handler failed");
    REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("per_stream")) < 17);
    REQUIRE_THROWS_AS(proj.run_parallel(failing, pool, 0), eddy::error);
}
