// The crash test of eddy::sqlite_saga_log (the saga issue's "Durable sagas"): a forked child runs
// sagas through eddy::saga_coordinator on the SQLite log, with fake services whose effects are
// recorded durably in SQLite under the step's idempotency key (UNIQUE: a rerun with the same key
// is a no-op), and is killed with SIGKILL at a random moment; the parent then resumes every
// unfinished saga in-process with resume_pending() and checks: every saga ends completed or
// compensated, no step's effect is applied twice, no compensation is skipped. Hundreds of runs
// on one pair of files (so later runs also meet the leftovers of earlier ones).
// The files use synchronous=NORMAL: a SIGKILL loses nothing the OS was handed (only a power
// loss could), and it keeps the runs fast.
#include <eddy/sqlite/sqlite_saga_log.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/saga/business_failure.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/saga_coordinator.hpp>
#include <eddy/saga/sequence.hpp>
#include <eddy/saga/step.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>

#include <sqlite/temp_dir.hpp>

namespace {

struct order {
    int number = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order, number)

using log_type = eddy::sqlite_saga_log<order>;
using eddy::test::sqlite::temp_dir;

// The effects file of the fake services: one row per applied effect, keyed by the idempotency
// key. Opened once per process (the child inherits nothing open: it opens its own).
sqlite3* effects_db = nullptr;

void open_effects(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &effects_db,
                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
    sqlite3_busy_timeout(effects_db, 5000);
    sqlite3_exec(effects_db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                 "CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, saga TEXT NOT NULL, "
                 "service TEXT NOT NULL)",
                 nullptr, nullptr, nullptr);
}

void close_effects() {
    sqlite3_close(effects_db);
    effects_db = nullptr;
}

// Applies the effect once per key (INSERT OR IGNORE): what an idempotent real service does.
void apply_effect(const std::string& key, const std::string& saga, const std::string& service) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(effects_db,
                       "INSERT OR IGNORE INTO effects (key, saga, service) "
                       "VALUES (?, ?, ?)",
                       -1, &s, nullptr);
    sqlite3_bind_text(s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, saga.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, service.c_str(), -1, SQLITE_TRANSIENT);
    const int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        throw std::runtime_error("effects insert failed");
    }
}

eddy::task<void> call(std::string service, std::string key, std::string saga, bool decline) {
    if (decline) {
        throw eddy::business_failure(service + " declined");
    }
    apply_effect(key, saga, service);
    co_return;
}

// A step action or compensation (not a coroutine: returns call's task).
struct service {
    std::string name;
    eddy::task<void> operator()(order& o, const eddy::step_context& step) const {
        // Every third order's shipping is declined: the saga compensates.
        const bool decline = name == "ship" && o.number % 3 == 0;
        return call(name, std::string(step.idempotency_key), std::string(step.saga_id), decline);
    }
};

eddy::saga<order> definition() {
    return eddy::saga<order>(
        "order",
        eddy::sequence(eddy::step<order>("charge", service{"charge"}, service{"refund"}),
                       eddy::step<order>("reserve", service{"reserve"}, service{"release"}),
                       eddy::step<order>("ship", service{"ship"}, service{"recall"})));
}

eddy::sqlite_options fast() {
    eddy::sqlite_options o;
    o.synchronous = eddy::sqlite_options::sync::normal;
    return o;
}

// The child: runs sagas r<run>-<k> one after the other until killed (or done).
[[noreturn]] void child(const std::string& log_path, const std::string& effects_path, int run,
                        int sagas) {
    open_effects(effects_path);
    {
        eddy::thread_pool pool(2);
        log_type log(eddy::sqlite_storage(log_path, pool, fast()));
        eddy::saga_coordinator coordinator(pool, log);
        const auto def = definition();
        for (int k = 0; k < sagas; ++k) {
            eddy::sync_wait(coordinator.run(
                def, "r" + std::to_string(run) + "-" + std::to_string(k), order{k}));
        }
    }
    _exit(0); // skip atexit and leak checks: the parent checks the files
}

std::vector<std::vector<std::string>> rows(sqlite3* db, const char* sql) {
    std::vector<std::vector<std::string>> out;
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) {
        std::vector<std::string> row;
        for (int i = 0; i < sqlite3_column_count(s); ++i) {
            const auto* t = sqlite3_column_text(s, i);
            row.emplace_back(t != nullptr ? reinterpret_cast<const char*>(t) : "");
        }
        out.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    return out;
}

} // namespace

