#include "tabpilot/data/table.h"

#include <cmath>

#include "tabpilot/common/error.h"
#include "tabpilot/data/type_inference.h"

namespace tabpilot {

std::string_view to_string(ColumnType type) {
  switch (type) {
    case ColumnType::kNumeric:
      return "numeric";
    case ColumnType::kCategorical:
      return "categorical";
    case ColumnType::kText:
      return "text";
    case ColumnType::kDatetime:
      return "datetime";
    case ColumnType::kIdLike:
      return "id";
  }
  return "unknown";
}

ColumnType column_type_from_string(std::string_view name) {
  for (ColumnType t : {ColumnType::kNumeric, ColumnType::kCategorical, ColumnType::kText,
                       ColumnType::kDatetime, ColumnType::kIdLike}) {
    if (to_string(t) == name) return t;
  }
  throw InputError("unknown column type '" + std::string(name) +
                   "'; use one of numeric, categorical, text, datetime, id");
}

size_t Column::size() const {
  switch (type) {
    case ColumnType::kNumeric:
      return numeric.size();
    case ColumnType::kCategorical:
      return codes.size();
    case ColumnType::kText:
    case ColumnType::kIdLike:
      return text.size();
    case ColumnType::kDatetime:
      return epoch_seconds.size();
  }
  return 0;
}

bool Column::is_missing(size_t row) const {
  switch (type) {
    case ColumnType::kNumeric:
      return std::isnan(numeric[row]);
    case ColumnType::kCategorical:
      return codes[row] < 0;
    case ColumnType::kText:
    case ColumnType::kIdLike:
      return text_missing[row] != 0;
    case ColumnType::kDatetime:
      return std::isnan(epoch_seconds[row]);
  }
  return false;
}

size_t Column::missing_count() const {
  size_t n = 0;
  const size_t rows = size();
  for (size_t r = 0; r < rows; ++r) n += is_missing(r) ? 1 : 0;
  return n;
}

std::string Column::value_string(size_t row) const {
  if (is_missing(row)) return "";
  switch (type) {
    case ColumnType::kNumeric:
      return detail::format_float(numeric[row]);
    case ColumnType::kCategorical:
      return categories[codes[row]];
    case ColumnType::kText:
    case ColumnType::kIdLike:
      return text[row];
    case ColumnType::kDatetime:
      return detail::format_datetime(epoch_seconds[row]);
  }
  return "";
}

Column Column::take(const std::vector<size_t>& rows) const {
  Column out;
  out.name = name;
  out.type = type;
  out.strays = strays;  // what reading the file found, whichever rows are kept
  out.id_reason = id_reason;
  auto pick = [&rows](const auto& src, auto& dst) {
    dst.reserve(rows.size());
    for (size_t r : rows) dst.push_back(src[r]);
  };
  switch (type) {
    case ColumnType::kNumeric:
      pick(numeric, out.numeric);
      break;
    case ColumnType::kCategorical:
      pick(codes, out.codes);
      out.categories = categories;  // codes keep their meaning across splits
      break;
    case ColumnType::kText:
    case ColumnType::kIdLike:
      pick(text, out.text);
      pick(text_missing, out.text_missing);
      break;
    case ColumnType::kDatetime:
      pick(epoch_seconds, out.epoch_seconds);
      break;
  }
  return out;
}

int Table::find(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const Column& Table::at(std::string_view name) const {
  const int i = find(name);
  if (i < 0) {
    std::string known;
    for (size_t c = 0; c < columns.size() && c < 20; ++c) {
      known += (c ? ", " : "") + columns[c].name;
    }
    if (columns.size() > 20) known += ", ...";
    throw InputError("no column named '" + std::string(name) + "'; the columns are: " + known);
  }
  return columns[i];
}

std::vector<std::string> Table::names() const {
  std::vector<std::string> out;
  out.reserve(columns.size());
  for (const Column& c : columns) out.push_back(c.name);
  return out;
}

Table Table::take(const std::vector<size_t>& rows) const {
  Table out;
  out.num_rows = rows.size();
  out.columns.reserve(columns.size());
  for (const Column& c : columns) out.columns.push_back(c.take(rows));
  return out;
}

}  // namespace tabpilot
