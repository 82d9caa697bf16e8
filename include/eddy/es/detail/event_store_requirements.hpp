// eddy/es/detail/event_store_requirements.hpp - the members eddy::event_store requires, one
// concept each, so a type that misses one gets a diagnostic naming it.
#pragma once

#include <concepts> // std::same_as
#include <cstdint>  // std::uint64_t
#include <string>   // std::string
#include <vector>   // std::vector

#include <eddy/core/task.hpp>
#include <eddy/es/append_result.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/stream/stream.hpp>

namespace eddy::detail {

template <class S>
concept has_event_type = requires {
    typename S::event_type;
}
&&event_variant<typename S::event_type>;

template <class S>
using envelope_stream_of = stream<event_envelope<typename S::event_type>>;

template <class S>
concept has_append = requires(S& s, std::string id, expected_version expected,
                              std::vector<proposed_event<typename S::event_type>> batch) {
    { s.append(id, expected, batch) } -> std::same_as<task<append_result>>;
};

template <class S>
concept has_read_stream = requires(S& s, std::string id, std::uint64_t from) {
    { s.read_stream(id, from) } -> std::same_as<envelope_stream_of<S>>;
};

template <class S>
concept has_read_all = requires(S& s, std::uint64_t from) {
    { s.read_all(from) } -> std::same_as<envelope_stream_of<S>>;
};

template <class S>
concept has_subscribe_all = requires(S& s, std::uint64_t from) {
    { s.subscribe_all(from) } -> std::same_as<envelope_stream_of<S>>;
};

// One static_assert per member, in order, so the first thing missing is what the user reads.
// Returns true so it can sit in a static_assert of its own at the point of use.
template <class S>
consteval bool check_event_store() {
    if constexpr (!has_event_type<S>) {
        static_assert(has_event_type<S>,
                      "eddy::event_store: the store has no member type `event_type` (a "
                      "std::variant of named events)");
    } else {
        static_assert(has_append<S>,
                      "eddy::event_store: the store has no member `append(std::string stream_id, "
                      "expected_version, std::vector<proposed_event<event_type>>)` returning "
                      "eddy::task<eddy::append_result>");
        static_assert(has_read_stream<S>,
                      "eddy::event_store: the store has no member `read_stream(std::string "
                      "stream_id, std::uint64_t from_version)` returning "
                      "eddy::stream<eddy::event_envelope<event_type>>");
        static_assert(has_read_all<S>,
                      "eddy::event_store: the store has no member `read_all(std::uint64_t "
                      "from_position)` returning eddy::stream<eddy::event_envelope<event_type>>");
        static_assert(has_subscribe_all<S>,
                      "eddy::event_store: the store has no member `subscribe_all(std::uint64_t "
                      "from_position)` returning eddy::stream<eddy::event_envelope<event_type>>");
    }
    return true;
}

} // namespace eddy::detail
