// eddy/postgres/postgres_options.hpp - eddy::postgres_options, how a postgres_storage connects.
#pragma once

#include <chrono>  // std::chrono::milliseconds
#include <cstddef> // std::size_t
#include <string>  // std::string

namespace eddy {

/// How a `postgres_storage` uses its server.
/// - `schema`: the PostgreSQL schema eddy's tables live in (created when missing). It must be
///   a plain lower-case identifier (`[a-z_][a-z0-9_]*`, at most 63 characters): it is the only
///   name eddy puts into SQL text (quoted); everything else travels as parameters. Otherwise the
///   constructor throws `eddy::error`. Several storages (and programs) may share a schema.
/// - `pool_size`: connections for statements (reads and transactions), at least 1; one more
///   connection LISTENs for commits.
/// - `poll_interval`: how often waiting subscriptions re-read even without a notification (a
///   fallback for a lost notification, and how a subscription passes a position whose
///   transaction rolled back; see `postgres_event_store`).
///
/// Eager value type.
///
///     eddy::postgres_options o{.schema = "orders", .pool_size = 8};
struct postgres_options {
    std::string schema = "eddy";
    std::size_t pool_size = 4;
    std::chrono::milliseconds poll_interval{250};
};

} // namespace eddy
