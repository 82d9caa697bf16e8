// eddy/sqlite/detail/unit_op.hpp - one write a sqlite_unit_of_work holds (an append, a
// checkpoint save), run on the writer thread when the unit commits.
#pragma once

#include <eddy/es/commit_result.hpp>
#include <eddy/sqlite/detail/connection.hpp>

namespace eddy::detail {

class sqlite_engine;

struct sqlite_unit_op {
    sqlite_unit_op() = default;
    sqlite_unit_op(const sqlite_unit_op&) = delete;
    sqlite_unit_op& operator=(const sqlite_unit_op&) = delete;
    virtual ~sqlite_unit_op() = default;
    // Inside the unit's savepoint: throws to fail the whole unit (its savepoint is rolled back).
    virtual void run(connection& c, sqlite_engine& e, commit_result& result) = 0;
};

} // namespace eddy::detail
