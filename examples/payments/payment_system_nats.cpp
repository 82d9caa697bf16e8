// examples/payments/payment_system_nats.cpp - the payment system spread over several processes:
// PostgreSQL shared by all (a schema per service), NATS JetStream as the bus. Compiled when
// eddy::postgres and eddy::nats are built; payment_system_nats_off.cpp stands in otherwise.
#include <chrono>    // std::chrono::seconds
#include <stdexcept> // std::invalid_argument
#include <string>    // std::string
#include <utility>   // std::move

#include <eddy/json/json_codec.hpp>
#include <eddy/nats/nats_bus.hpp>

#include "payments.hpp"
#include "postgres_backend.hpp"
#include "stored_system.hpp"
#include "system.hpp"

namespace payments {

namespace {

using nats_bus = eddy::nats_bus<eddy::thread_pool, eddy::json_codec>;

// An instance names its reply topic and its relays: NATS subject tokens and consumer names.
void check_instance(const std::string& name) {
    bool plain = !name.empty() && name.size() <= 32;
    for (const char c : name) {
        plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    }
    if (!plain) {
        throw std::invalid_argument("the instance name '" + name +
                                    "' must be 1 to 32 of a-z, 0-9 and '-'");
    }
}

struct make_nats_bus {
    std::string urls;
    std::string prefix;
    nats_bus operator()(eddy::thread_pool& p) const {
        eddy::nats_bus_options o;
        o.urls = {urls};
        o.prefix = prefix;
        // A dead instance's unacknowledged records go to a live one after 5 s, not 30.
        o.ack_wait = std::chrono::seconds(5);
        // An idle partition's pull request waits 1 s for a record (one arriving ends the wait at
        // once): an instance has ~26 members' fetch threads, which polling every 100 ms kept
        // the servers of a small machine busy.
        o.fetch_wait = std::chrono::seconds(1);
        o.name = "payments";
        return nats_bus(p, eddy::json_codec{}, o);
    }
};

} // namespace

report run_postgres_nats(const std::string& conninfo, const std::string& urls,
                         run_options options) {
    check_schema_prefix(options.schema_prefix);
    check_instance(options.instance);
    // The streams' prefix follows the schemas' (payments_ -> payments): systems with other
    // schema prefixes share the servers without seeing each other's topics.
    std::string prefix = options.schema_prefix;
    while (!prefix.empty() && prefix.back() == '_') {
        prefix.pop_back();
    }
    for (char& c : prefix) {
        c = c == '_' ? '-' : c;
    }
    eddy::thread_pool pool(2);
    const std::string schemas = options.schema_prefix;
    return run_on(postgres_backend(conninfo, schemas, pool), pool, std::move(options),
                  make_nats_bus{urls, prefix});
}

bool has_nats() { return true; }

} // namespace payments
