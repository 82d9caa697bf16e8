// eddy/postgres/postgres_value.hpp - eddy::postgres_value: a parameter or a result column of the
// SQL a user runs in a unit of work or a query (read-model tables of their own).
#pragma once

#include <cstddef> // std::nullptr_t
#include <cstdint> // std::int64_t
#include <string>  // std::string
#include <variant> // std::variant

namespace eddy {

/// One value of the user's SQL on PostgreSQL: NULL, an integer, a floating-point number or
/// text (the four kinds SQLite has, so a read model's code reads alike on both).
/// As a parameter (`$1`..`$n`, in order) it is sent as text with its type left to the server,
/// which infers it from where the parameter stands (a column it is compared with or inserted
/// into; `$1::bigint` where the statement does not say). Text cannot hold a NUL character
/// (PostgreSQL's text cannot). As a result column: `bigint`, `integer`, `smallint`, `oid` and
/// `boolean` (1 or 0) are integers, `double precision` and `real` are floating-point numbers,
/// SQL NULL is `nullptr`, and every other type is its text (`numeric`, as `sum(bigint)` yields,
/// stays exact as text: cast it in the SQL, `sum(x)::bigint`, for an integer).
///
/// Eager value type; thread-safety: like `std::variant`.
///
///     std::vector<eddy::postgres_value> params{"order-1", std::int64_t{3}, 9.5, nullptr};
using postgres_value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

} // namespace eddy
