// tests/support/outbox_world_json.hpp - the outbox tests' event and message payload
// (tests/support/outbox_world.hpp) as JSON, for the stores that keep them as JSON (SQLite,
// PostgreSQL). In the types' namespace, where ADL finds them: a header, since
// tests/CMakeLists.txt compiles test files inside namespaces of their own.
#pragma once

#include <nlohmann/json.hpp>

#include <support/outbox_world.hpp>

namespace eddy::test::outbox {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(order_placed, amount)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(notice, order, n)
} // namespace eddy::test::outbox
