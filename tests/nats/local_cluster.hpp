// tests/nats/local_cluster.hpp - a 3-node JetStream cluster of nats-server child processes owned
// by one test (free loopback ports, store directories in a temporary directory), for fault
// tests that kill and restart nodes: the cluster of EDDY_NATS_URL is shared by the other tests
// and must stay whole.
#pragma once

#include <catch2/catch.hpp>

#include <arpa/inet.h>  // htonl, ntohs
#include <cerrno>       // errno
#include <chrono>       // std::chrono
#include <csignal>      // SIGKILL
#include <cstdlib>      // mkdtemp
#include <filesystem>   // std::filesystem
#include <netinet/in.h> // sockaddr_in
#include <spawn.h>      // posix_spawnp
#include <string>       // std::string, std::to_string
#include <sys/socket.h> // socket, bind, getsockname, connect
#include <sys/wait.h>   // waitpid
#include <thread>       // std::this_thread::sleep_for
#include <unistd.h>     // close
#include <vector>       // std::vector

extern char** environ; // NOLINT: POSIX declares it nowhere

namespace eddy::test::nats {

class local_cluster {
public:
    static constexpr int nodes = 3;

    local_cluster() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "eddy-fault.XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) {
            FAIL("local_cluster: mkdtemp failed");
        }
        m_dir = tmpl;
        for (int i = 0; i < nodes; ++i) {
            m_client.push_back(free_port());
            m_cluster.push_back(free_port());
        }
        m_pids.assign(nodes, -1);
        for (int i = 0; i < nodes; ++i) {
            start(i);
        }
        for (int i = 0; i < nodes; ++i) {
            wait_listening(i);
        }
    }
    local_cluster(const local_cluster&) = delete;
    local_cluster& operator=(const local_cluster&) = delete;
    ~local_cluster() {
        for (int i = 0; i < nodes; ++i) {
            kill(i);
        }
        std::error_code ec;
        std::filesystem::remove_all(m_dir, ec);
    }

    // nats://127.0.0.1:<client port>, node 0 first.
    [[nodiscard]] std::vector<std::string> urls() const {
        std::vector<std::string> out;
        for (const int p : m_client) {
            out.push_back("nats://127.0.0.1:" + std::to_string(p));
        }
        return out;
    }

    // Starts node `i` (again: same ports, same store directory).
    void start(int i) {
        std::string routes;
        for (const int p : m_cluster) {
            routes +=
                (routes.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(p);
        }
        const std::string name = "n" + std::to_string(i);
        std::vector<std::string> args{"nats-server",
                                      "-n",
                                      name,
                                      "-a",
                                      "127.0.0.1",
                                      "-p",
                                      std::to_string(m_client[static_cast<std::size_t>(i)]),
                                      "-js",
                                      "-sd",
                                      m_dir + "/" + name,
                                      "--cluster_name",
                                      "fault",
                                      "--cluster",
                                      "nats://127.0.0.1:" +
                                          std::to_string(m_cluster[static_cast<std::size_t>(i)]),
                                      "--routes",
                                      routes,
                                      "-l",
                                      m_dir + "/" + name + ".log"};
        std::vector<char*> argv;
        for (std::string& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        pid_t pid = -1;
        if (posix_spawnp(&pid, "nats-server", nullptr, nullptr, argv.data(), environ) != 0) {
            FAIL("local_cluster: cannot start nats-server (is it installed? scripts/test "
                 "installs it)");
        }
        m_pids[static_cast<std::size_t>(i)] = pid;
    }

    // SIGKILLs node `i` (no clean shutdown: what a crash or power loss does to a process).
    void kill(int i) {
        pid_t& pid = m_pids[static_cast<std::size_t>(i)];
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            int status = 0;
            waitpid(pid, &status, 0);
            pid = -1;
        }
    }

    // Waits (at most 10 s) until node `i` accepts connections.
    void wait_listening(int i) const {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!accepts(m_client[static_cast<std::size_t>(i)])) {
            if (std::chrono::steady_clock::now() > deadline) {
                FAIL("local_cluster: node " << i << " does not listen after 10 s; logs in "
                                            << m_dir);
            }
            // Polling a process we started: there is no event to wait for.
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

private:
    static int free_port() {
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t len = sizeof(a);
        if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
            ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            ::close(s);
            FAIL("local_cluster: no free port");
        }
        ::close(s);
        return ntohs(a.sin_port);
    }

    static bool accepts(int port) {
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
        ::close(s);
        return ok;
    }

    std::string m_dir;
    std::vector<int> m_client;
    std::vector<int> m_cluster;
    std::vector<pid_t> m_pids;
};

} // namespace eddy::test::nats
