// expect: eddy::saga_log: the log needs `task<void> record
#include <optional>
#include <string>
#include <vector>

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/task.hpp>
#include <eddy/saga/saga_coordinator.hpp>

struct ctx {};

// Everything a saga log needs, except record in the failing build.
struct half_log {
    using context_type = ctx;
    eddy::task<void> start(std::string, std::string, eddy::saga_transition<ctx>) { co_return; }
#ifndef EDDY_COMPILE_FAIL
    eddy::task<void> record(std::string, eddy::saga_transition<ctx>) { co_return; }
#endif
    eddy::task<std::optional<eddy::saga_history<ctx>>> load(std::string) { co_return std::nullopt; }
    eddy::task<std::vector<std::string>> unfinished() { co_return std::vector<std::string>{}; }
};

int main() {
    eddy::inline_scheduler s;
    half_log log;
    eddy::saga_coordinator<half_log, eddy::inline_scheduler> coordinator(s, log);
    (void)coordinator;
}
