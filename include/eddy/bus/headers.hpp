// eddy/bus/headers.hpp - eddy::headers, the small string-to-string map a bus record carries.
#pragma once

#include <algorithm>        // std::lower_bound
#include <cstddef>          // std::size_t
#include <initializer_list> // std::initializer_list
#include <optional>         // std::optional
#include <string>           // std::string
#include <string_view>      // std::string_view
#include <utility>          // std::pair, std::move
#include <vector>           // std::vector

namespace eddy {

/// The headers of a bus record: a small map from string keys to string values, kept sorted by
/// key (a vector, not a tree: records carry a handful of headers and copy them cheaply).
/// Setting a key that exists replaces its value; iteration is in key order.
///
/// Eager, synchronous value type. Errors: none of its own (allocation failures propagate).
/// Lifetime: a view returned by `get` is valid until the headers are changed or destroyed.
/// Thread-safety: like `std::vector` (const members from many threads; changes by one owner).
///
///     eddy::headers h{{"trace-id", "abc"}, {"source", "web"}};
///     h.set("source", "mobile");
///     h.get("source"); // std::optional<std::string_view>("mobile")
class headers {
public:
    using value_type = std::pair<std::string, std::string>;
    using const_iterator = std::vector<value_type>::const_iterator;

    headers() = default;
    /// The given entries; a key given twice keeps the later value.
    headers(std::initializer_list<value_type> entries) {
        for (const value_type& e : entries) {
            set(e.first, e.second);
        }
    }

    /// Sets `key` to `value`, replacing an existing value.
    void set(std::string key, std::string value) {
        auto it = find(key);
        if (it != m_entries.end() && it->first == key) {
            it->second = std::move(value);
        } else {
            m_entries.emplace(it, std::move(key), std::move(value));
        }
    }

    /// The value of `key`, or an empty optional.
    [[nodiscard]] std::optional<std::string_view> get(std::string_view key) const {
        auto it = find(key);
        if (it != m_entries.end() && it->first == key) {
            return std::string_view(it->second);
        }
        return std::nullopt;
    }

    /// Whether `key` is set.
    [[nodiscard]] bool contains(std::string_view key) const { return get(key).has_value(); }

    /// Removes `key`; returns whether it was set.
    bool erase(std::string_view key) {
        auto it = find(key);
        if (it != m_entries.end() && it->first == key) {
            m_entries.erase(it);
            return true;
        }
        return false;
    }

    [[nodiscard]] std::size_t size() const noexcept { return m_entries.size(); }
    [[nodiscard]] bool empty() const noexcept { return m_entries.empty(); }
    [[nodiscard]] const_iterator begin() const noexcept { return m_entries.begin(); }
    [[nodiscard]] const_iterator end() const noexcept { return m_entries.end(); }

    friend bool operator==(const headers&, const headers&) = default;

private:
    std::vector<value_type>::iterator find(std::string_view key) {
        return std::lower_bound(
            m_entries.begin(), m_entries.end(), key,
            [](const value_type& e, std::string_view k) { return e.first < k; });
    }
    [[nodiscard]] const_iterator find(std::string_view key) const {
        return std::lower_bound(
            m_entries.begin(), m_entries.end(), key,
            [](const value_type& e, std::string_view k) { return e.first < k; });
    }

    std::vector<value_type> m_entries; // sorted by key, keys unique
};

} // namespace eddy
