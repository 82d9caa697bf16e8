// tests/support/saga_services.hpp - fake services a saga's steps call in the saga tests:
// each applies its effect at most once per idempotency key (like a real payment API), takes
// a chosen virtual time, and fails by a per-call script. A shared journal records every
// applied effect with its virtual time ("charge@2s"), so a test asserts exact order, exact
// times and that nothing happened twice.
#pragma once

#include <chrono>    // std::chrono::duration_cast
#include <cstddef>   // std::size_t
#include <deque>     // std::deque
#include <map>       // std::map
#include <stdexcept> // std::runtime_error
#include <string>    // std::string, std::to_string
#include <vector>    // std::vector

#include <eddy/core/task.hpp>
#include <eddy/core/virtual_time_scheduler.hpp>
#include <eddy/saga/business_failure.hpp>
#include <eddy/saga/step_context.hpp>
#include <eddy/saga/unknown_outcome.hpp>

namespace eddy::test::saga {

/// How one call of a fake service ends.
enum class reply {
    ok,         ///< applies the effect (once per key) and returns
    fail,       ///< throws std::runtime_error, no effect
    business,   ///< throws eddy::business_failure, no effect
    lost_reply, ///< applies the effect, then throws eddy::unknown_outcome
    hang,       ///< waits until stopped (a step timeout), no effect
};

/// Everything the steps of a test saga touch.
struct world {
    eddy::virtual_time_scheduler vt;
    std::vector<std::string> journal;                   // applied effects, in order
    std::map<std::string, std::deque<reply>> scripts;   // per service, consumed per call
    std::map<std::string, std::size_t> calls;           // per service
    std::map<std::string, std::size_t> effects_per_key; // calls that reached the effect
    std::chrono::steady_clock::duration latency{};      // every call takes this long,
    std::map<std::string, std::chrono::steady_clock::duration> latency_of; // unless set here

    [[nodiscard]] std::string now_text() const {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(vt.now().time_since_epoch())
                .count();
        return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
    }
};

/// One call of service `name` with the step's key; see `reply`.
inline eddy::task<void> call_service(world* w, std::string name, std::string key) {
    ++w->calls[name];
    const auto own = w->latency_of.find(name);
    const auto latency = own != w->latency_of.end() ? own->second : w->latency;
    if (latency.count() > 0) {
        co_await w->vt.schedule_after(latency);
    }
    reply r = reply::ok;
    auto& script = w->scripts[name];
    if (!script.empty()) {
        r = script.front();
        script.pop_front();
    }
    if (r == reply::hang) {
        co_await w->vt.schedule_after(std::chrono::hours(24 * 365)); // ends when stopped
    }
    if (r == reply::fail) {
        throw std::runtime_error(name + " unavailable");
    }
    if (r == reply::business) {
        throw eddy::business_failure(name + " declined");
    }
    if (++w->effects_per_key[key] == 1) {
        w->journal.push_back(name + "@" + w->now_text());
    }
    if (r == reply::lost_reply) {
        throw eddy::unknown_outcome(name + " reply lost");
    }
}

/// A step action or compensation that calls service `name` (not a coroutine itself: it
/// returns call_service's task, so nothing is captured by a coroutine lambda).
struct service_call {
    world* w;
    std::string name;
    template <class Ctx>
    eddy::task<void> operator()(Ctx&, const eddy::step_context& step) const {
        return call_service(w, name, std::string(step.idempotency_key));
    }
};

} // namespace eddy::test::saga
