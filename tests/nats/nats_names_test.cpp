// Tests of how eddy names things on JetStream (eddy/nats/detail/nats_names.hpp): name tokens,
// stream names, the topic descriptor, escaped header values. No server needed.
#include <eddy/nats/detail/nats_names.hpp>

#include <catch2/catch.hpp>

#include <chrono> // std::chrono
#include <string> // std::string

TEST_CASE("names become tokens valid everywhere JetStream takes a name, and back",
          "[nats][nats_names]") {
    using eddy::detail::nats_token;
    using eddy::detail::nats_untoken;
    REQUIRE(nats_token("orders") == "orders");
    REQUIRE(nats_token("orders.DLQ") == "orders_2EDLQ");
    REQUIRE(nats_token("a b*>") == "a_20b_2A_3E");
    REQUIRE(nats_token("_") == "_5F");
    REQUIRE(nats_token("") == "_");
    for (const std::string name : {"orders", "orders.DLQ", "a_2E", "_", "", "x\xC3\xBCy", "a-b"}) {
        REQUIRE(nats_untoken(nats_token(name)) == name);
    }
    REQUIRE_FALSE(nats_untoken("a_2").has_value());
    REQUIRE_FALSE(nats_untoken("a_zz").has_value());
    // Distinct topics never share a stream.
    REQUIRE(eddy::detail::nats_stream_name("p", "a.b", 0) !=
            eddy::detail::nats_stream_name("p", "a_2Eb", 0));
    REQUIRE(eddy::detail::nats_stream_name("p", "orders", 3) == "p_orders_P3");
    REQUIRE(eddy::detail::nats_partition_subject("p", "orders.DLQ", 1) == "p.orders_2EDLQ.1");
}

TEST_CASE("a topic descriptor survives its text form", "[nats][nats_names]") {
    eddy::detail::nats_topic_descriptor d;
    d.type = "ns::value<int, std::string>";
    d.config = {.partitions = 4,
                .retention_count = 10,
                .retention_age = std::chrono::seconds(3),
                .max_record_bytes = 100};
    d.dead_letter = true;
    const auto back = eddy::detail::nats_topic_descriptor::parse(d.str());
    REQUIRE(back.has_value());
    REQUIRE(back->type == d.type);
    REQUIRE(back->config == d.config);
    REQUIRE(back->dead_letter);
    REQUIRE_FALSE(eddy::detail::nats_topic_descriptor::parse("a stream of someone else"));
    REQUIRE_FALSE(eddy::detail::nats_topic_descriptor::parse("eddy-topic/1 partitions=x type=int"));
}

TEST_CASE("header values escape what NATS cannot carry, and only that", "[nats][nats_names]") {
    using eddy::detail::nats_escape_header;
    using eddy::detail::nats_unescape_header;
    REQUIRE(nats_escape_header("plain value") == "plain value");
    REQUIRE(nats_escape_header(" a\r\nb%\t") == "%20a%0D%0Ab%25%09");
    REQUIRE(nats_escape_header("") == "%");
    const std::string values[] = {
        "", " ", "%", "%%41", "line\nline", std::string("nul\0x", 5), "  both  ", "%20"};
    for (const std::string& v : values) {
        REQUIRE(nats_unescape_header(nats_escape_header(v)) == v);
    }
}
