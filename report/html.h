// Building blocks of the self-contained HTML reports: escaping, number formatting, the page
// frame (inline CSS, no scripts, no network) and tables. Every text that comes from data
// (column names, labels, values) goes through escape().
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace tabpilot::html {

std::string escape(std::string_view text);  // & < > " ' as entities
// Short human form: 4 significant digits, thousands without exponent ("12345", "0.01234").
std::string num(double v, int digits = 4);
std::string percent(double fraction, int decimals = 1);  // 0.123 -> "12.3%"

// A whole page: <title>, a header with the title and subtitle, then `body` (already HTML).
std::string page(std::string_view title, std::string_view subtitle, std::string_view body);
std::string section(std::string_view heading, std::string_view body_html, std::string_view id = "");
std::string paragraph(std::string_view text);  // escaped
// A table of escaped cells; `numeric_cols` right-aligned.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows,
                  const std::vector<size_t>& numeric_cols = {});
// Same, with cells that are already HTML (links, badges).
std::string table_html(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows_html,
                       const std::vector<size_t>& numeric_cols = {});
std::string badge(std::string_view text, std::string_view kind);  // kind: high|low|ok|info

}  // namespace tabpilot::html
