// The crash test of the PostgreSQL stores (PostgreSQL issue, "Crash test"): in each round two
// forked processes share one schema. Each commits units of work (two events to a shared account
// stream, one to its own log stream, and one outbox message announcing the unit), telling the
// parent through a pipe each unit whose commit returned, while an outbox_relay of its own
// (distinct relay ids, a short lease) publishes the round's outbox into an inbox-protected
// consumer: one unit of work that marks the message in a postgres_inbox_store and appends an
// effect event; a redelivery fails that unit with duplicate_message and leaves no second
// effect. The parent SIGKILLs one process at a random moment (after a random number of its
// units, right after one of its deliveries, or while it only relays), then lets the other one
// finish its units and drain the outbox, which takes over the dead relay's messages once their
// lease has ended. It checks: every acknowledged unit is present whole (three events and its
// message), no unit is partial, at most the killed one's unit in flight is present without an
// acknowledgement; every message is published and has exactly one effect, no effect lacks its
// message, and each aggregate's effects follow its messages' order; the inbox holds every
// message. Over the rounds, the inbox must have rejected redeliveries (otherwise the
// exactly-once check would prove nothing).
// Processes fork before they start any thread (their pool and the storage's I/O thread); the
// parent opens its own storage only between rounds, with no child being forked meanwhile.
#include <eddy/postgres/postgres_storage.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <eddy/bus/record.hpp>
#include <eddy/core/stop_token.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/outbox/duplicate_message.hpp>
#include <eddy/outbox/outbox_relay.hpp>
#include <eddy/postgres/postgres_event_store.hpp>
#include <eddy/postgres/postgres_inbox_store.hpp>
#include <eddy/postgres/postgres_outbox_store.hpp>
#include <eddy/stream/to_vector.hpp>

#include <postgres/pg_test_schema.hpp>

namespace {

using namespace std::chrono_literals;
using eddy::test::postgres::conninfo;
using eddy::test::postgres::fresh_schema;

// A unit's events: parts 0 and 1 go to an account stream, part 2 to the process's log stream.
struct deposited {
    static constexpr std::string_view event_name = "deposited";
    int unit = 0; // process * 1000 + k
    int part = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(deposited, unit, part)

// The consumer's effect of one message, appended with its inbox mark.
struct effect {
    static constexpr std::string_view event_name = "effect";
    std::string message_id;
    int unit = 0;    // the message's payload
    int process = 0; // whose relay delivered it
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(effect, message_id, unit, process)

using event_types = std::variant<deposited, effect>;
using store_type = eddy::postgres_event_store<event_types>;
using outbox_type = eddy::postgres_outbox_store<int>;

constexpr int units_per_process = 24;
constexpr int accounts = 3;
constexpr const char* consumer = "effects";

int unit_code(int process, int k) { return process * 1000 + k; }
std::string account_of(int k) { return "acct-" + std::to_string(k % accounts); }

// What a process tells the parent, one fixed-size record per write (atomic on a pipe).
enum class kind : std::int32_t {
    acked,     // unit `value` committed: must survive
    attempt,   // a delivery of message `value` starts
    delivered, // its effect committed
    rejected,  // the inbox rejected it: delivered before
    appended,  // all units committed; only relaying from now on
};
struct report {
    kind what;
    std::int32_t value;
};

void tell(int fd, kind what, int value) {
    const report r{what, value};
    if (write(fd, &r, sizeof r) != sizeof r) {
        _exit(2);
    }
}

eddy::postgres_options options_of(const std::string& schema) {
    eddy::postgres_options o;
    o.schema = schema;
    o.pool_size = 3;
    return o;
}

// Each round has an outbox and streams of its own.
struct round_names {
    int round = 0;
    [[nodiscard]] std::string stream(const std::string& name) const {
        return "r" + std::to_string(round) + "-" + name;
    }
    [[nodiscard]] eddy::postgres_outbox_options outbox() const {
        eddy::postgres_outbox_options o;
        o.name = "round-" + std::to_string(round);
        return o;
    }
};

// The bus the relay publishes to: delivers each message at once into the inbox-protected
// consumer (so a publish returns only once the effect is committed or rejected).
struct consumer_bus {
    eddy::postgres_storage* db;
    store_type* events;
    eddy::postgres_inbox_store* inbox;
    round_names names;
    int process;
    int fd;

    template <class T>
    eddy::task<eddy::publish_result> publish(std::string topic, std::string key, T value,
                                             eddy::headers h) {
        (void)topic;
        (void)key;
        return deliver(this, std::string(h.get(eddy::message_id_header).value_or("")), value);
    }

