// eddy/es/commit_result.hpp - eddy::commit_result, what committing a unit of work did.
#pragma once

#include <vector> // std::vector

#include <eddy/es/append_result.hpp>

namespace eddy {

/// What a committed unit of work did: the result of each append it held, in the order the
/// appends were added to the unit (the index an event store's `append(unit, ...)` returned).
/// An idempotent re-append's entry is the original append's result.
///
/// Eager value type. Thread-safety: like `std::vector`.
///
///     eddy::commit_result r = co_await storage.commit(std::move(unit));
///     r.appends[0].stream_version;
struct commit_result {
    std::vector<append_result> appends;

    friend bool operator==(const commit_result&, const commit_result&) = default;
};

} // namespace eddy
