// Tests of the PostgreSQL outbox and saga log on threads ([concurrency]): two storages on one
// schema (separate pools, as two processes would have) enqueueing from two threads while four
// relays (two on each) claim, publish and mark concurrently: every message is published exactly
// once and each aggregate's messages in their sequence order; and a saga_coordinator running
// sagas on a postgres_saga_log from a thread_pool.
#include <eddy/postgres/postgres_outbox_store.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/postgres/postgres_saga_log.hpp>
#include <eddy/postgres/postgres_storage.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/saga_coordinator.hpp>
#include <eddy/saga/sequence.hpp>
#include <eddy/saga/step.hpp>

#include <postgres/pg_test_schema.hpp>
#include <support/outbox_world.hpp>
#include <support/outbox_world_json.hpp>

namespace {

using namespace std::chrono_literals;
using namespace eddy::test::outbox;
using eddy::test::postgres::conninfo;
using eddy::test::postgres::fresh_schema;
using outbox_type = eddy::postgres_outbox_store<notice>;
using strings = std::vector<std::string>;

eddy::inline_scheduler inline_s;

struct order {
    int amount = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order, amount)

eddy::task<void> bump(order& o, const eddy::step_context&) {
    ++o.amount;
    co_return;
}

} // namespace

TEST_CASE("postgres: two storages enqueue and relay concurrently: each message published once, "
          "each aggregate's in order",
          "[postgres][postgres_outbox_store][concurrency]") {
    fresh_schema schema;
    eddy::postgres_storage one(conninfo(), inline_s, schema.options(3));
    eddy::postgres_storage two(conninfo(), inline_s, schema.options(3));
    outbox_type first(one);
    outbox_type second(two);
    constexpr int per_writer = 60;
    constexpr int writers = 2;
    constexpr int total = per_writer * writers;
    const strings aggregates{"a", "b", "c"};
    // A bound for a failing run (relays would wait for messages that never come), not a delay.
    const auto deadline = std::chrono::steady_clock::now() + 60s;

    std::mutex mutex;
    std::map<std::string, std::vector<std::uint64_t>> published; // sequences, per aggregate
    std::multiset<std::string> ids;
    std::atomic<int> done{0};
    std::atomic<int> failures{0};
    std::atomic<bool> stop{false};
    std::string first_error; // guarded by mutex
    auto fail = [&](const char* what) {
        std::lock_guard lock(mutex);
        if (first_error.empty()) {
            first_error = what;
        }
        ++failures;
        stop = true;
    };

    auto writer = [&](eddy::postgres_storage& storage, outbox_type& outbox, int w) {
        try {
            // Units of one and of two messages, the writers' aggregates overlapping.
            for (int i = 0; i < per_writer;) {
                auto unit = storage.begin();
                std::vector<eddy::outbox_message<notice>> batch;
                const int size = i % 3 == 0 ? 2 : 1;
                for (int k = i; k < i + size; ++k) {
                    batch.push_back(
                        message(aggregates[static_cast<std::size_t>(k + w) % 3], w * 1000 + k));
                }
                i += size;
                outbox.enqueue(unit, std::move(batch));
                (void)eddy::sync_wait(storage.commit(std::move(unit)));
            }
        } catch (const std::exception& e) {
            fail(e.what());
        }
    };
    auto relay = [&](outbox_type& outbox, std::string id) {
        try {
            while (done.load() < total && !stop.load()) {
                if (std::chrono::steady_clock::now() > deadline) {
                    fail("the deadline passed");
                    break;
                }
                const auto claimed = eddy::sync_wait(outbox.claim(id, 3, 1min));
                std::vector<eddy::uuid> marked;
                {
                    std::lock_guard lock(mutex);
                    for (const auto& m : claimed) {
                        published[m.aggregate_id].push_back(m.sequence);
                        ids.insert(m.id.to_string());
                        marked.push_back(m.id);
                    }
                }
                if (!marked.empty()) {
                    eddy::sync_wait(outbox.mark_published(id, marked));
                    done += static_cast<int>(marked.size());
                }
            }
        } catch (const std::exception& e) {
            fail(e.what());
        }
    };
    std::vector<std::thread> threads;
    threads.emplace_back(writer, std::ref(one), std::ref(first), 0);
    threads.emplace_back(writer, std::ref(two), std::ref(second), 1);
    threads.emplace_back(relay, std::ref(first), "r1");
    threads.emplace_back(relay, std::ref(first), "r2");
    threads.emplace_back(relay, std::ref(second), "r3");
    threads.emplace_back(relay, std::ref(second), "r4");
    for (auto& t : threads) {
        t.join();
    }
    INFO("published " << done.load() << " of " << total << "; " << first_error);
    REQUIRE(failures.load() == 0);
    CHECK(ids.size() == static_cast<std::size_t>(total));
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
    for (const auto& [aggregate, sequences] : published) {
        INFO("aggregate " << aggregate);
        CHECK(std::is_sorted(sequences.begin(), sequences.end()));
    }
    const auto stats = eddy::sync_wait(second.stats());
    CHECK(stats.pending == 0);
    CHECK(stats.published == static_cast<std::uint64_t>(total));
}

TEST_CASE("postgres_saga_log: a saga_coordinator runs sagas on it from a thread_pool",
          "[postgres][postgres_saga_log][concurrency]") {
    fresh_schema schema;
    eddy::thread_pool pool(2);
    eddy::postgres_saga_log<order> log(eddy::postgres_storage(conninfo(), pool, schema.options(2)));
    eddy::saga_coordinator coordinator(pool, log);
    const eddy::saga<order> def(
        "order", eddy::sequence(eddy::step<order>("one", bump), eddy::step<order>("two", bump)));
    for (int i = 0; i < 10; ++i) {
        auto out = eddy::sync_wait(coordinator.run(def, "o" + std::to_string(i), order{i}));
        REQUIRE(out.completed());
        REQUIRE(out.context.amount == i + 2);
    }
    CHECK(eddy::sync_wait(log.unfinished()).empty());
    auto h = eddy::sync_wait(log.load("o3"));
    REQUIRE(h);
    CHECK(h->transitions.back().kind == eddy::saga_transition_kind::saga_completed);
    CHECK(h->transitions.size() == 6); // started, 2 x (step started, completed), completed
}
