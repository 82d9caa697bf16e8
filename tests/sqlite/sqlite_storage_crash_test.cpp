// The crash test of eddy::sqlite_storage (SQLite issue, "Crash safety"): a forked child commits
// units of work (two events to one stream, one to another, an outbox message and a checkpoint)
// one after the other, relaying (claiming and marking published) the outbox every few units,
// telling the parent through a pipe each unit whose commit returned and each message marked
// published, and is killed with SIGKILL at a random moment. After each kill the parent reopens
// the file and checks: every unit acknowledged before the kill is present whole, none is
// partial, positions have no gaps, the checkpoint written with the last unit present is there,
// and the outbox holds exactly one message per present unit, published for every one
// acknowledged as published and pending for every one never claimed. Hundreds of runs on one
// file.
// Also: a file size limit (ulimit -f) standing in for a full disk gives a clear error and no
// partial append.
// synchronous=NORMAL: a SIGKILL loses nothing the OS was handed (only a power loss could).
#include <eddy/sqlite/sqlite_storage.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/sqlite/sqlite_checkpoint_store.hpp>
#include <eddy/sqlite/sqlite_error.hpp>
#include <eddy/sqlite/sqlite_event_store.hpp>
#include <eddy/sqlite/sqlite_outbox_store.hpp>
#include <eddy/stream/to_vector.hpp>

#include <sqlite/temp_dir.hpp>

namespace {

struct item_added {
    static constexpr std::string_view event_name = "item_added";
    std::string unit; // "r<run>-u<k>"
    int part = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(item_added, unit, part)
using events = std::variant<item_added>;
using store_type = eddy::sqlite_event_store<events>;
using eddy::test::sqlite::temp_dir;

eddy::sqlite_options fast() {
    eddy::sqlite_options o;
    o.synchronous = eddy::sqlite_options::sync::normal;
    return o;
}

std::string unit_name(int run, int k) {
    return "r" + std::to_string(run) + "-u" + std::to_string(k);
}

// Each run has an outbox of its own: the parent reads only that run's messages.
eddy::sqlite_outbox_options outbox_of(int run) {
    return eddy::sqlite_outbox_options{.name = "run-" + std::to_string(run)};
}

// The message announcing unit k of a run (its payload: k).
eddy::outbox_message<int> announce(int k) {
    eddy::outbox_message<int> m;
    m.topic = "units";
    m.aggregate_id = "a" + std::to_string(k % 5);
    m.payload = k;
    return m;
}

void acknowledge(int fd, int value) {
    if (write(fd, &value, sizeof value) != sizeof value) {
        _exit(2);
    }
}

[[noreturn]] void child(const std::string& path, int run, int ack_fd) {
    {
        eddy::thread_pool pool(1);
        eddy::sqlite_storage db(path, pool, fast());
        store_type events(db);
        eddy::sqlite_checkpoint_store checkpoints(db);
        eddy::sqlite_outbox_store<int> outbox(db, outbox_of(run));
        for (int k = 0;; ++k) {
            eddy::sqlite_unit_of_work unit = db.begin();
            const std::string name = unit_name(run, k);
            events.append(unit, "a" + std::to_string(k % 5), eddy::expected_version::any(),
                          {item_added{name, 0}, item_added{name, 1}});
            events.append(unit, "b", eddy::expected_version::any(), {item_added{name, 2}});
            checkpoints.save_checkpoint(unit, "r" + std::to_string(run),
                                        static_cast<std::uint64_t>(k) + 1);
            outbox.enqueue(unit, {announce(k)});
            eddy::sync_wait(db.commit(std::move(unit)));
            acknowledge(ack_fd, k); // acknowledged: must survive
            if (k % 3 == 2) {       // a relay round: claim, publish, mark
                const auto claimed =
                    eddy::sync_wait(outbox.claim("relay", 2, std::chrono::hours(1)));
                std::vector<eddy::uuid> ids;
                for (const auto& m : claimed) {
                    ids.push_back(m.id);
                }
                eddy::sync_wait(outbox.mark_published("relay", ids));
                for (const auto& m : claimed) {
                    acknowledge(ack_fd, -1 - m.payload); // marked published: must survive
                }
            }
        }
    }
}

// Appends 4 KiB events until the file size limit makes a commit fail; acknowledges each
// append through `ack_fd`. Exit status 0: the failure was an eddy::sqlite_error naming the file
// with SQLite's disk-full or I/O-error code.
[[noreturn]] void fill_disk(const std::string& path, int ack_fd) {
    std::signal(SIGXFSZ, SIG_IGN); // over the limit, write() fails with EFBIG instead
    int status = 5;
    {
        eddy::thread_pool pool(1);
        eddy::sqlite_storage db(path, pool, fast());
        store_type events(db);
        const rlimit limit{256 * 1024, 256 * 1024};
        setrlimit(RLIMIT_FSIZE, &limit);
        try {
            for (int k = 0;; ++k) {
                eddy::sync_wait(events.append("big", eddy::expected_version::exact(k),
                                              {item_added{std::string(4096, 'x'), k}}));
                if (write(ack_fd, &k, sizeof k) != sizeof k) {
                    _exit(2);
                }
            }
        } catch (const eddy::sqlite_error& e) {
            const bool clear = (e.code() == SQLITE_FULL || e.code() == SQLITE_IOERR) &&
                               std::string(e.what()).find(path) != std::string::npos;
            status = clear ? 0 : 3;
        } catch (...) {
            status = 4;
        }
    }
    _exit(status);
}

} // namespace

TEST_CASE("sqlite_storage: a full disk is a clear error and leaves no partial append",
          "[sqlite][sqlite_storage][crash]") {
    temp_dir dir;
    const std::string path = dir.file("full.db");
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        fill_disk(path, fds[1]);
    }
    close(fds[1]);
    int status = -1;
    waitpid(pid, &status, 0);
    int acked = -1;
    for (int k = 0; read(fds[0], &k, sizeof k) == sizeof k;) {
        acked = k;
    }
    close(fds[0]);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(acked > 5); // some appends fitted before the limit

