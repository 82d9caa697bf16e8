// tests/nats/nats_harness.hpp - what the eddy::nats tests share: the servers' URLs (from
// EDDY_NATS_URL, set by scripts/test), a fresh prefix per bus so tests never see each other's
// topics, a small codec of the test payloads, and the conformance harness on a thread pool.
#pragma once

#include <catch2/catch.hpp>

#include <atomic>      // std::atomic
#include <chrono>      // std::chrono
#include <cstdlib>     // std::getenv
#include <random>      // std::random_device
#include <string>      // std::string, std::to_string, std::stoi
#include <string_view> // std::string_view
#include <type_traits> // std::is_same_v
#include <unistd.h>    // getpid
#include <utility>     // std::move

#include <bus/conformance/message_bus_suite.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/es/decode_error.hpp>
#include <eddy/nats/nats_bus.hpp>

namespace eddy::test::nats {

// The servers; a test without them fails (never skips) and says how to get them.
inline std::string server_urls() {
    const char* urls = std::getenv("EDDY_NATS_URL");
    if (urls == nullptr || *urls == '\0') {
        FAIL("EDDY_NATS_URL is not set: the eddy::nats tests need a NATS JetStream server. "
             "Run them through scripts/test (it starts a 3-node cluster on loopback), or "
             "`source scripts/lib/nats.sh && nats_start` and run them in that shell.");
    }
    return urls;
}

// A prefix no other bus of any test run uses: its topics, groups and marks are its own.
inline std::string fresh_prefix() {
    static std::atomic<int> counter{0};
    static const unsigned salt = std::random_device{}();
    return "t" + std::to_string(::getpid()) + "-" + std::to_string(salt % 100000) + "-" +
           std::to_string(counter.fetch_add(1));
}

inline eddy::nats_bus_options test_options() {
    eddy::nats_bus_options o;
    o.urls = {server_urls()};
    o.prefix = fresh_prefix();
    o.storage = eddy::nats_storage::memory; // throwaway servers: no disk
    o.fetch_wait = std::chrono::milliseconds(50);
    o.ack_wait = std::chrono::seconds(10);
    o.name = "eddy-tests";
    return o;
}

// Bytes of the test payloads: parcel as "<n>|<note>", int and std::string as text. A parcel
// whose note starts with '!' encodes but does not decode (an undecodable record).
struct test_codec {
    template <class T>
    std::string encode_value(const T& v) const {
        if constexpr (std::is_same_v<T, eddy::test::bus::parcel>) {
            return std::to_string(v.n) + "|" + v.note;
        } else if constexpr (std::is_same_v<T, std::string>) {
            return v;
        } else {
            return std::to_string(v);
        }
    }
    template <class T>
    T decode_value(std::string_view bytes) const {
        if constexpr (std::is_same_v<T, eddy::test::bus::parcel>) {
            const std::size_t bar = bytes.find('|');
            if (bar == std::string_view::npos || bytes.substr(bar + 1, 1) == "!") {
                throw eddy::decode_error("test_codec: not a parcel: '" + std::string(bytes) + "'");
            }
            return T{std::stoi(std::string(bytes.substr(0, bar))),
                     std::string(bytes.substr(bar + 1))};
        } else if constexpr (std::is_same_v<T, std::string>) {
            return std::string(bytes);
        } else {
            return static_cast<T>(std::stoll(std::string(bytes)));
        }
    }
};

using test_bus = eddy::nats_bus<eddy::thread_pool, test_codec>;

// The conformance harness (tests/bus/conformance/message_bus_suite.hpp): a fresh bus (fresh
// prefix) on a pool of 2 threads; scenarios run with sync_wait.
struct nats_harness {
    using bus_type = test_bus;
    static constexpr bool virtual_time = false;

    eddy::thread_pool pool{2};
    bus_type b{pool, test_codec{}, test_options()};

    bus_type& bus() { return b; }
    template <class A>
    decltype(auto) run(A a) {
        return eddy::sync_wait(std::move(a));
    }
};

} // namespace eddy::test::nats
