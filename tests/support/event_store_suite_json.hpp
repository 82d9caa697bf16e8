// tests/support/event_store_suite_json.hpp - the event store conformance suite's events
// (tests/es/conformance/event_store_suite.hpp) as JSON, for the stores that keep payloads as
// JSON (SQLite, PostgreSQL). In the types' namespace, where ADL finds them: a header, since
// tests/CMakeLists.txt compiles test files inside namespaces of their own.
#pragma once

#include <nlohmann/json.hpp>

#include <es/conformance/event_store_suite.hpp>

namespace eddy::test::es {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(item_added, sku, quantity)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(cart_checked_out, total)
} // namespace eddy::test::es
