// eddy/sqlite/sqlite_value.hpp - eddy::sqlite_value and eddy::sqlite_row: the parameters and
// results of the SQL a user runs in a unit of work or a query (read-model tables of their own).
#pragma once

#include <cstddef> // std::nullptr_t, std::size_t
#include <cstdint> // std::int64_t
#include <string>  // std::string
#include <utility> // std::move
#include <variant> // std::variant, std::get_if, std::holds_alternative
#include <vector>  // std::vector

#include <eddy/core/error.hpp>

namespace eddy {

/// One SQLite value: NULL, INTEGER, REAL or TEXT (BLOBs are not used by eddy's tables).
using sqlite_value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

/// One result row of `sqlite_storage::query`, its columns in SELECT order. `integer(i)`,
/// `real(i)` and `text(i)` read a column of that type; `is_null(i)`. A column of another type,
/// or an index past the end, is an `eddy::error` naming it (never a silent default).
///
///     for (const eddy::sqlite_row& r : rows) total += r.integer(1);
class sqlite_row {
public:
    sqlite_row() = default;
    explicit sqlite_row(std::vector<sqlite_value> columns) : m_columns(std::move(columns)) {}

    [[nodiscard]] std::size_t size() const noexcept { return m_columns.size(); }
    [[nodiscard]] const sqlite_value& operator[](std::size_t i) const { return at(i); }
    [[nodiscard]] bool is_null(std::size_t i) const {
        return std::holds_alternative<std::nullptr_t>(at(i));
    }
    [[nodiscard]] std::int64_t integer(std::size_t i) const {
        return get<std::int64_t>(i, "INTEGER");
    }
    [[nodiscard]] double real(std::size_t i) const { return get<double>(i, "REAL"); }
    [[nodiscard]] const std::string& text(std::size_t i) const {
        return get<std::string>(i, "TEXT");
    }

    friend bool operator==(const sqlite_row&, const sqlite_row&) = default;

private:
    const sqlite_value& at(std::size_t i) const {
        if (i >= m_columns.size()) {
            throw error("eddy::sqlite_row: column " + std::to_string(i) + " of a row of " +
                        std::to_string(m_columns.size()));
        }
        return m_columns[i];
    }
    template <class T>
    const T& get(std::size_t i, const char* type) const {
        const T* v = std::get_if<T>(&at(i));
        if (v == nullptr) {
            throw error("eddy::sqlite_row: column " + std::to_string(i) + " is not " + type);
        }
        return *v;
    }

    std::vector<sqlite_value> m_columns;
};

} // namespace eddy
