// eddy/postgres/detail/user_sql.hpp - a user's parameterized SQL (unit-of-work writes, queries,
// DDL): its parameter count checked against the $n it uses, its values bound as text, its
// result columns typed.
#pragma once

#include <array>        // std::array
#include <cctype>       // std::isalnum, std::isalpha, std::isdigit
#include <charconv>     // std::to_chars, std::from_chars
#include <cstddef>      // std::size_t, std::nullptr_t
#include <cstdint>      // std::int64_t
#include <string>       // std::string, std::to_string
#include <system_error> // std::errc
#include <type_traits>  // std::decay_t, std::is_same_v
#include <utility>      // std::move
#include <variant>      // std::visit
#include <vector>       // std::vector

#include <eddy/core/error.hpp>
#include <eddy/postgres/detail/libpq.hpp>
#include <eddy/postgres/postgres_row.hpp>
#include <eddy/postgres/postgres_value.hpp>

namespace eddy::detail {

// The highest $n of `sql` outside literals, quoted identifiers, comments and dollar-quoted
// strings: the number of parameters the server will want.
inline std::size_t pg_parameter_count(const std::string& sql) {
    const std::size_t n = sql.size();
    auto ident = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$';
    };
    std::size_t highest = 0;
    std::size_t i = 0;
    while (i < n) {
        const char c = sql[i];
        if (c == '\'') { // a literal; E'...' takes backslash escapes
            const bool escapes =
                i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i < 2 || !ident(sql[i - 2]));
            for (++i; i < n; ++i) {
                if (escapes && sql[i] == '\\') {
                    ++i;
                } else if (sql[i] == '\'') {
                    if (i + 1 < n && sql[i + 1] == '\'') {
                        ++i; // '' inside
                    } else {
                        break;
                    }
                }
            }
            ++i;
        } else if (c == '"') {
            const std::size_t end = sql.find('"', i + 1);
            i = end == std::string::npos ? n : end + 1; // "" inside: two quoted parts in a row
        } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
            const std::size_t end = sql.find('\n', i);
            i = end == std::string::npos ? n : end + 1;
        } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            int depth = 1; // PostgreSQL's block comments nest
            for (i += 2; i < n && depth > 0; ++i) {
                if (sql.compare(i, 2, "/*") == 0) {
                    ++depth;
                    ++i;
                } else if (sql.compare(i, 2, "*/") == 0) {
                    --depth;
                    ++i;
                }
            }
        } else if (c == '$' && (i == 0 || !ident(sql[i - 1]))) {
            std::size_t j = i + 1;
            if (j < n && std::isdigit(static_cast<unsigned char>(sql[j])) != 0) {
                std::size_t v = 0;
                for (; j < n && std::isdigit(static_cast<unsigned char>(sql[j])) != 0; ++j) {
                    v = v * 10 + static_cast<std::size_t>(sql[j] - '0');
                }
                highest = v > highest ? v : highest;
                i = j;
                continue;
            }
            // $tag$ ... $tag$ (a tag: empty, or an identifier without $)
            while (j < n && sql[j] != '$' &&
                   (std::isalpha(static_cast<unsigned char>(sql[j])) != 0 || sql[j] == '_' ||
                    (j > i + 1 && std::isdigit(static_cast<unsigned char>(sql[j])) != 0))) {
                ++j;
            }
            if (j < n && sql[j] == '$') {
                const std::string tag = sql.substr(i, j - i + 1);
                const std::size_t end = sql.find(tag, j + 1);
                i = end == std::string::npos ? n : end + tag.size();
            } else {
                i = j;
            }
        } else if (ident(c)) {
            while (i < n && ident(sql[i])) {
                ++i; // a name (with $ in it) or a number
            }
        } else {
            ++i;
        }
    }
    return highest;
}

// `params` for `sql`, as text; an `eddy::error` when their number is not what `sql` uses.
inline pg_params pg_user_params(const std::string& sql, const std::vector<postgres_value>& params) {
    const std::size_t wanted = pg_parameter_count(sql);
    if (wanted != params.size()) {
        throw error("eddy::postgres: \"" + sql + "\" takes " + std::to_string(wanted) +
                    " parameters ($1..$n), " + std::to_string(params.size()) + " given");
    }
    pg_params out;
    for (const postgres_value& p : params) {
        std::visit(
            [&out](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::nullptr_t>) {
                    out.null();
                } else if constexpr (std::is_same_v<T, std::int64_t>) {
                    out.integer(v);
                } else if constexpr (std::is_same_v<T, double>) {
                    std::array<char, 32> text{}; // the shortest text that reads back exactly
                    const auto r = std::to_chars(text.data(), text.data() + text.size(), v);
                    out.text(std::string(text.data(), r.ptr));
                } else {
                    out.text(v);
                }
            },
            p);
    }
    return out;
}

// The rows of a result, each column typed by its PostgreSQL type (see postgres_value).
inline std::vector<postgres_row> pg_user_rows(const pg_rows& rows) {
    constexpr Oid boolean = 16, int8 = 20, int2 = 21, int4 = 23, oid = 26, float4 = 700,
                  float8 = 701;
    std::vector<postgres_row> out;
    out.reserve(static_cast<std::size_t>(rows.size()));
    const int columns = rows.columns();
    for (int r = 0; r < rows.size(); ++r) {
        std::vector<postgres_value> values;
        values.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) {
            if (rows.null(r, c)) {
                values.emplace_back(nullptr);
                continue;
            }
            const Oid type = rows.type(c);
            if (type == boolean) {
                values.emplace_back(std::int64_t{rows.boolean(r, c) ? 1 : 0});
            } else if (type == int8 || type == int2 || type == int4 || type == oid) {
                values.emplace_back(rows.i64(r, c));
            } else if (type == float4 || type == float8) {
                const std::string text = rows.text(r, c);
                double v = 0;
                const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
                if (ec != std::errc{} || end != text.data() + text.size()) {
                    throw error("eddy::postgres: not a floating-point number: '" + text + "'");
                }
                values.emplace_back(v);
            } else {
                values.emplace_back(rows.text(r, c));
            }
        }
        out.emplace_back(std::move(values));
    }
    return out;
}

} // namespace eddy::detail
