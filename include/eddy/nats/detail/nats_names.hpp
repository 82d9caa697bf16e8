// eddy/nats/detail/nats_names.hpp - how eddy names things on JetStream: name tokens, partition
// streams, subjects, durable consumers, the topic descriptor kept in a stream's description,
// and the escaping of header values.
#pragma once

#include <chrono>      // std::chrono::nanoseconds
#include <cstddef>     // std::size_t
#include <cstdint>     // std::int64_t
#include <exception>   // std::exception
#include <optional>    // std::optional
#include <string>      // std::string, std::to_string
#include <string_view> // std::string_view

#include <eddy/bus/topic_config.hpp>

namespace eddy::detail {

// A name as one token valid everywhere JetStream takes a name (subject token, stream,
// consumer, key-value key): letters, digits and '-' stay, every other byte becomes '_' and two
// upper-case hex digits ("orders.DLQ" -> "orders_2EDLQ"). Injective, so distinct topics never
// share a stream; the empty string is "_" (no other name maps to a lone '_').
inline void nats_append_token(std::string& out, std::string_view name) {
    if (name.empty()) {
        out += '_';
        return;
    }
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char c : name) {
        const bool plain =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (plain) {
            out += c;
        } else {
            const auto u = static_cast<unsigned char>(c);
            out += '_';
            out += hex[u >> 4];
            out += hex[u & 0xF];
        }
    }
}

[[nodiscard]] inline std::string nats_token(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    nats_append_token(out, name);
    return out;
}

// The name `nats_token` made `token` from; empty if no name maps to it.
[[nodiscard]] inline std::optional<std::string> nats_untoken(std::string_view token) {
    if (token == "_") {
        return std::string();
    }
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < token.size(); ++i) {
        if (token[i] != '_') {
            out += token[i];
            continue;
        }
        if (i + 2 >= token.size() || digit(token[i + 1]) < 0 || digit(token[i + 2]) < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(digit(token[i + 1]) * 16 + digit(token[i + 2]));
        i += 2;
    }
    return out;
}

// The stream of one partition of a topic: "<prefix>_<token>_P<partition>" ("_P" never occurs in
// a token: '_' is always followed by two hex digits).
[[nodiscard]] inline std::string nats_stream_name(std::string_view prefix, std::string_view topic,
                                                  std::size_t partition) {
    return std::string(prefix) + "_" + nats_token(topic) + "_P" + std::to_string(partition);
}

// The subjects of a partition stream: "<prefix>.<topic token>.<partition>.<key token>".
[[nodiscard]] inline std::string
nats_partition_subject(std::string_view prefix, std::string_view topic, std::size_t partition) {
    return std::string(prefix) + "." + nats_token(topic) + "." + std::to_string(partition);
}

// The bucket of dead-letter marks (reprocessed, discarded) of a bus prefix.
[[nodiscard]] inline std::string nats_marks_bucket(std::string_view prefix) {
    return std::string(prefix) + "_dead-letter-marks";
}

// The name of `T` as the compiler spells it (g++ and clang++ agree on class, enum and builtin
// types; template arguments may be spelt differently): what a topic's descriptor records, so a
// process using the topic with another type gets an error instead of undecodable records.
template <class T>
[[nodiscard]] std::string nats_type_name() {
    const std::string_view f = __PRETTY_FUNCTION__; // "... [with T = x]" or "... [T = x]"
    const std::size_t start = f.find("T = ");
    if (start == std::string_view::npos) {
        return std::string(f);
    }
    std::size_t end = f.find_first_of(";]", start);
    if (end == std::string_view::npos) {
        end = f.size();
    }
    return std::string(f.substr(start + 4, end - start - 4));
}

// What eddy keeps in the description of each partition stream of a topic, so a second
// create_topic (from any process) validates against it and publishers check the type.
struct nats_topic_descriptor {
    std::string type;
    topic_config config;
    bool dead_letter = false;

    [[nodiscard]] std::string str() const {
        return "eddy-topic/1 partitions=" + std::to_string(config.partitions) +
               " retention_count=" + std::to_string(config.retention_count) + " retention_age_ns=" +
               std::to_string(std::chrono::nanoseconds(config.retention_age).count()) +
               " max_record_bytes=" + std::to_string(config.max_record_bytes) +
               " dead_letter=" + (dead_letter ? "1" : "0") + " type=" + type;
    }

    // Empty unless `text` is a descriptor written by str().
    [[nodiscard]] static std::optional<nats_topic_descriptor> parse(std::string_view text) {
        constexpr std::string_view magic = "eddy-topic/1 ";
        if (text.substr(0, magic.size()) != magic) {
            return std::nullopt;
        }
        nats_topic_descriptor d;
        std::string_view rest = text.substr(magic.size());
        // The type comes last: it may contain spaces.
        const std::size_t type_at = rest.find("type=");
        if (type_at == std::string_view::npos) {
            return std::nullopt;
        }
        d.type = std::string(rest.substr(type_at + 5));
        rest = rest.substr(0, type_at);
        try {
            while (!rest.empty()) {
                const std::size_t space = rest.find(' ');
                const std::string_view item = rest.substr(0, space);
                rest =
                    space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
                const std::size_t eq = item.find('=');
                if (eq == std::string_view::npos) {
                    continue;
                }
                const std::string_view k = item.substr(0, eq);
                const std::string v(item.substr(eq + 1));
                if (k == "partitions") {
                    d.config.partitions = std::stoul(v);
                } else if (k == "retention_count") {
                    d.config.retention_count = std::stoul(v);
                } else if (k == "retention_age_ns") {
                    d.config.retention_age = std::chrono::duration_cast<topic_config::duration>(
                        std::chrono::nanoseconds(std::stoll(v)));
                } else if (k == "max_record_bytes") {
                    d.config.max_record_bytes = std::stoul(v);
                } else if (k == "dead_letter") {
                    d.dead_letter = v == "1";
                }
            }
        } catch (const std::exception&) { // std::stoul of a damaged description
            return std::nullopt;
        }
        return d;
    }
};

// NATS header values end at CR/LF, lose surrounding blanks, and an empty one is dropped: such
// bytes (and '%', the escape itself) travel as "%XX", an empty value as a lone "%"; everything
// else as is.
[[nodiscard]] inline std::string nats_escape_header(std::string_view v) {
    if (v.empty()) {
        return "%";
    }
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        const bool edge = i == 0 || i + 1 == v.size();
        if (c == '%' || c == '\r' || c == '\n' || c == '\0' || (edge && (c == ' ' || c == '\t'))) {
            const auto u = static_cast<unsigned char>(c);
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xF];
        } else {
            out += c;
        }
    }
    return out;
}

[[nodiscard]] inline std::string nats_unescape_header(std::string_view v) {
    if (v == "%") {
        return {};
    }
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return -1;
    };
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size() && digit(v[i + 1]) >= 0 && digit(v[i + 2]) >= 0) {
            out += static_cast<char>(digit(v[i + 1]) * 16 + digit(v[i + 2]));
            i += 2;
        } else {
            out += v[i];
        }
    }
    return out;
}

} // namespace eddy::detail
