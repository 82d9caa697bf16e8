// eddy/es/detail/memory_event_changes.hpp - the appends a unit of work holds for one
// memory_event_log: checked together (expected versions, exact idempotency), applied together.
#pragma once

#include <algorithm> // std::sort, std::adjacent_find, std::max
#include <concepts>  // std::equality_comparable
#include <cstddef>   // std::size_t
#include <cstdint>   // std::uint64_t
#include <memory>    // std::shared_ptr, std::make_shared
#include <string>    // std::string, std::to_string
#include <utility>   // std::exchange, std::move
#include <variant>   // std::variant
#include <vector>    // std::vector

#include <eddy/core/async_event.hpp>
#include <eddy/es/append_result.hpp>
#include <eddy/es/commit_result.hpp>
#include <eddy/es/concurrency_conflict.hpp>
#include <eddy/es/detail/memory_event_log.hpp>
#include <eddy/es/detail/memory_storage_state.hpp>
#include <eddy/es/duplicate_event_id.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/named_event.hpp>
#include <eddy/es/proposed_event.hpp>

namespace eddy::detail {

// Whether every alternative of the variant can be compared with == (std::variant's own ==
// is declared for every variant, so ask the alternatives).
template <class Events>
inline constexpr bool payloads_comparable_v = false;
template <class... E>
inline constexpr bool payloads_comparable_v<std::variant<E...>> = (std::equality_comparable<E> &&
                                                                   ...);

template <class Events>
class memory_event_changes final : public memory_changes {
public:
    using log_type = memory_event_log<Events>;

    explicit memory_event_changes(log_type& log) noexcept : m_log(&log) {}

    void add(std::size_t slot, std::string stream_id, expected_version expected,
             std::vector<proposed_event<Events>> batch) {
        m_intents.push_back(intent{slot, std::move(stream_id), expected, std::move(batch), false});
    }

    void check(commit_result& result) override {
        check_repeated_ids();
        std::vector<simulated> streams;
        std::uint64_t next = m_log->m_all.size(); // the last position so far
        for (intent& in : m_intents) {
            append_result r;
            if (stored_batch(in, r)) {
                in.duplicate = true;
            } else {
                simulated& s = stream_of(streams, in.stream_id);
                const std::uint64_t actual = s.deleted ? 0 : s.count;
                if (!in.expected.accepts(actual)) {
                    throw concurrency_conflict(in.stream_id, in.expected, actual);
                }
                r.stream_version = in.batch.empty() ? actual : s.count + in.batch.size();
                r.first_position = next + 1;
                r.last_position = next + in.batch.size();
                if (!in.batch.empty()) {
                    s.count += in.batch.size();
                    s.deleted = false;
                    next += in.batch.size();
                }
            }
            result.appends[in.slot] = r;
        }
        // apply then only fails by running out of memory for a stream's index or id map.
        // Grow geometrically: reserving exactly `next` would copy the log on every append.
        reserve(m_log->m_all, next);
        reserve(m_log->m_batch_of, next);
    }

    void apply() override {
        bool appended = false;
        const auto now = m_log->m_storage->clock();
        for (intent& in : m_intents) {
            if (in.duplicate || in.batch.empty()) {
                continue;
            }
            auto& entry = m_log->m_streams[in.stream_id];
            entry.deleted = false;
            const std::size_t first = m_log->m_all.size();
            const std::size_t last = first + in.batch.size() - 1;
            for (proposed_event<Events>& e : in.batch) {
                event_envelope<Events> env;
                env.event_id = e.event_id.is_nil() ? m_log->m_storage->ids.next() : e.event_id;
                env.stream_id = in.stream_id;
                env.stream_version = entry.indices.size() + 1;
                env.global_position = m_log->m_all.size() + 1;
                env.type_name = std::string(event_name_of(e.payload));
                env.schema_version = event_schema_version_of(e.payload);
                env.recorded_at = now;
                env.metadata = std::move(e.metadata);
                env.payload = std::move(e.payload);
                entry.indices.push_back(m_log->m_all.size());
                m_log->m_by_id.emplace(env.event_id, m_log->m_all.size());
                m_log->m_batch_of.emplace_back(first, last);
                m_log->m_all.push_back(std::move(env));
            }
            appended = true;
        }
        if (appended) {
            m_woken = std::exchange(m_log->m_appended, std::make_shared<async_event>());
        }
    }

    void after_commit() override {
        if (m_woken) {
            m_woken->set(); // resumes waiting subscribers here, outside the lock
        }
    }

private:
    struct intent {
        std::size_t slot;
        std::string stream_id;
        expected_version expected;
        std::vector<proposed_event<Events>> batch;
        bool duplicate;
    };
    struct simulated {
        std::string stream_id;
        std::uint64_t count;
        bool deleted;
    };

