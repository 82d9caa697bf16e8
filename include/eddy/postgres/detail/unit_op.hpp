// eddy/postgres/detail/unit_op.hpp - one write a postgres_unit_of_work holds (an append, a
// checkpoint save), run inside the unit's transaction on the storage's I/O thread.
#pragma once

#include <eddy/core/task.hpp>

namespace eddy::detail {

struct pg_tx;

struct pg_unit_op {
    pg_unit_op() = default;
    pg_unit_op(const pg_unit_op&) = delete;
    pg_unit_op& operator=(const pg_unit_op&) = delete;
    virtual ~pg_unit_op() = default;
    // Inside the unit's transaction: throws to roll the whole unit back. `tx` outlives the call.
    virtual task<void> run(pg_tx* tx) = 0;
    // True for a write that runs after the unit's events have their positions (inserted, just
    // before COMMIT); false (the default) for one that runs before (checks, stream versions).
    [[nodiscard]] virtual bool after_positions() const { return false; }
};

} // namespace eddy::detail
