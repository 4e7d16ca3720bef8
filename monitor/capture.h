// Endpoint data capture (contract 5.1): *.jsonl files, one record per line, whose
// captureData.endpointInput holds the request body as CSV (headerless, training column order),
// JSON ({"instances": [...]}, a list of rows or JSON lines) or base64 of either. Everything is
// turned into headerless CSV rows so that one CSV path reads captured and uploaded data alike.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tabpilot::monitor {

struct CaptureRows {
  std::string csv;         // headerless CSV, one row per line
  size_t columns = 0;      // fields per row (the most common count among the records)
  size_t files = 0, records = 0, rows = 0;
  size_t bad_records = 0;  // unreadable lines, bad payloads, rows of another width
  std::string first_bad;   // "file:line: why" of the first bad record
};

// Every *.jsonl under `dir` (recursively, in path order). `feature_names` orders JSON
// instances given as objects ({"name": value}); names they lack are missing values.
// Throws InputError when `dir` is not a folder or holds no usable record.
CaptureRows read_capture_dir(const std::filesystem::path& dir,
                             const std::vector<std::string>& feature_names);

// One capture record's input as headerless CSV rows (each ending in '\n'). Throws InputError
// saying what is wrong with it.
std::string capture_record_csv(const nlohmann::json& record,
                               const std::vector<std::string>& feature_names);

std::string base64_decode(const std::string& text);  // throws InputError on bad input

// Fields of each non-empty row of CSV text (quotes respected), with the rows themselves.
struct CsvRowCount {
  std::vector<std::string> rows;
  std::vector<size_t> fields;
};
CsvRowCount split_csv_rows(const std::string& text);

}  // namespace tabpilot::monitor
