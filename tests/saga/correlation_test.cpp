// Tests of eddy::correlation_id and eddy::caused_headers: the header wins over the key, and a
// caused record names its cause's position.
#include <eddy/saga/correlation.hpp>

#include <catch2/catch.hpp>

TEST_CASE("the correlation id is the header, else the key", "[saga][correlation]") {
    eddy::record<int> r{"orders", 3, 17, "order-9", {}, {}, 1};
    CHECK(eddy::correlation_id(r) == "order-9");
    r.headers.set("correlation-id", "flow-1");
    CHECK(eddy::correlation_id(r) == "flow-1");
}

TEST_CASE("caused headers carry the flow and the cause's position", "[saga][correlation]") {
    const eddy::record<int> r{"payments", 2, 41, "order-9", {}, {}, 1};
    const auto h = eddy::caused_headers(r);
    CHECK(h.get(eddy::correlation_header) == std::optional<std::string_view>("order-9"));
    CHECK(h.get(eddy::causation_header) == std::optional<std::string_view>("payments/2/41"));
}
