#include "tabpilot/serve/request_body.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "tabpilot/data/type_inference.h"

namespace tabpilot::serve {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr size_t kMaxJsonDepth = 64;  // instances are two or three levels deep

bool blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// A value echoed in an error message, cut short so that a message stays one short line.
std::string echo(std::string_view value) {
  constexpr size_t kMax = 64;
  std::string out = "'" + std::string(value.substr(0, kMax));
  if (value.size() > kMax) out += "...";
  return out + "'";
}

std::string record_name(size_t index) { return "record " + std::to_string(index + 1); }

}  // namespace

TableBuilder::TableBuilder(const InputSchema& schema) : schema_(&schema) {
  table_.columns.resize(schema.names.size());
  for (size_t c = 0; c < schema.names.size(); ++c) {
    table_.columns[c].name = schema.names[c];
    table_.columns[c].type = schema.types[c];
  }
  dictionaries_.resize(schema.names.size());
}

void TableBuilder::reset() {
  for (size_t c = 0; c < table_.columns.size(); ++c) {
    Column& col = table_.columns[c];
    col.numeric.clear();
    col.codes.clear();
    col.categories.clear();
    col.text.clear();
    col.text_missing.clear();
    col.epoch_seconds.clear();
    dictionaries_[c].clear();
  }
  table_.num_rows = 0;
}

std::string TableBuilder::where(size_t col) const {
  return record_name(table_.num_rows) + ", column '" + schema_->names[col] + "'";
}

bool TableBuilder::is_missing(std::string_view value) const {
  for (const std::string& m : schema_->missing_markers)
    if (m == value) return true;
  return false;
}

int32_t TableBuilder::category_code(Column& column, std::string_view value) {
  auto& dictionary = dictionaries_[&column - table_.columns.data()];
  // Few levels per request: a scan beats hashing until the dictionary grows.
  if (column.categories.size() <= 16) {
    for (size_t i = 0; i < column.categories.size(); ++i)
      if (column.categories[i] == value) return static_cast<int32_t>(i);
    if (column.categories.size() == 16)
      for (size_t i = 0; i < column.categories.size(); ++i)
        dictionary.emplace(column.categories[i], static_cast<int32_t>(i));
  } else {
    auto it = dictionary.find(std::string(value));
    if (it != dictionary.end()) return it->second;
  }
  const auto code = static_cast<int32_t>(column.categories.size());
  column.categories.emplace_back(value);
  if (column.categories.size() > 16) dictionary.emplace(column.categories.back(), code);
  return code;
}

void TableBuilder::add_text(size_t col, std::string_view value) {
  Column& column = table_.columns[col];
  const bool missing = is_missing(value);
  switch (column.type) {
    case ColumnType::kNumeric: {
      if (missing) {
        column.numeric.push_back(kNaN);
        return;
      }
      double v;
      if (!detail::parse_number(value, &v))
        throw BadRequest(where(col) + ": " + echo(value) + " is not a number");
      if (std::isnan(v)) {
        column.numeric.push_back(kNaN);
        return;
      }
      if (!(std::fabs(v) <= FLT_MAX))
        throw BadRequest(where(col) + ": " + echo(value) +
                         " is infinite or beyond float range");
      column.numeric.push_back(static_cast<float>(v));
      return;
    }
    case ColumnType::kDatetime: {
      double t = std::numeric_limits<double>::quiet_NaN();
      if (!missing && !detail::parse_datetime(value, &t))
        throw BadRequest(where(col) + ": " + echo(value) +
                         " is not a date (use ISO 8601, e.g. 2020-01-31T12:00:00Z)");
      column.epoch_seconds.push_back(t);
      return;
    }
    case ColumnType::kCategorical:
      column.codes.push_back(missing ? -1 : category_code(column, value));
      return;
    case ColumnType::kText:
    case ColumnType::kIdLike:
      column.text.emplace_back(missing ? std::string_view() : value);
      column.text_missing.push_back(missing ? 1 : 0);
      return;
  }
}

void TableBuilder::add_number(size_t col, double value) {
  Column& column = table_.columns[col];
  if (column.type != ColumnType::kNumeric) {
    // As CSV would spell it: the shortest text that reads back to the same double.
    add_text(col, nlohmann::json(value).dump());
    return;
  }
  if (std::isnan(value)) {
    column.numeric.push_back(kNaN);
    return;
  }
  if (!(std::fabs(value) <= FLT_MAX))
    throw BadRequest(where(col) + ": the number is infinite or beyond float range");
  column.numeric.push_back(static_cast<float>(value));
}

void TableBuilder::add_missing(size_t col) {
  Column& column = table_.columns[col];
  switch (column.type) {
    case ColumnType::kNumeric:
      column.numeric.push_back(kNaN);
      return;
    case ColumnType::kDatetime:
      column.epoch_seconds.push_back(std::numeric_limits<double>::quiet_NaN());
      return;
    case ColumnType::kCategorical:
      column.codes.push_back(-1);
      return;
    case ColumnType::kText:
    case ColumnType::kIdLike:
      column.text.emplace_back();
      column.text_missing.push_back(1);
      return;
  }
}

void TableBuilder::end_record() {
  const size_t want = table_.num_rows + 1;
  for (size_t c = 0; c < table_.columns.size(); ++c)
    if (table_.columns[c].size() != want)
      throw std::logic_error("request table: column '" + schema_->names[c] +
                             "' did not get one value for " + record_name(table_.num_rows));
  table_.num_rows = want;
}

// ---- text/csv --------------------------------------------------------------------------

