// Tests of the eddy::saga_log concept: the memory log models it; archetypes missing one member
// each do not (the compile-fail case saga_log_missing_record checks the diagnostic's text).
#include <eddy/saga/saga_log.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include <eddy/saga/memory_saga_log.hpp>

namespace {

struct ctx {};
using t = eddy::saga_transition<ctx>;
using h = eddy::saga_history<ctx>;

struct complete {
    using context_type = ctx;
    eddy::task<void> start(std::string, std::string, t);
    eddy::task<void> record(std::string, t);
    eddy::task<std::optional<h>> load(std::string);
    eddy::task<std::vector<std::string>> unfinished();
};
struct no_context_type {
    eddy::task<void> start(std::string, std::string, t);
    eddy::task<void> record(std::string, t);
    eddy::task<std::optional<h>> load(std::string);
    eddy::task<std::vector<std::string>> unfinished();
};
struct no_record {
    using context_type = ctx;
    eddy::task<void> start(std::string, std::string, t);
    eddy::task<std::optional<h>> load(std::string);
    eddy::task<std::vector<std::string>> unfinished();
};
struct load_returns_history_without_optional {
    using context_type = ctx;
    eddy::task<void> start(std::string, std::string, t);
    eddy::task<void> record(std::string, t);
    eddy::task<h> load(std::string);
    eddy::task<std::vector<std::string>> unfinished();
};
struct record_not_a_task {
    using context_type = ctx;
    eddy::task<void> start(std::string, std::string, t);
    void record(std::string, t);
    eddy::task<std::optional<h>> load(std::string);
    eddy::task<std::vector<std::string>> unfinished();
};

} // namespace

TEST_CASE("saga_log accepts complete logs and rejects incomplete ones", "[saga][saga_log]") {
    STATIC_REQUIRE(eddy::saga_log<complete>);
    STATIC_REQUIRE(eddy::saga_log<eddy::memory_saga_log<ctx>>);
    STATIC_REQUIRE_FALSE(eddy::saga_log<no_context_type>);
    STATIC_REQUIRE_FALSE(eddy::saga_log<no_record>);
    STATIC_REQUIRE_FALSE(eddy::saga_log<load_returns_history_without_optional>);
    STATIC_REQUIRE_FALSE(eddy::saga_log<record_not_a_task>);
    STATIC_REQUIRE_FALSE(eddy::saga_log<int>);
}
