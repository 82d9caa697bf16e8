// examples/payments/backend.hpp - where the payment system keeps its data: in memory, or in
// SQLite files (one per service, as separate services would have separate databases). The
// services and the orchestrator are written against eddy's storage concepts only; a backend
// names the store types and opens them.
#pragma once

#include <chrono>     // std::chrono::milliseconds
#include <filesystem> // std::filesystem::create_directories
#include <string>     // std::string
#include <vector>     // std::vector

#include <eddy/core/task.hpp>
#include <eddy/core/thread_pool.hpp>
#include <eddy/es/memory_checkpoint_store.hpp>
#include <eddy/es/memory_event_store.hpp>
#include <eddy/es/memory_storage.hpp>
#include <eddy/outbox/memory_idempotency_store.hpp>
#include <eddy/outbox/memory_inbox_store.hpp>
#include <eddy/outbox/memory_outbox_store.hpp>
#include <eddy/saga/memory_saga_log.hpp>
#include <eddy/sqlite/sqlite_checkpoint_store.hpp>
#include <eddy/sqlite/sqlite_event_store.hpp>
#include <eddy/sqlite/sqlite_idempotency_store.hpp>
#include <eddy/sqlite/sqlite_inbox_store.hpp>
#include <eddy/sqlite/sqlite_outbox_store.hpp>
#include <eddy/sqlite/sqlite_saga_log.hpp>
#include <eddy/sqlite/sqlite_storage.hpp>

#include "order_view.hpp"

namespace payments {

/// The instances of a system spread over several processes: each process is an instance with
/// a lease it renews; a saga belongs to the instance that claimed it, and passes to a live one
/// when its owner's lease ends (the owner died); a role (the read model's projector) is held by
/// one instance at a time. One process alone needs none of this: every claim is its own.
struct solo_instance {
    eddy::task<void> join() { co_return; }
    eddy::task<void> renew() { co_return; }
    eddy::task<void> leave() { co_return; }
    eddy::task<bool> claim(std::string) { co_return true; }
    eddy::task<void> release(std::string) { co_return; }
    eddy::task<std::vector<std::string>> take_over() { co_return std::vector<std::string>{}; }
    eddy::task<bool> lead(std::string) { co_return true; }
    /// Brings the read model `v` up to date through projector `p`.
    template <class Projector, class View>
    eddy::task<void> project(Projector* p, View* v, std::string) {
        (void)co_await p->catch_up(*v);
    }
};

/// Everything in memory: gone when the process ends (tests, benchmarks).
struct memory_backend {
    using storage_type = eddy::memory_storage;
    template <class Events>
    using event_store = eddy::memory_event_store<Events>;
    template <class Payload>
    using outbox_store = eddy::memory_outbox_store<Payload>;
    using inbox_store = eddy::memory_inbox_store;
    using keys_type = eddy::memory_idempotency_store<std::string>;
    template <class Ctx>
    using saga_log = eddy::memory_saga_log<Ctx>;
    using checkpoint_store = eddy::memory_checkpoint_store;
    using order_view = memory_order_view;
    /// How long a saga step waits for its service's reply (see system.hpp).
    static constexpr std::chrono::milliseconds step_timeout{250};

    explicit memory_backend(eddy::thread_pool&) {}
    storage_type open(const std::string&) const { return {}; }
    storage_type open(const std::string&, eddy::thread_pool&) const { return {}; }
    keys_type keys(const storage_type&) const { return {}; }
    template <class Ctx>
    saga_log<Ctx> saga_log_of(const storage_type&) const {
        return {};
    }
    order_view view_of(const storage_type&) const { return {}; }
    using instance_type = solo_instance;
    instance_type instance_of(const storage_type&, const std::string&) const { return {}; }
};

/// SQLite files `<directory>/<database>.db` (created when missing): a re-run on the same
/// directory continues where the last one stopped. synchronous=NORMAL: in WAL mode a killed
/// process loses nothing the OS was handed; only an OS crash or power loss could lose the last
/// commits (FULL would fsync each group commit).
struct sqlite_backend {
    using storage_type = eddy::sqlite_storage;
    template <class Events>
    using event_store = eddy::sqlite_event_store<Events>;
    template <class Payload>
    using outbox_store = eddy::sqlite_outbox_store<Payload>;
    using inbox_store = eddy::sqlite_inbox_store;
    using keys_type = eddy::sqlite_idempotency_store<std::string>;
    template <class Ctx>
    using saga_log = eddy::sqlite_saga_log<Ctx>;
    using checkpoint_store = eddy::sqlite_checkpoint_store;
    using order_view = sqlite_order_view;
    static constexpr std::chrono::milliseconds step_timeout{250};

    sqlite_backend(std::string dir, eddy::thread_pool& p) : directory(std::move(dir)), pool(&p) {
        std::filesystem::create_directories(directory);
    }
    storage_type open(const std::string& database) const { return open(database, *pool); }
    /// The database, its results resumed on `scheduler` (a service's strand).
    storage_type open(const std::string& database, eddy::thread_pool& scheduler) const {
        eddy::sqlite_options o;
        o.synchronous = eddy::sqlite_options::sync::normal;
        return storage_type(directory + "/" + database + ".db", scheduler, o);
    }
    keys_type keys(const storage_type& s) const { return keys_type(s, "order-placement"); }
    template <class Ctx>
    saga_log<Ctx> saga_log_of(const storage_type& s) const {
        return saga_log<Ctx>(s, "orders");
    }
    order_view view_of(const storage_type& s) const { return order_view(s); }
    using instance_type = solo_instance;
    instance_type instance_of(const storage_type&, const std::string&) const { return {}; }

    std::string directory;
    eddy::thread_pool* pool;
};

} // namespace payments