    static eddy::task<eddy::publish_result> deliver(consumer_bus* self, std::string id, int unit) {
        tell(self->fd, kind::attempt, unit);
        auto work = self->db->begin();
        self->inbox->mark_processed(work, consumer, id);
        std::vector<eddy::proposed_event<event_types>> batch;
        batch.emplace_back(effect{id, unit, self->process});
        self->events->append(work, self->names.stream("effects"), eddy::expected_version::any(),
                             std::move(batch));
        bool duplicate = false;
        try {
            (void)co_await self->db->commit(std::move(work));
        } catch (const eddy::duplicate_message&) {
            duplicate = true; // acknowledged without a second effect
        }
        tell(self->fd, duplicate ? kind::rejected : kind::delivered, unit);
        co_return eddy::publish_result{};
    }
};

// One process of a round: commits its units while its relay runs, tells the parent, waits for
// the parent to close `control_fd`, then relays until the outbox has nothing pending (the
// other process's leases ending) and exits 0. Any failure: a message on stderr, exit 3.
[[noreturn]] void process_main(const std::string& schema, int round, int process, int ack_fd,
                               int control_fd) {
    int status = 0;
    try {
        const round_names names{round};
        eddy::thread_pool pool(2);
        eddy::postgres_storage db(conninfo(), pool, options_of(schema));
        store_type events(db);
        outbox_type outbox(db, names.outbox());
        eddy::postgres_inbox_store inbox(db);
        consumer_bus bus{&db, &events, &inbox, names, process, ack_fd};
        eddy::outbox_relay_options relay_options;
        relay_options.relay_id = "relay-" + std::to_string(round) + "-" + std::to_string(process);
        relay_options.batch = 4;
        relay_options.lease = 400ms; // the other process takes a dead one's messages over soon
        relay_options.poll_interval = 50ms;
        eddy::outbox_relay relay(outbox, bus, pool, relay_options);
        std::atomic<bool> relay_ended{false};
        std::exception_ptr relay_failure; // written before relay_ended
        std::jthread relaying([&](std::stop_token stop) {
            try {
                eddy::sync_wait(eddy::with_stop_token(relay.run(), std::move(stop)));
            } catch (const eddy::operation_cancelled&) {
            } catch (...) {
                relay_failure = std::current_exception();
            }
            relay_ended = true;
        });

        for (int k = 0; k < units_per_process; ++k) {
            const int code = unit_code(process, k);
            auto unit = db.begin();
            events.append(unit, names.stream(account_of(k)), eddy::expected_version::any(),
                          {deposited{code, 0}, deposited{code, 1}});
            events.append(unit, names.stream("log-" + std::to_string(process)),
                          eddy::expected_version::any(), {deposited{code, 2}});
            eddy::outbox_message<int> m;
            m.topic = "units";
            m.aggregate_id = account_of(k);
            m.payload = code;
            outbox.enqueue(unit, {std::move(m)});
            (void)eddy::sync_wait(db.commit(std::move(unit)));
            tell(ack_fd, kind::acked, k);
        }
        tell(ack_fd, kind::appended, units_per_process);

        char c = 0;
        while (read(control_fd, &c, 1) > 0) { // until the parent closes it
        }
        // Nothing pending: every message published, the dead process's ones too once their
        // lease has ended, which only the passing of real time brings.
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!relay_ended && eddy::sync_wait(outbox.stats()).pending > 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                throw std::runtime_error("the outbox did not drain in 20 s");
            }
            eddy::sync_wait(eddy::sleep_for(pool, 20ms));
        }
        relaying.request_stop();
        relaying.join();
        if (relay_failure) {
            std::rethrow_exception(relay_failure);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "round %d, process %d: %s\n", round, process, e.what());
        status = 3;
    } catch (...) {
        status = 4;
    }
    _exit(status);
}

// When the parent kills the victim.
enum class trigger {
    after_unit,     // after its k-th acknowledged unit (k = -1: right after the fork), plus a
                    // random delay
    after_delivery, // right after its n-th committed effect (often before its relay marked
                    // the message published: the survivor redelivers it)
    while_relaying, // after all its units, while it only relays, plus a random delay
};

// Reads the records available on `fd` within `timeout` (-1: until one arrives or EOF) into
// `out`; false at EOF.
bool read_reports(int fd, int timeout_ms, std::vector<report>& out) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) {
        return true;
    }
    report r{};
    const ssize_t n = read(fd, &r, sizeof r);
    if (n != sizeof r) {
        return false;
    }
    out.push_back(r);
    return true;
}

// A forked process, its pipe ends and what it reported. A test failing mid-round kills and
// reaps the processes it left running.
struct process_handle {
    pid_t pid = -1;
    int ack_fd = -1;
    int control_fd = -1;
    std::vector<report> reports;

