// eddy/outbox/detail/outbox_store_requirements.hpp - the pieces of eddy::outbox_store, one per
// member, so a diagnostic can name the one that is missing.
#pragma once

#include <chrono>  // std::chrono::steady_clock
#include <cstddef> // std::size_t
#include <string>  // std::string
#include <vector>  // std::vector

#include <eddy/core/task.hpp>
#include <eddy/es/uuid.hpp>
#include <eddy/outbox/outbox_message.hpp>

namespace eddy::detail {

template <class S>
concept outbox_has_types = requires {
    typename S::payload_type;
    typename S::unit_type;
};

template <class S>
concept outbox_has_enqueue = requires(S& s, typename S::unit_type& u,
                                      std::vector<outbox_message<typename S::payload_type>> m) {
    s.enqueue(u, m);
};

template <class S>
concept outbox_has_claim = requires(S& s, std::string relay, std::size_t n,
                                    std::chrono::steady_clock::duration lease) {
    {
        s.claim(relay, n, lease)
        } -> std::same_as<task<std::vector<outbox_message<typename S::payload_type>>>>;
};

template <class S>
concept outbox_has_mark_published = requires(S& s, std::string relay, std::vector<uuid> ids) {
    { s.mark_published(relay, ids) } -> std::same_as<task<void>>;
};

template <class S>
concept outbox_has_release = requires(S& s, std::string relay, uuid id, std::string error) {
    { s.release(relay, id, error) } -> std::same_as<task<void>>;
};

template <class S>
concept outbox_has_stats = requires(S& s) {
    { s.stats() } -> std::same_as<task<outbox_stats>>;
};

template <class S>
concept outbox_has_purge = requires(S& s, std::chrono::steady_clock::duration age) {
    { s.purge_published(age) } -> std::same_as<task<std::size_t>>;
};

/// `static_assert(check_outbox_store<S>())` names the first member `S` lacks.
template <class S>
constexpr bool check_outbox_store() {
    static_assert(outbox_has_types<S>, "eddy::outbox_store: the store needs member types "
                                       "`payload_type` and `unit_type`");
    if constexpr (outbox_has_types<S>) {
        static_assert(outbox_has_enqueue<S>,
                      "eddy::outbox_store: the store needs `enqueue(unit_type&, "
                      "std::vector<outbox_message<payload_type>>)`");
        static_assert(outbox_has_claim<S>,
                      "eddy::outbox_store: the store needs `task<std::vector<outbox_message<"
                      "payload_type>>> claim(std::string relay, std::size_t max, duration lease)`");
        static_assert(outbox_has_mark_published<S>,
                      "eddy::outbox_store: the store needs `task<void> mark_published(std::string "
                      "relay, std::vector<uuid> ids)`");
        static_assert(outbox_has_release<S>,
                      "eddy::outbox_store: the store needs `task<void> release(std::string relay, "
                      "uuid id, std::string error)`");
        static_assert(outbox_has_stats<S>,
                      "eddy::outbox_store: the store needs `task<outbox_stats> stats()`");
        static_assert(outbox_has_purge<S>,
                      "eddy::outbox_store: the store needs `task<std::size_t> purge_published("
                      "duration age)`");
        return outbox_has_enqueue<S> && outbox_has_claim<S> && outbox_has_mark_published<S> &&
               outbox_has_release<S> && outbox_has_stats<S> && outbox_has_purge<S>;
    }
    return false;
}

} // namespace eddy::detail