TEST_CASE("sqlite_saga_log: sagas killed with SIGKILL at random moments resume consistently",
          "[sqlite][sqlite_saga_log][crash]") {
    temp_dir dir;
    const std::string log_path = dir.file("sagas.db");
    const std::string effects_path = dir.file("effects.db");
    constexpr int runs = 300;
    constexpr int sagas_per_run = 1000; // more than fit before the kill
    std::mt19937 random(20261127);      // fixed: a failure reproduces
    std::uniform_int_distribution<int> delay_us(0, 40000);
    int killed = 0;
    int resumed = 0;

    for (int run = 0; run < runs; ++run) {
        // No thread of this process is running here (the last run's pool and storage are
        // gone), so the child starts from a consistent copy.
        const pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            child(log_path, effects_path, run, sagas_per_run);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
        int status = 0;
        if (kill(pid, SIGKILL) == 0) {
            waitpid(pid, &status, 0);
            killed += WIFSIGNALED(status) ? 1 : 0;
        }

        open_effects(effects_path);
        {
            eddy::thread_pool pool(2);
            log_type log(eddy::sqlite_storage(log_path, pool, fast()));
            eddy::saga_coordinator coordinator(pool, log);
            coordinator.add(definition());
            const auto outs = eddy::sync_wait(coordinator.resume_pending());
            resumed += static_cast<int>(outs.size());
            for (const auto& out : outs) {
                CAPTURE(out.saga_id);
                REQUIRE((out.status == eddy::saga_status::completed ||
                         out.status == eddy::saga_status::compensated));
            }
            REQUIRE(eddy::sync_wait(log.unfinished()).empty());
        }
        close_effects();
    }
    // Some runs were killed mid-way, some sagas needed a resume (the test can fail).
    CHECK(killed > runs * 9 / 10);
    CHECK(resumed > 10);

    // Every saga in the log: final, and its effects are exactly those of its outcome.
    sqlite3* db = nullptr;
    sqlite3_open(log_path.c_str(), &db);
    sqlite3_exec(db, ("ATTACH '" + effects_path + "' AS fx").c_str(), nullptr, nullptr, nullptr);
    const auto sagas = rows(db, "SELECT s.saga_id, (SELECT kind FROM eddy_saga_transitions t "
                                "WHERE t.saga_seq = s.seq ORDER BY n DESC LIMIT 1) "
                                "FROM eddy_sagas s");
    std::map<std::string, std::map<std::string, int>> effects;
    for (const auto& r : rows(db, "SELECT saga, service, count(*) FROM fx.effects "
                                  "GROUP BY saga, service")) {
        effects[r[0]][r[1]] = std::stoi(r[2]);
    }
    sqlite3_close(db);
    std::printf("%d runs, %d killed, %zu sagas, %d resumed\n", runs, killed, sagas.size(), resumed);
    REQUIRE(sagas.size() >= static_cast<std::size_t>(runs / 2)); // most runs got going
    int compensated = 0;
    for (const auto& s : sagas) {
        const std::string& id = s[0];
        CAPTURE(id, s[1]);
        auto& e = effects[id];
        for (const auto& [svc, count] : e) {
            REQUIRE(count == 1); // no effect applied twice
        }
        const int number = std::stoi(id.substr(id.find('-') + 1));
        if (number % 3 == 0) {
            REQUIRE(s[1] == "saga_compensated");
            ++compensated;
            REQUIRE(e["ship"] == 0);
            // No compensation skipped: what was applied was undone.
            REQUIRE(e["refund"] >= e["charge"]);
            REQUIRE(e["release"] >= e["reserve"]);
            REQUIRE(e["charge"] == 1); // charge always ran before the declined ship
        } else {
            REQUIRE(s[1] == "saga_completed");
            REQUIRE(e["charge"] == 1);
            REQUIRE(e["reserve"] == 1);
            REQUIRE(e["ship"] == 1);
            REQUIRE(e["refund"] == 0);
            REQUIRE(e["release"] == 0);
        }
    }
    REQUIRE(compensated > 0);
}
