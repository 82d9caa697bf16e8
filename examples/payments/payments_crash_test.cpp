// The payment system killed with SIGKILL mid-run, several times, on one store (a SQLite
// directory; PostgreSQL schemas on the server of EDDY_PG_CONNINFO, set by scripts/test), then
// run to the end: nothing acknowledged is lost, nobody is charged or shipped twice, every order
// ends (confirmed or cancelled), and the ledger matches the orders' read model.
#include "payments.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

payments::run_options options_on(const std::string& store, const std::string& prefix = "") {
    payments::run_options o;
    o.store = store;
    if (!prefix.empty()) {
        o.schema_prefix = prefix;
    }
    o.orders = 400;
    o.concurrency = 32;
    o.failures = {
        .decline = 0.1, .out_of_stock = 0.1, .flaky = 0.2, .poison = 0.02, .duplicate = 0.2};
    return o;
}

// Kills runs of the system on `options`' store four times, each after a delay (ms) drawn from
// `first..last` (mid-run), then runs it to the end.
void kill_and_resume(const payments::run_options& options, int first, int last) {
    std::mt19937 random(20261127); // fixed: a failure reproduces
    std::uniform_int_distribution<int> delay_ms(first, last);
    int killed = 0;
    for (int run = 0; run < 4; ++run) {
        const pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            const auto r = payments::run(options);
            _exit(r.consistent() ? 0 : 1); // a run that finished before its kill
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        killed += WIFSIGNALED(status) ? 1 : 0;
        if (WIFEXITED(status)) {
            REQUIRE(WEXITSTATUS(status) == 0);
        }
    }
    const auto r = payments::run(options);
    CAPTURE(killed, r.resumed, r.completed, r.compensated, r.stuck);
    CHECK(killed >= 3); // the kills came mid-run
    CHECK(r.orders == 400);
    payments::test::check_ended_exactly_once(r);
}

} // namespace

TEST_CASE("the payment system killed mid-run and re-run loses nothing and charges nobody twice",
          "[examples][payments][crash]") {
    char pattern[] = "/tmp/eddy-payments-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    const std::string dir = pattern;
    kill_and_resume(options_on("sqlite:" + dir), 100, 700);
    std::filesystem::remove_all(dir);
}

TEST_CASE("the payment system on PostgreSQL killed mid-run and re-run loses nothing and charges "
          "nobody twice",
          "[examples][payments][crash][postgres]") {
    if (!payments::has_postgres()) {
        WARN("built without eddy::postgres: nothing to test");
        return;
    }
    const char* conninfo = std::getenv("EDDY_PG_CONNINFO");
    if (conninfo == nullptr || *conninfo == '\0') {
        FAIL("EDDY_PG_CONNINFO is not set: the payment system's PostgreSQL tests need a server. "
             "Run them with scripts/test (it starts a throwaway server), or: source "
             "scripts/lib/postgres.sh && postgres_start, then run the tests, then postgres_stop");
    }
    const payments::test::test_schemas schemas(conninfo, "eddy_payments_crash");
    const std::string& prefix = schemas.prefix();
    // Later kills: connecting, creating five schemas' tables and opening the services take a
    // run its first second or two (under a sanitizer); orders are placed after.
    kill_and_resume(options_on(std::string("postgres:") + conninfo, prefix), 1000, 5000);
}
