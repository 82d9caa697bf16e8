// eddy/saga/detail/saga_log_requirements.hpp - the pieces of the eddy::saga_log concept, one
// per member, so a diagnostic can name the one that is missing.
#pragma once

#include <optional> // std::optional
#include <string>   // std::string
#include <vector>   // std::vector

#include <eddy/core/task.hpp>
#include <eddy/saga/saga_transition.hpp>

namespace eddy::detail {

template <class L>
concept saga_log_has_context_type = requires {
    typename L::context_type;
};

template <class L>
concept saga_log_has_start = requires(L& log, std::string s,
                                      saga_transition<typename L::context_type> t) {
    { log.start(s, s, t) } -> std::same_as<task<void>>;
};

template <class L>
concept saga_log_has_record = requires(L& log, std::string s,
                                       saga_transition<typename L::context_type> t) {
    { log.record(s, t) } -> std::same_as<task<void>>;
};

template <class L>
concept saga_log_has_load = requires(L& log, std::string s) {
    { log.load(s) } -> std::same_as<task<std::optional<saga_history<typename L::context_type>>>>;
};

template <class L>
concept saga_log_has_unfinished = requires(L& log) {
    { log.unfinished() } -> std::same_as<task<std::vector<std::string>>>;
};

/// `static_assert(check_saga_log<L>())` names the first member `L` lacks.
template <class L>
constexpr bool check_saga_log() {
    static_assert(saga_log_has_context_type<L>,
                  "eddy::saga_log: the log needs a member type `context_type` (the saga's "
                  "context type)");
    if constexpr (saga_log_has_context_type<L>) {
        static_assert(saga_log_has_start<L>,
                      "eddy::saga_log: the log needs `task<void> start(std::string id, "
                      "std::string definition, saga_transition<context_type> first)`");
        static_assert(saga_log_has_record<L>,
                      "eddy::saga_log: the log needs `task<void> record(std::string id, "
                      "saga_transition<context_type>)`");
        static_assert(saga_log_has_load<L>,
                      "eddy::saga_log: the log needs `task<std::optional<saga_history<"
                      "context_type>>> load(std::string id)`");
        static_assert(saga_log_has_unfinished<L>,
                      "eddy::saga_log: the log needs `task<std::vector<std::string>> "
                      "unfinished()`");
        return saga_log_has_start<L> && saga_log_has_record<L> && saga_log_has_load<L> &&
               saga_log_has_unfinished<L>;
    }
    return false;
}

} // namespace eddy::detail
