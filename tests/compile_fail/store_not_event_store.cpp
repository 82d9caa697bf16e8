// expect: eddy::event_store: the store has no member `read_all
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <eddy/core/task.hpp>
#include <eddy/es/aggregate.hpp>
#include <eddy/es/event_envelope.hpp>
#include <eddy/es/event_store.hpp>
#include <eddy/es/expected_version.hpp>
#include <eddy/es/proposed_event.hpp>
#include <eddy/es/repository.hpp>
#include <eddy/stream/stream.hpp>

struct pinged {
    static constexpr std::string_view event_name = "pinged";
};
using events = std::variant<pinged>;

struct counter : eddy::aggregate<counter, events> {
    void apply(const pinged&) {}
};

// Everything an event store needs, except read_all in the failing build.
struct half_store {
    using event_type = events;
    using envelope = eddy::event_envelope<events>;
    eddy::task<eddy::append_result> append(std::string, eddy::expected_version,
                                           std::vector<eddy::proposed_event<events>>) {
        co_return eddy::append_result{};
    }
    eddy::stream<envelope> read_stream(std::string, std::uint64_t) { co_return; }
#ifndef EDDY_COMPILE_FAIL
    eddy::stream<envelope> read_all(std::uint64_t) { co_return; }
#endif
    eddy::stream<envelope> subscribe_all(std::uint64_t) { co_return; }
};

int main() {
    half_store store;
    eddy::repository<counter, half_store> repo(store);
    auto load = repo.load("c-1"); // never awaited: only the types matter here
    return load.valid() ? 0 : 1;
}
