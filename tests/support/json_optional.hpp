// tests/support/json_optional.hpp - std::optional for nlohmann::json 3.11 (3.12 has its own): the
// serializer of nlohmann's README, as an application would write it (eddy defines none, see
// json_codec.hpp). A specialization of nlohmann's, so at namespace scope: in a header, not in a
// test file (tests/CMakeLists.txt compiles test files inside namespaces of their own).
#pragma once

#include <optional> // std::optional, std::nullopt

#include <nlohmann/json.hpp>

#if NLOHMANN_JSON_VERSION_MAJOR == 3 && NLOHMANN_JSON_VERSION_MINOR < 12
NLOHMANN_JSON_NAMESPACE_BEGIN
template <class T>
struct adl_serializer<std::optional<T>> {
    static void to_json(json& j, const std::optional<T>& value) {
        if (value) {
            j = *value;
        } else {
            j = nullptr;
        }
    }
    static void from_json(const json& j, std::optional<T>& value) {
        if (j.is_null()) {
            value = std::nullopt;
        } else {
            value = j.template get<T>();
        }
    }
};
NLOHMANN_JSON_NAMESPACE_END
#endif
