#include "tabpilot/monitor/capture.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>

#include "tabpilot/common/error.h"
#include "tabpilot/data/csv.h"

namespace fs = std::filesystem;

namespace tabpilot::monitor {

std::string base64_decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;  // '-' and '_': the URL-safe alphabet
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    const int v = value(c);
    if (v < 0) throw InputError(std::string("not base64: unexpected character '") + c + "'");
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits & 0xFF));
    }
  }
  return out;
}

CsvRowCount split_csv_rows(const std::string& text) {
  CsvRowCount out;
  bool quoted = false;
  size_t start = 0, fields = 1;
  auto end_row = [&](size_t end) {
    std::string row = text.substr(start, end - start);
    if (!row.empty() && row.back() == '\r') row.pop_back();
    if (!row.empty()) {
      out.rows.push_back(std::move(row));
      out.fields.push_back(fields);
    }
    fields = 1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') quoted = !quoted;  // "" inside quotes toggles twice: no net change
    else if (!quoted && c == ',') ++fields;
    else if (!quoted && c == '\n') {
      end_row(i);
      start = i + 1;
    }
  }
  if (quoted) throw InputError("unterminated quoted field");
  end_row(text.size());
  return out;
}

namespace {

std::string scalar_text(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  throw InputError("a value is a nested " + std::string(v.type_name()) + ", expected a scalar");
}

// One instance -> one CSV row: a list of values (positional), {"features": [...]}, or an
// object keyed by column name.
std::string instance_row(const nlohmann::json& inst, const std::vector<std::string>& names) {
  std::vector<std::string> fields;
  const nlohmann::json* list = nullptr;
  if (inst.is_array()) list = &inst;
  else if (inst.is_object() && inst.contains("features") && inst["features"].is_array())
    list = &inst["features"];
  if (list) {
    for (const auto& v : *list) fields.push_back(scalar_text(v));
  } else if (inst.is_object()) {
    if (names.empty()) throw InputError("an instance keyed by name, but no column names known");
    for (const auto& n : names) fields.push_back(inst.contains(n) ? scalar_text(inst[n]) : "");
  } else {
    throw InputError("an instance is a " + std::string(inst.type_name()) +
                     ", expected a list or an object");
  }
  std::string row;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) row.push_back(',');
    append_csv_field(row, fields[i]);
  }
  return row + "\n";
}

std::string json_rows(const nlohmann::json& doc, const std::vector<std::string>& names) {
  if (doc.is_object() && doc.contains("instances")) {
    if (!doc["instances"].is_array()) throw InputError("\"instances\" is not a list");
    std::string out;
    for (const auto& inst : doc["instances"]) out += instance_row(inst, names);
    return out;
  }
  // A list of rows, or a single row.
  if (doc.is_array() && !doc.empty() && (doc[0].is_array() || doc[0].is_object())) {
    std::string out;
    for (const auto& inst : doc) out += instance_row(inst, names);
    return out;
  }
  return instance_row(doc, names);
}

std::string json_payload_rows(const std::string& text, const std::vector<std::string>& names) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_discarded()) return json_rows(doc, names);
  std::string out;  // JSON lines
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json row = nlohmann::json::parse(line, nullptr, false);
    if (row.is_discarded()) throw InputError("payload is neither JSON nor JSON lines");
    out += json_rows(row, names);
  }
  return out;
}

bool looks_like_json(const std::string& content_type, const std::string& payload) {
  if (content_type.find("json") != std::string::npos) return true;
  if (content_type.find("csv") != std::string::npos) return false;
  const size_t first = payload.find_first_not_of(" \t\r\n");
  return first != std::string::npos && (payload[first] == '{' || payload[first] == '[');
}

}  // namespace

std::string capture_record_csv(const nlohmann::json& record,
                               const std::vector<std::string>& names) {
  if (!record.is_object() || !record.contains("captureData"))
    throw InputError("no captureData (not an endpoint capture record)");
  const auto& cd = record["captureData"];
  if (!cd.is_object() || !cd.contains("endpointInput"))
    throw InputError("captureData has no endpointInput (capture mode Output only?)");
  const auto& in = cd["endpointInput"];
  if (!in.is_object() || !in.contains("data") || !in["data"].is_string())
    throw InputError("endpointInput has no \"data\" string");
  const std::string encoding = in.value("encoding", "CSV");
  const std::string type = in.value("observedContentType", "");
  std::string payload = in["data"].get<std::string>();
  if (encoding == "BASE64") payload = base64_decode(payload);
  else if (encoding != "CSV" && encoding != "JSON")
    throw InputError("unknown encoding '" + encoding + "' (expected CSV, JSON or BASE64)");
  const bool json = encoding == "JSON" || (encoding == "BASE64" && looks_like_json(type, payload));
  std::string rows = json ? json_payload_rows(payload, names) : payload;
  if (!rows.empty() && rows.back() != '\n') rows.push_back('\n');
  return rows;
}

CaptureRows read_capture_dir(const fs::path& dir, const std::vector<std::string>& names) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(dir.string() + ": not a folder (expected a data capture folder of *.jsonl)");
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".jsonl") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw InputError(dir.string() + ": no *.jsonl capture files under it");

  struct Good {
    std::vector<std::string> rows;
    size_t fields;
    std::string where;
    size_t order;
  };
  std::vector<Good> good;
  CaptureRows out;
  out.files = files.size();
  // Bad records are found in two passes (unreadable ones, then those of another width); the
  // one reported is the earliest in file order.
  size_t first_bad_order = SIZE_MAX;
  auto bad = [&](size_t order, const std::string& where, const std::string& why) {
    ++out.bad_records;
    if (order < first_bad_order) {
      first_bad_order = order;
      out.first_bad = where + ": " + why;
    }
  };
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw InputError(file.string() + ": cannot open");
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      ++out.records;
      const std::string where = file.string() + ":" + std::to_string(n);
      nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
      if (record.is_discarded()) {
        bad(out.records, where, "not JSON");
        continue;
      }
      try {
        CsvRowCount rows = split_csv_rows(capture_record_csv(record, names));
        if (rows.rows.empty()) throw InputError("no rows in the payload");
        for (size_t f : rows.fields)
          if (f != rows.fields[0])
            throw InputError("rows of " + std::to_string(rows.fields[0]) + " and " +
                             std::to_string(f) + " fields in one request");
        good.push_back({std::move(rows.rows), rows.fields[0], where, out.records});
      } catch (const std::exception& e) {
        bad(out.records, where, e.what());
      }
    }
  }
  // The width most requests have is the data's; requests of another width are bad records.
  std::map<size_t, size_t> widths;
  for (const auto& g : good) ++widths[g.fields];
  if (widths.empty())
    throw InputError(dir.string() + ": no readable capture record (" +
                     (out.records == 0
                          ? std::string("the .jsonl files under it hold no records")
                          : std::to_string(out.bad_records) + " bad; first: " + out.first_bad) +
                     ")");
  out.columns = std::max_element(widths.begin(), widths.end(), [](auto& a, auto& b) {
                  return a.second < b.second;
                })->first;
  for (const auto& g : good) {
    if (g.fields != out.columns) {
      bad(g.order, g.where, std::to_string(g.fields) + " fields per row, the other requests have " +
                       std::to_string(out.columns));
      continue;
    }
    for (const auto& r : g.rows) {
      out.csv += r;
      out.csv.push_back('\n');
      ++out.rows;
    }
  }
  return out;
}

}  // namespace tabpilot::monitor
