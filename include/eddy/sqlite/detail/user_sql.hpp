// eddy/sqlite/detail/user_sql.hpp - runs a user's parameterized SQL (unit-of-work writes,
// queries) on a connection, with the parameter count checked.
#pragma once

#include <cstddef>     // std::size_t, std::nullptr_t
#include <cstdint>     // std::int64_t
#include <string>      // std::string, std::to_string
#include <type_traits> // std::decay_t, std::is_same_v
#include <utility>     // std::move
#include <variant>     // std::visit
#include <vector>      // std::vector

#include <sqlite3.h>

#include <eddy/core/error.hpp>
#include <eddy/sqlite/detail/connection.hpp>
#include <eddy/sqlite/sqlite_value.hpp>

namespace eddy::detail {

inline statement& bind_user_sql(connection& c, const std::string& sql,
                                const std::vector<sqlite_value>& params) {
    statement& s = c.cached_text(sql);
    if (static_cast<std::size_t>(s.parameters()) != params.size()) {
        throw error("eddy::sqlite: \"" + sql + "\" takes " + std::to_string(s.parameters()) +
                    " parameters, " + std::to_string(params.size()) + " given");
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
        const int at = static_cast<int>(i) + 1;
        std::visit(
            [&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::nullptr_t>) {
                    s.bind_null(at);
                } else {
                    s.bind(at, v);
                }
            },
            params[i]);
    }
    return s;
}

// Runs `sql`; returns the rows it yields (none for a write) and sets `changed` (rows changed).
inline std::vector<sqlite_row> run_user_sql(connection& c, const std::string& sql,
                                            const std::vector<sqlite_value>& params,
                                            std::int64_t* changed = nullptr) {
    statement& s = bind_user_sql(c, sql, params);
    const std::int64_t before = c.total_changes();
    std::vector<sqlite_row> rows;
    while (s.step()) {
        std::vector<sqlite_value> columns;
        const int n = s.columns();
        columns.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            switch (s.type(i)) {
            case SQLITE_INTEGER:
                columns.emplace_back(s.int64(i));
                break;
            case SQLITE_FLOAT:
                columns.emplace_back(s.real(i));
                break;
            case SQLITE_NULL:
                columns.emplace_back(nullptr);
                break;
            default: // TEXT, and BLOB read as its bytes
                columns.emplace_back(s.text(i));
                break;
            }
        }
        rows.emplace_back(std::move(columns));
    }
    if (changed != nullptr) {
        *changed = c.total_changes() - before;
    }
    return rows;
}

} // namespace eddy::detail