    template <class Vector>
    static void reserve(Vector& v, std::size_t n) {
        if (v.capacity() < n) {
            v.reserve(std::max(n, 2 * v.capacity()));
        }
    }

    simulated& stream_of(std::vector<simulated>& streams, const std::string& id) const {
        for (simulated& s : streams) {
            if (s.stream_id == id) {
                return s;
            }
        }
        const auto* entry = m_log->find_locked(id);
        streams.push_back(simulated{id, entry == nullptr ? 0 : entry->indices.size(),
                                    entry != nullptr && entry->deleted});
        return streams.back();
    }

    // An id given twice in the unit (in one batch or two) can't be one exact re-append.
    void check_repeated_ids() const {
        std::vector<std::pair<uuid, const std::string*>> ids;
        for (const intent& in : m_intents) {
            for (const proposed_event<Events>& e : in.batch) {
                if (!e.event_id.is_nil()) {
                    ids.emplace_back(e.event_id, &in.stream_id);
                }
            }
        }
        if (ids.size() < 2) {
            return;
        }
        std::sort(ids.begin(), ids.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        auto twice = std::adjacent_find(ids.begin(), ids.end(), [](const auto& a, const auto& b) {
            return a.first == b.first;
        });
        if (twice != ids.end()) {
            throw duplicate_event_id(twice->first, *twice->second,
                                     duplicate_event_id::reason::repeated,
                                     "the id appears twice in the batch or unit of work");
        }
    }

    // True when `in` re-appends a stored batch exactly (then `r` is the original result);
    // false when none of its ids is stored; throws duplicate_event_id otherwise.
    bool stored_batch(const intent& in, append_result& r) const {
        std::size_t stored = 0;
        const uuid* fresh = nullptr;
        const uuid* known = nullptr;
        for (const proposed_event<Events>& e : in.batch) {
            if (!e.event_id.is_nil() && m_log->m_by_id.contains(e.event_id)) {
                ++stored;
                known = known == nullptr ? &e.event_id : known;
            } else {
                fresh = fresh == nullptr ? &e.event_id : fresh;
            }
        }
        if (stored == 0) {
            return false;
        }
        if (fresh != nullptr) {
            throw duplicate_event_id(
                *known, in.stream_id, duplicate_event_id::reason::partial_overlap,
                "already stored, but " + std::to_string(in.batch.size() - stored) + " of the " +
                    std::to_string(in.batch.size()) +
                    " events of the batch are not (a partial overlap)");
        }
        const std::size_t first = m_log->m_by_id.at(in.batch.front().event_id);
        for (std::size_t i = 0; i < in.batch.size(); ++i) {
            const proposed_event<Events>& e = in.batch[i];
            const std::size_t at = m_log->m_by_id.at(e.event_id);
            const event_envelope<Events>& old = m_log->m_all[at];
            const std::string where = " (stored at position " +
                                      std::to_string(old.global_position) + " of stream '" +
                                      old.stream_id + "')";
            if (old.stream_id != in.stream_id) {
                throw duplicate_event_id(e.event_id, in.stream_id,
                                         duplicate_event_id::reason::different_stream,
                                         "already stored in another stream" + where);
            }
            if (old.type_name != event_name_of(e.payload) ||
                old.schema_version != event_schema_version_of(e.payload)) {
                throw duplicate_event_id(e.event_id, in.stream_id,
                                         duplicate_event_id::reason::different_type,
                                         "already stored as a '" + old.type_name + "' v" +
                                             std::to_string(old.schema_version) + where);
            }
            if constexpr (payloads_comparable_v<Events>) {
                if (!(old.payload == e.payload)) {
                    throw duplicate_event_id(e.event_id, in.stream_id,
                                             duplicate_event_id::reason::different_payload,
                                             "already stored with a different payload" + where);
                }
            }
            if (at != first + i || m_log->m_batch_of[at].first != first ||
                m_log->m_batch_of[at].second != first + in.batch.size() - 1) {
                throw duplicate_event_id(e.event_id, in.stream_id,
                                         duplicate_event_id::reason::different_batch,
                                         "already stored, but the batch is not one whole "
                                         "earlier append in the same order" +
                                             where);
            }
        }
        const event_envelope<Events>& last = m_log->m_all[first + in.batch.size() - 1];
        r = append_result{last.stream_version, m_log->m_all[first].global_position,
                          last.global_position};
        return true;
    }

    log_type* m_log;
    std::vector<intent> m_intents;
    std::shared_ptr<async_event> m_woken;
};

} // namespace eddy::detail
