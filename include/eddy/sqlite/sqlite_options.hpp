// eddy/sqlite/sqlite_options.hpp - eddy::sqlite_options, how a sqlite_storage opens its file.
#pragma once

#include <chrono>  // std::chrono::milliseconds
#include <cstddef> // std::size_t

namespace eddy {

/// How a `sqlite_storage` uses its database file.
/// - `synchronous`: `full` (default) fsyncs the write-ahead log at every commit: a commit that
///   returned survives a power loss. `normal` fsyncs only at WAL checkpoints: a commit survives
///   the process crashing (SIGKILL included) but the last commits before a power loss or an OS
///   crash may be lost (never a corrupt file); commits cost no fsync, so they are much faster.
/// - `busy_timeout`: how long a statement waits for a lock another process (or connection)
///   holds before failing with `SQLITE_BUSY`.
/// - `group_commit`: commits queued while the writer thread was busy (or while it runs the
///   group) go into one transaction, each succeeding or failing alone; one fsync for all of them.
///   Off: one transaction per commit (for measuring).
/// - `max_group`: at most this many commits in one transaction.
/// - `poll_interval`: how often idle subscriptions look for commits of other processes (commits
///   of this storage wake them at once).
///
/// Eager value type.
///
///     eddy::sqlite_options o{.synchronous = eddy::sqlite_options::sync::normal};
struct sqlite_options {
    enum class sync { full, normal };

    sync synchronous = sync::full;
    std::chrono::milliseconds busy_timeout{5000};
    bool group_commit = true;
    std::size_t max_group = 256;
    std::chrono::milliseconds poll_interval{100};
};

} // namespace eddy