void parse_csv_body(std::string_view body, TableBuilder& out) {
  out.reset();
  const size_t ncols = out.schema().names.size();
  const size_t n = body.size();
  size_t pos = 0;
  auto count_error = [&](size_t got, bool more) {
    return BadRequest(record_name(out.records()) + ": expected " + std::to_string(ncols) +
                      " values (the training columns without the target, no header row), " +
                      "found " + (more ? "more" : std::to_string(got)));
  };
  while (true) {
    // Empty and blank lines between records are skipped, as the CSV reader does.
    while (pos < n) {
      size_t p = pos;
      while (p < n && blank(body[p])) ++p;
      if (p < n && (body[p] == '\n' || body[p] == '\r')) {
        pos = p + 1;
        continue;
      }
      if (p == n) pos = n;
      break;
    }
    if (pos >= n) break;
    size_t col = 0;
    while (true) {
      while (pos < n && blank(body[pos])) ++pos;
      std::string_view value;
      if (pos < n && body[pos] == '"') {
        std::string& s = out.scratch;
        s.clear();
        ++pos;
        while (true) {
          const size_t h = body.find('"', pos);
          if (h == std::string_view::npos)
            throw BadRequest(record_name(out.records()) + ": unterminated quoted field");
          s.append(body.data() + pos, h - pos);
          pos = h + 1;
          if (pos < n && body[pos] == '"') {  // "" is one literal quote
            s.push_back('"');
            ++pos;
            continue;
          }
          break;
        }
        while (pos < n && blank(body[pos])) ++pos;
        if (pos < n && body[pos] != ',' && body[pos] != '\n' && body[pos] != '\r')
          throw BadRequest(record_name(out.records()) + ": text after a closing quote");
        value = s;
      } else {
        const size_t start = pos;
        while (pos < n && body[pos] != ',' && body[pos] != '\n' && body[pos] != '\r') ++pos;
        value = trim(body.substr(start, pos - start));
      }
      if (col >= ncols) throw count_error(col + 1, true);
      out.add_text(col++, value);
      if (pos < n && body[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < n) pos += body[pos] == '\r' && pos + 1 < n && body[pos + 1] == '\n' ? 2 : 1;
      break;
    }
    if (col != ncols) throw count_error(col, false);
    out.end_record();
  }
  if (out.records() == 0) throw BadRequest("the payload holds no records");
}

// ---- JSON ------------------------------------------------------------------------------

namespace {

using nlohmann::json;

// Rejects nesting deeper than any instance needs before the parser sees it.
void check_depth(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw BadRequest("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

json parse_json(std::string_view text, const std::string& what) {
  check_depth(text);
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw BadRequest(what + ": not valid JSON");
  return j;
}

void add_json_value(TableBuilder& out, size_t col, const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      out.add_missing(col);
      return;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      if (out.schema().types[col] == ColumnType::kNumeric) out.add_number(col, v.get<double>());
      else out.add_text(col, v.dump());
      return;
    case json::value_t::string:
      out.add_text(col, trim(v.get_ref<const std::string&>()));
      return;
    case json::value_t::boolean:
      if (out.schema().types[col] == ColumnType::kNumeric) out.add_number(col, v.get<bool>() ? 1 : 0);
      else out.add_text(col, v.get<bool>() ? "true" : "false");
      return;
    default:
      throw BadRequest(out.where(col) + ": a value must be a number, string, boolean or null");
  }
}

void add_array(TableBuilder& out, const json& values) {
  const size_t ncols = out.schema().names.size();
  if (values.size() != ncols)
    throw BadRequest(record_name(out.records()) + ": expected " + std::to_string(ncols) +
                     " values (the training columns without the target), found " +
                     std::to_string(values.size()));
  for (size_t c = 0; c < ncols; ++c) add_json_value(out, c, values[c]);
  out.end_record();
}

void add_instance(TableBuilder& out, const json& instance) {
  if (instance.is_array()) {
    add_array(out, instance);
    return;
  }
  if (!instance.is_object())
    throw BadRequest(record_name(out.records()) +
                     ": an instance must be an array of values or an object by column name");
  const InputSchema& schema = out.schema();
  auto features = instance.find("features");
  if (features != instance.end() && features->is_array() && instance.size() == 1 &&
      std::find(schema.names.begin(), schema.names.end(), "features") == schema.names.end()) {
    add_array(out, *features);
    return;
  }
  for (const auto& [key, value] : instance.items()) {
    if (key == schema.target) continue;
    if (std::find(schema.names.begin(), schema.names.end(), key) == schema.names.end())
      throw BadRequest(record_name(out.records()) + ": unknown column " + echo(key));
  }
  for (size_t c = 0; c < schema.names.size(); ++c) {
    auto it = instance.find(schema.names[c]);
    if (it == instance.end()) out.add_missing(c);
    else add_json_value(out, c, *it);
  }
  out.end_record();
}

}  // namespace

void parse_json_body(std::string_view body, TableBuilder& out) {
  out.reset();
  const json j = parse_json(body, "the payload");
  const auto instances = j.is_object() ? j.find("instances") : j.end();
  if (instances == j.end() || !instances->is_array())
    throw BadRequest("the payload must be {\"instances\": [...]}");
  for (const json& instance : *instances) add_instance(out, instance);
  if (out.records() == 0) throw BadRequest("the payload holds no records");
}

void parse_jsonlines_body(std::string_view body, TableBuilder& out) {
  out.reset();
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = trim(line);
    if (line.empty()) continue;
    add_instance(out, parse_json(line, record_name(out.records())));
  }
  if (out.records() == 0) throw BadRequest("the payload holds no records");
}

}  // namespace tabpilot::serve
