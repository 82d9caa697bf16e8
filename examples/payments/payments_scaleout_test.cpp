// The payment system spread over three processes sharing one PostgreSQL and a NATS JetStream
// cluster (EDDY_PG_CONNINFO, EDDY_NATS_URL: scripts/test starts both): one is killed with
// SIGKILL mid-run; the others take over its sagas and finish, and over the union nothing is
// lost, nobody is charged or shipped twice, and the ledger matches the read model.
#include "payments.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
}

payments::run_options instance_options(const std::string& conninfo, const std::string& urls,
                                       const std::string& prefix, const std::string& name,
                                       std::size_t first, std::size_t orders) {
    payments::run_options o;
    o.store = "postgres:" + conninfo;
    o.bus = "nats:" + urls;
    o.schema_prefix = prefix;
    o.instance = name;
    o.first_order = first;
    o.orders = orders;
    o.concurrency = 16;
    o.failures = {
        .decline = 0.1, .out_of_stock = 0.1, .flaky = 0.2, .poison = 0.02, .duplicate = 0.2};
    return o;
}

struct child {
    pid_t pid = -1;
    int report_fd = -1;   // the child writes "<sagas ended> <taken over>" here before it exits
    int progress_fd = -1; // ... and one byte here once it has ended 10 sagas
};

child start(const payments::run_options& options) {
    int report[2];
    int progress[2];
    REQUIRE(pipe(report) == 0);
    REQUIRE(pipe(progress) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(report[0]);
        close(progress[0]);
        auto o = options;
        const int signal_fd = progress[1];
        o.progress = [signal_fd, signalled = false](std::size_t done, std::size_t) mutable {
            if (done >= 10 && !signalled) {
                signalled = true;
                (void)!write(signal_fd, "x", 1);
            }
        };
        int code = 2;
        try {
            const auto r = payments::run(o);
            const std::string line =
                std::to_string(r.sagas_ended) + " " + std::to_string(r.taken_over) + "\n";
            (void)!write(report[1], line.data(), line.size());
            code = r.consistent() ? 0 : 1;
            if (code != 0) {
                std::fprintf(stderr,
                             "instance %s inconsistent: orders %zu completed %zu compensated %zu "
                             "stuck %zu net %ld read model %ld most charges %d reserved %zu "
                             "shipped %zu most shipments %d\n",
                             o.instance.c_str(), r.orders, r.completed, r.compensated, r.stuck,
                             r.charged_net_cents, r.read_model_paid_cents, r.most_charges_per_order,
                             r.reserved_orders, r.shipped_orders, r.most_shipments_per_order);
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "instance %s: %s\n", o.instance.c_str(), e.what());
        }
        _exit(code);
    }
    close(report[1]);
    close(progress[1]);
    return child{pid, report[0], progress[0]};
}

// Waits for the child to exit; its exit code (-1 when killed) and report line.
std::pair<int, std::string> finish(const child& c) {
    std::string line;
    char buf[128];
    for (ssize_t n = 0; (n = read(c.report_fd, buf, sizeof buf)) > 0;) {
        line.append(buf, static_cast<std::size_t>(n));
    }
    close(c.report_fd);
    close(c.progress_fd);
    int status = 0;
    waitpid(c.pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, line};
}

} // namespace

TEST_CASE("the payment system on three processes, one killed mid-run: the others finish its "
          "work, nothing lost, nobody charged twice",
          "[examples][payments][crash][postgres][nats]") {
    if (!payments::has_nats()) {
        WARN("built without eddy::nats or eddy::postgres: nothing to test");
        return;
    }
    const std::string conninfo = env("EDDY_PG_CONNINFO");
    const std::string urls = env("EDDY_NATS_URL");
    if (conninfo.empty() || urls.empty()) {
        FAIL("EDDY_PG_CONNINFO and EDDY_NATS_URL must be set: this test needs a PostgreSQL server "
             "and a NATS cluster. Run it with scripts/test (it starts both), or source "
             "scripts/lib/postgres.sh and scripts/lib/nats.sh, then postgres_start and "
             "nats_start");
    }
    // Schemas and streams of this test's own (the streams' prefix follows the schemas').
    const payments::test::test_schemas schemas(conninfo, "eddy_scaleout");
    const std::string& prefix = schemas.prefix();

    const child a = start(instance_options(conninfo, urls, prefix, "a", 1, 100));
    const child b = start(instance_options(conninfo, urls, prefix, "b", 101, 100));
    const child c = start(instance_options(conninfo, urls, prefix, "c", 201, 100));
    struct kill_at_end { // a failed REQUIRE leaves no process behind
        pid_t pids[3];
        ~kill_at_end() {
            for (const pid_t p : pids) {
                if (kill(p, SIGKILL) == 0) {
                    waitpid(p, nullptr, 0);
                }
            }
        }
    } killer{{a.pid, b.pid, c.pid}};
    // b is killed once it has ended 10 sagas (it is placing orders and running others then),
    // after a further random delay.
    char byte = 0;
    REQUIRE(read(b.progress_fd, &byte, 1) == 1);
    std::mt19937 random(20261127);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 300)(random)));
    kill(b.pid, SIGKILL);
    const auto [b_code, b_line] = finish(b);
    const auto [a_code, a_line] = finish(a);
    const auto [c_code, c_line] = finish(c);
    CHECK(b_code == -1); // killed mid-run
    CHECK(a_code == 0);  // finished, consistent over the union
    CHECK(c_code == 0);
    std::size_t a_ended = 0, a_taken = 0, c_ended = 0, c_taken = 0;
    REQUIRE(std::sscanf(a_line.c_str(), "%zu %zu", &a_ended, &a_taken) == 2);
    REQUIRE(std::sscanf(c_line.c_str(), "%zu %zu", &c_ended, &c_taken) == 2);
    CAPTURE(a_ended, a_taken, c_ended, c_taken);
    CHECK(a_ended > 0); // the sagas were shared between the processes
    CHECK(c_ended > 0);
    CHECK(a_taken + c_taken > 0); // b's sagas in flight were taken over

    // An auditor instance placing nothing: finds nothing left to end, and checks the union.
    auto audit_options = instance_options(conninfo, urls, prefix, "audit", 1, 0);
    const auto r = payments::run(audit_options);
    CAPTURE(r.orders, r.completed, r.compensated, r.stuck, r.resumed);
    CHECK(r.resumed == 0);
    CHECK(r.orders >= 200); // a's and c's, and those b placed before it died
    CHECK(r.orders <= 300);
    payments::test::check_ended_exactly_once(r);
    if (r.stuck > 0) { // what their sagas went through, for the failure's report
        for (const auto& row : payments::list_orders(audit_options.store, "placed", prefix)) {
            for (const auto& line :
                 payments::show_saga(audit_options.store, row.order_id, prefix)) {
                WARN(line);
            }
        }
    }
}
