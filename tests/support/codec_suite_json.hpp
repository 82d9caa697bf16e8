// tests/support/codec_suite_json.hpp - the codec conformance suite's types
// (tests/es/conformance/codec_suite.hpp) described the nlohmann way, for eddy::json_codec's
// tests (cart_cleared has no fields: no description). In the types' namespace, where ADL finds
// them: a header, since tests/CMakeLists.txt compiles test files inside namespaces of their own.
#pragma once

#include <nlohmann/json.hpp>

#include <es/conformance/codec_suite.hpp>
#include <support/json_optional.hpp>

namespace eddy::test::es::codec_suite {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(item_added_v1, sku)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(item_added, sku, quantity)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(cart_checked_out, total, note)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(cart_snapshot, skus, total)
} // namespace eddy::test::es::codec_suite