    eddy::thread_pool pool(1);
    store_type events(eddy::sqlite_storage(path, pool, fast()));
    const auto all = eddy::sync_wait(eddy::to_vector(events.read_stream("big", 1)));
    REQUIRE(all.size() == static_cast<std::size_t>(acked) + 1); // the failed one is absent
    for (std::size_t i = 0; i < all.size(); ++i) {
        REQUIRE(std::get<item_added>(all[i].payload).part == static_cast<int>(i));
    }
}

TEST_CASE("sqlite_storage: units of work killed with SIGKILL are whole or absent",
          "[sqlite][sqlite_storage][crash]") {
    temp_dir dir;
    const std::string path = dir.file("crash.db");
    constexpr int runs = 200;
    std::mt19937 random(11272026); // fixed: a failure reproduces
    std::uniform_int_distribution<int> delay_us(0, 30000);
    std::size_t total_units = 0;
    std::uint64_t checked = 0; // events verified by earlier runs
    int killed = 0;

    for (int run = 0; run < runs; ++run) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        const pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(path, run, fds[1]);
        }
        close(fds[1]);
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        killed += WIFSIGNALED(status) ? 1 : 0;
        int acked = -1;                // the last unit acknowledged
        std::set<int> acked_published; // units whose message was acknowledged as published
        for (int k = 0; read(fds[0], &k, sizeof k) == sizeof k;) {
            if (k >= 0) {
                acked = k;
            } else {
                acked_published.insert(-1 - k);
            }
        }
        close(fds[0]);

        eddy::thread_pool pool(1);
        eddy::sqlite_storage db(path, pool, fast());
        store_type events(db);
        eddy::sqlite_checkpoint_store checkpoints(db);
        // Earlier runs checked the events before `checked`: read this run's, gap-free after them.
        const auto fresh = eddy::sync_wait(eddy::to_vector(events.read_all(checked + 1)));
        std::map<int, int> parts_of_unit; // this run's units
        bool contiguous = true;
        const std::string prefix = "r" + std::to_string(run) + "-u";
        for (std::size_t i = 0; i < fresh.size(); ++i) {
            contiguous = contiguous && fresh[i].global_position == checked + i + 1;
            const item_added& e = std::get<item_added>(fresh[i].payload);
            contiguous = contiguous && e.unit.rfind(prefix, 0) == 0;
            ++parts_of_unit[std::stoi(e.unit.substr(prefix.size()))];
        }
        REQUIRE(contiguous); // no gap, and only this run's units after the earlier ones
        checked += fresh.size();
        CAPTURE(run, acked);
        int present = 0; // units 0..present-1 are there, whole
        for (const auto& [k, parts] : parts_of_unit) {
            REQUIRE(k == present); // committed one after the other: a prefix
            REQUIRE(parts == 3);   // never partial
            ++present;
        }
        REQUIRE(present >= acked + 1); // nothing acknowledged was lost
        REQUIRE(present <= acked + 2); // at most the one in flight besides
        REQUIRE(eddy::sync_wait(checkpoints.load_checkpoint("r" + std::to_string(run))) ==
                static_cast<std::uint64_t>(present));
        // The outbox: one message per present unit, in order; published as acknowledged.
        eddy::sqlite_outbox_store<int> outbox(db, outbox_of(run));
        const auto messages = eddy::sync_wait(outbox.messages());
        REQUIRE(messages.size() == static_cast<std::size_t>(present));
        std::size_t published = 0;
        for (std::size_t i = 0; i < messages.size(); ++i) {
            REQUIRE(messages[i].payload == static_cast<int>(i));
            const bool is_published = messages[i].status == eddy::outbox_status::published;
            if (acked_published.contains(static_cast<int>(i))) {
                REQUIRE(is_published);
            }
            published += is_published ? 1 : 0;
        }
        REQUIRE(published >= acked_published.size());
        REQUIRE(eddy::sync_wait(outbox.stats()).pending == messages.size() - published);
        total_units += static_cast<std::size_t>(present);
    }
    CHECK(killed == runs);
    CHECK(total_units > static_cast<std::size_t>(runs)); // the kills came mid-way, not first
}