    process_handle() = default;
    process_handle(const process_handle&) = delete;
    process_handle& operator=(const process_handle&) = delete;
    ~process_handle() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            (void)wait_exit();
        }
        close_control();
        if (ack_fd >= 0) {
            close(ack_fd);
        }
    }
    // Its wait status, once it has ended.
    int wait_exit() {
        int status = 0;
        waitpid(std::exchange(pid, -1), &status, 0);
        return status;
    }
    void close_control() {
        if (control_fd >= 0) {
            close(std::exchange(control_fd, -1));
        }
    }
};

} // namespace

TEST_CASE("postgres: two processes append and relay, one is killed with SIGKILL: nothing "
          "acknowledged is lost, no message has a second effect",
          "[postgres][postgres_outbox_store][postgres_inbox_store][crash]") {
    fresh_schema schema;
    constexpr int rounds = 12;
    std::mt19937 random(11272027); // fixed: a failure reproduces
    int killed = 0;
    int total_attempts = 0;
    int total_rejected = 0;
    std::size_t total_messages = 0;
    int unacknowledged_present = 0; // units the victim committed but did not acknowledge
    int delivered_by[2] = {0, 0};   // effects committed by the victims' relays, the survivors'

    for (int round = 0; round < rounds; ++round) {
        const round_names names{round};
        process_handle procs[2];
        int pipes[2][2][2]; // [process][ack, control][read, write]
        for (auto& p : pipes) {
            REQUIRE(pipe(p[0]) == 0);
            REQUIRE(pipe(p[1]) == 0);
        }
        for (int i = 0; i < 2; ++i) {
            const pid_t pid = fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                for (int j = 0; j < 2; ++j) { // only its own ends stay open
                    close(pipes[j][0][0]);
                    close(pipes[j][1][1]);
                    if (j != i) {
                        close(pipes[j][0][1]);
                        close(pipes[j][1][0]);
                    }
                }
                process_main(schema.name(), round, i, pipes[i][0][1], pipes[i][1][0]);
            }
            procs[i].pid = pid;
        }
        for (int i = 0; i < 2; ++i) {
            close(pipes[i][0][1]);
            close(pipes[i][1][0]);
            procs[i].ack_fd = pipes[i][0][0];
            procs[i].control_fd = pipes[i][1][1];
        }

        const int victim = std::uniform_int_distribution<int>(0, 1)(random);
        const int survivor = 1 - victim;
        process_handle& v = procs[victim];
        const auto how = static_cast<trigger>(round % 3);
        const auto count = [&](kind what) {
            int n = 0;
            for (const report& r : v.reports) {
                n += r.what == what ? 1 : 0;
            }
            return n;
        };
        // Bounds a victim that never reaches its trigger (e.g. the survivor relayed everything).
        const auto give_up = std::chrono::steady_clock::now() + 10s;
        bool open = true;
        int delay_us = 0;
        if (how == trigger::after_unit) {
            const int k = std::uniform_int_distribution<int>(-1, units_per_process - 1)(random);
            while (open && count(kind::acked) < k + 1 &&
                   std::chrono::steady_clock::now() < give_up) {
                open = read_reports(v.ack_fd, 100, v.reports);
            }
            delay_us = std::uniform_int_distribution<int>(0, k < 0 ? 30000 : 3000)(random);
        } else if (how == trigger::after_delivery) {
            const int n = std::uniform_int_distribution<int>(1, 3)(random);
            while (open && count(kind::delivered) < n && count(kind::appended) == 0 &&
                   std::chrono::steady_clock::now() < give_up) {
                open = read_reports(v.ack_fd, 100, v.reports);
            }
        } else {
            while (open && count(kind::appended) == 0 &&
                   std::chrono::steady_clock::now() < give_up) {
                open = read_reports(v.ack_fd, 100, v.reports);
            }
            delay_us = std::uniform_int_distribution<int>(0, 100000)(random);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us)); // the random moment
        kill(v.pid, SIGKILL);
        int status = v.wait_exit();
        INFO("round " << round << ", victim " << victim << ", trigger " << static_cast<int>(how)
                      << " (exit status " << status << ")");
        REQUIRE(WIFSIGNALED(status)); // still running: it waits for the parent after its units
        ++killed;
        while (read_reports(v.ack_fd, -1, v.reports)) {
        }
        // The survivor finishes its units, then drains the outbox (the victim's messages too).
        procs[0].close_control();
        procs[1].close_control();
        process_handle& s = procs[survivor];
        while (read_reports(s.ack_fd, -1, s.reports)) {
        }
        status = s.wait_exit();
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);

        // What the processes acknowledged, and their deliveries.
        std::set<int> acked[2];
        for (int i = 0; i < 2; ++i) {
            for (const report& r : procs[i].reports) {
                if (r.what == kind::acked) {
                    acked[i].insert(r.value);
                }
                total_attempts += r.what == kind::attempt ? 1 : 0;
                total_rejected += r.what == kind::rejected ? 1 : 0;
                delivered_by[i == victim ? 0 : 1] += r.what == kind::delivered ? 1 : 0;
            }
        }
        REQUIRE(acked[survivor].size() == static_cast<std::size_t>(units_per_process));

        eddy::thread_pool pool(1);
        eddy::postgres_storage db(conninfo(), pool, options_of(schema.name()));
        store_type events(db);
        outbox_type outbox(db, names.outbox());
        eddy::postgres_inbox_store inbox(db);

        // Units: each present one whole (parts 0 and 1 in its account stream, 2 in its log).
        std::map<int, std::multiset<int>> parts; // unit code -> parts found where they belong
        for (int a = 0; a < accounts; ++a) {
            const auto stream = eddy::sync_wait(
                eddy::to_vector(events.read_stream(names.stream("acct-" + std::to_string(a)))));
            for (const auto& e : stream) {
                const deposited& d = std::get<deposited>(e.payload);
                REQUIRE((d.unit % 1000) % accounts == a);
                parts[d.unit].insert(d.part);
            }
        }
        for (int i = 0; i < 2; ++i) {
            const auto stream = eddy::sync_wait(
                eddy::to_vector(events.read_stream(names.stream("log-" + std::to_string(i)))));
            for (const auto& e : stream) {
                const deposited& d = std::get<deposited>(e.payload);
                REQUIRE(d.unit / 1000 == i);
                REQUIRE(d.part == 2);
                parts[d.unit].insert(d.part);
            }
        }
        int present[2] = {0, 0}; // units 0..present-1 of each process are there
        for (const auto& [code, found] : parts) {
            CAPTURE(code);
            REQUIRE(found == std::multiset<int>{0, 1, 2}); // never partial
            const int i = code / 1000;
            REQUIRE(code % 1000 == present[i]); // committed one after the other: a prefix
            ++present[i];
        }
        CAPTURE(present[0], present[1], acked[victim].size());
        REQUIRE(present[survivor] == units_per_process);
        // Nothing acknowledged lost; at most the unit in flight at the kill besides.
        REQUIRE(present[victim] >= static_cast<int>(acked[victim].size()));
        REQUIRE(present[victim] <= static_cast<int>(acked[victim].size()) + 1);
        unacknowledged_present += present[victim] - static_cast<int>(acked[victim].size());

        // The outbox: exactly one message per present unit, all published.
        const auto messages = eddy::sync_wait(outbox.messages());
        std::map<std::string, const eddy::outbox_message<int>*> by_id;
        std::set<int> announced;
        for (const auto& m : messages) {
            REQUIRE(m.status == eddy::outbox_status::published);
            REQUIRE(m.aggregate_id == account_of(m.payload % 1000));
            REQUIRE(announced.insert(m.payload).second);
            by_id[m.id.to_string()] = &m;
        }
        REQUIRE(announced.size() == parts.size());
        for (const auto& [code, found] : parts) {
            REQUIRE(announced.contains(code));
        }
        total_messages += messages.size();

        // Effects: exactly one per message, none without one, in each aggregate's order.
        const auto effects =
            eddy::sync_wait(eddy::to_vector(events.read_stream(names.stream("effects"))));
        std::set<std::string> effected;
        std::map<std::string, std::uint64_t> last_sequence; // per aggregate
        for (const auto& e : effects) {
            const effect& x = std::get<effect>(e.payload);
            CAPTURE(x.message_id, x.unit);
            REQUIRE(effected.insert(x.message_id).second); // no second effect
            const auto it = by_id.find(x.message_id);
            REQUIRE(it != by_id.end()); // no effect without its message
            REQUIRE(it->second->payload == x.unit);
            std::uint64_t& last = last_sequence[it->second->aggregate_id];
            REQUIRE(it->second->sequence > last);
            last = it->second->sequence;
        }
        REQUIRE(effected.size() == messages.size()); // none missing
        for (const auto& [id, m] : by_id) {
            REQUIRE(eddy::sync_wait(inbox.is_processed(consumer, id)));
        }
    }
    INFO("messages " << total_messages << ", delivery attempts " << total_attempts
                     << ", rejected by the inbox " << total_rejected
                     << ", units present but not acknowledged " << unacknowledged_present
                     << ", delivered by the victims " << delivered_by[0] << " and the survivors "
                     << delivered_by[1]);
    CHECK(killed == rounds);
    // The relays of both processes shared the work.
    CHECK(delivered_by[0] > 0);
    CHECK(delivered_by[1] > 0);
    // Redeliveries really happened, and the inbox turned them away.
    CHECK(total_rejected >= 1);
    CHECK(total_attempts > static_cast<int>(total_messages));
}
