// expect: eddy::message_bus: the bus has no const member `lag
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <eddy/bus/message_bus.hpp>

// Everything a message bus needs, except lag in the failing build.
struct half_bus {
    template <class T>
    void create_topic(std::string, eddy::topic_config) {}
    bool has_topic(std::string_view) const { return false; }
    template <class T>
    eddy::task<eddy::publish_result> publish(std::string, std::string, T, eddy::headers) {
        co_return eddy::publish_result{};
    }
    template <class T>
    eddy::task<eddy::publish_result> publish(std::string, std::string, T, eddy::headers,
                                             eddy::producer_sequence) {
        co_return eddy::publish_result{};
    }
    template <class T, class Handler>
    eddy::subscription subscribe(std::string, std::string, Handler, eddy::consumer_options) {
        return {};
    }
    template <class T>
    eddy::stream<eddy::record<T>> consume(std::string, std::string, eddy::consumer_options) {
        co_return;
    }
#ifndef EDDY_COMPILE_FAIL
    std::vector<std::uint64_t> lag(std::string_view, std::string_view) const { return {}; }
#endif
    std::vector<eddy::dead_letter_entry> dead_letters(eddy::dead_letter_filter) { return {}; }
    eddy::task<eddy::publish_result> reprocess(eddy::dead_letter_id, std::string) {
        co_return eddy::publish_result{};
    }
    eddy::task<std::vector<eddy::publish_result>> reprocess(std::vector<eddy::dead_letter_id>,
                                                            std::string) {
        co_return std::vector<eddy::publish_result>{};
    }
    void discard(const eddy::dead_letter_id&, const std::string&) {}
};

// A service written once against the concept, checked where it is instantiated.
template <class Bus>
int service(Bus&) {
    static_assert(eddy::detail::check_message_bus<Bus>());
    return 0;
}

int main() {
    half_bus bus;
    return service(bus);
}
