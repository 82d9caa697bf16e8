// examples/payments/dead_letters.hpp - the dead-letter archive: a consumer of the command
// topics' dead-letter topics that records each dead letter as an event in a storage of its own
// (dlq.db), so `payments dlq list` and `dlq reprocess` work after the run that produced them.
#pragma once

#include <cstddef>     // std::size_t
#include <map>         // std::map
#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view
#include <utility>     // std::move
#include <variant>     // std::variant, std::get_if
#include <vector>      // std::vector

#include <nlohmann/json.hpp>

#include <eddy/bus/dead_letter.hpp>
#include <eddy/bus/record.hpp>
#include <eddy/core/task.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/outbox/idempotent.hpp>

#include "domain.hpp"

namespace payments {

/// A command the bus gave up on (its consumer failed it `attempts` times, or at once for a
/// non-retryable error).
struct command_dead_lettered {
    static constexpr std::string_view event_name = "command_dead_lettered";
    std::string topic;
    std::string key;
    std::string message_id;
    std::string group;
    std::string error;
    int attempts = 0;
    command cmd;
};
/// The dead letter was published to its topic again by `payments dlq reprocess`.
struct command_republished {
    static constexpr std::string_view event_name = "command_republished";
};
using dead_letter_events = std::variant<command_dead_lettered, command_republished>;
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(command_dead_lettered, topic, key, message_id, group, error,
                                   attempts, cmd)
inline void to_json(nlohmann::json& j, const command_republished&) { j = nlohmann::json::object(); }
inline void from_json(const nlohmann::json&, command_republished&) {}

/// One archived dead letter: its number (1, 2, ... in archive order), what was dead-lettered,
/// and how often it was republished since.
struct dead_letter_view {
    std::size_t number = 0;
    std::string stream;
    command_dead_lettered letter;
    int republished = 0;
};

/// The archive over an event store of `dead_letter_events` (one stream per dead letter).
template <class EventStore>
class dead_letter_archive {
public:
    explicit dead_letter_archive(EventStore& events, std::string run_id)
        : m_events(&events), m_run_id(std::move(run_id)) {}

    /// The bus handler of a dead-letter topic: archives the record once (its stream id is the
    /// run's id with the record's place in the topic: a redelivery finds the stream there).
    eddy::task<void> archive(const eddy::record<command>& r) { return archive_impl(this, &r); }

    /// Every dead letter archived so far, in archive order.
    eddy::task<std::vector<dead_letter_view>> list() { return list_impl(m_events); }

    /// Records that `stream`'s dead letter was published again.
    eddy::task<void> mark_republished(std::string stream) {
        return mark_impl(m_events, std::move(stream));
    }

private:
    static std::string header(const eddy::record<command>& r, std::string_view name) {
        return std::string(r.headers.get(name).value_or(""));
    }

    static eddy::task<void> archive_impl(dead_letter_archive* self,
                                         const eddy::record<command>* r) {
        command_dead_lettered letter;
        letter.topic = header(*r, eddy::dead_letter_header::topic);
        letter.key = r->key;
        letter.message_id = command_id(*r);
        letter.group = header(*r, eddy::dead_letter_header::group);
        letter.error = header(*r, eddy::dead_letter_header::error_message);
        const std::string attempts = header(*r, eddy::dead_letter_header::attempts);
        letter.attempts = attempts.empty() ? 0 : std::stoi(attempts);
        letter.cmd = r->value;
        std::string stream = self->m_run_id + "/" + r->topic + "/" + std::to_string(r->partition) +
                             "/" + std::to_string(r->offset);
        // Named locals: g++ 12 frees braced temporaries holding strings twice inside co_await.
        std::vector<eddy::proposed_event<dead_letter_events>> batch;
        batch.emplace_back(std::move(letter));
        try {
            (void)co_await self->m_events->append(
                std::move(stream), eddy::expected_version::no_stream(), std::move(batch));
        } catch (const eddy::concurrency_conflict&) {
            // archived already (a redelivery)
        }
    }

    static eddy::task<std::vector<dead_letter_view>> list_impl(EventStore* events) {
        std::vector<dead_letter_view> out;
        std::map<std::string, std::size_t> index;
        auto all = events->read_all();
        for (;;) {
            auto e = co_await all.next();
            if (!e) {
                break;
            }
            if (const auto* letter = std::get_if<command_dead_lettered>(&e->payload)) {
                index[e->stream_id] = out.size();
                out.push_back(dead_letter_view{out.size() + 1, e->stream_id, *letter, 0});
            } else if (const auto it = index.find(e->stream_id); it != index.end()) {
                ++out[it->second].republished;
            }
        }
        co_return out;
    }

    static eddy::task<void> mark_impl(EventStore* events, std::string stream) {
        std::vector<eddy::proposed_event<dead_letter_events>> batch;
        batch.emplace_back(command_republished{});
        (void)co_await events->append(std::move(stream), eddy::expected_version::any(),
                                      std::move(batch));
    }

    EventStore* m_events;
    std::string m_run_id;
};

} // namespace payments
