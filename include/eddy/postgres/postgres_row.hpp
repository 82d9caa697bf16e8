// eddy/postgres/postgres_row.hpp - eddy::postgres_row: one result row of the user's SQL on
// PostgreSQL (`postgres_storage::query`), its columns typed.
#pragma once

#include <cstddef> // std::nullptr_t, std::size_t
#include <cstdint> // std::int64_t
#include <string>  // std::string, std::to_string
#include <utility> // std::move
#include <variant> // std::get_if, std::holds_alternative
#include <vector>  // std::vector

#include <eddy/core/error.hpp>
#include <eddy/postgres/postgres_value.hpp>

namespace eddy {

/// One result row of `postgres_storage::query`, its columns in SELECT order (their kinds: see
/// `postgres_value`). `integer(i)`, `real(i)` and `text(i)` read a column of that kind;
/// `is_null(i)` tells SQL NULL. A column of another kind (NULL included), or an index past the
/// end, is an `eddy::error` naming it: never a silent default or conversion.
///
/// Eager value type. Thread-safety: like `std::vector` (const members may be called
/// concurrently). Lifetime: owns its values (nothing refers to the connection or the result).
///
///     for (const eddy::postgres_row& r : co_await db.query("SELECT id, total FROM view"))
///         sum += r.integer(1);
class postgres_row {
public:
    postgres_row() = default;
    explicit postgres_row(std::vector<postgres_value> columns) : m_columns(std::move(columns)) {}

    /// The number of columns.
    [[nodiscard]] std::size_t size() const noexcept { return m_columns.size(); }
    /// Column `i` as it came (an `eddy::error` past the end).
    [[nodiscard]] const postgres_value& operator[](std::size_t i) const { return at(i); }
    /// Whether column `i` is SQL NULL.
    [[nodiscard]] bool is_null(std::size_t i) const {
        return std::holds_alternative<std::nullptr_t>(at(i));
    }
    /// Column `i`, an integer (bigint, integer, smallint, oid, boolean).
    [[nodiscard]] std::int64_t integer(std::size_t i) const {
        return get<std::int64_t>(i, "an integer");
    }
    /// Column `i`, a floating-point number (double precision, real).
    [[nodiscard]] double real(std::size_t i) const {
        return get<double>(i, "a floating-point number");
    }
    /// Column `i`, text (any other type, in PostgreSQL's text form).
    [[nodiscard]] const std::string& text(std::size_t i) const {
        return get<std::string>(i, "text");
    }

    friend bool operator==(const postgres_row&, const postgres_row&) = default;

private:
    const postgres_value& at(std::size_t i) const {
        if (i >= m_columns.size()) {
            throw error("eddy::postgres_row: no column " + std::to_string(i) + " in a row of " +
                        std::to_string(m_columns.size()));
        }
        return m_columns[i];
    }
    template <class T>
    const T& get(std::size_t i, const char* kind) const {
        const T* v = std::get_if<T>(&at(i));
        if (v == nullptr) {
            const char* is = is_null(i) ? " (it is NULL)" : "";
            throw error("eddy::postgres_row: column " + std::to_string(i) + " is not " + kind + is);
        }
        return *v;
    }

    std::vector<postgres_value> m_columns;
};

} // namespace eddy
